#!/usr/bin/env bash
# Projected speculative speedup on a bandwidth-bound checkpoint (the MiMo-shaped benchmark checkpoint with MTP
# layers: tools/bench/make_bench_checkpoint.py --mtp-layers 3), from an acceptance length measured elsewhere
# (tools/train/speculation.sh on the embedded model). One node measures, on random prompt ids, the cost of a
# speculative step with DRAFTS drafts (verifying DRAFTS + 1 rows, then running the draft heads) and the cost of
# a plain decode step; the projection is ACCEPTANCE x plain step / speculative step.
#   tools/train/project_speedup.sh CHECKPOINT_DIR ACCEPTANCE_LENGTH [TOKENS=24] [DRAFTS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
ckpt=$1 acceptance=$2 tokens=${3:-24} drafts=${4:-3}
ids=$(awk 'BEGIN { srand(11); for (i = 0; i < 16; i++) printf "%s%d", (i ? "," : ""), int(rand() * 32000) }')
# a short unmeasured run of both first (JIT, page cache); awk keeps the last run's figures
./tessera -c "model:load --name projected $ckpt
generate --model projected --drafts $drafts --compare --max-tokens 6 --ids $ids
generate --model projected --drafts $drafts --compare --max-tokens $tokens --ids $ids" | tee /dev/stderr | awk -v L="$acceptance" -v D="$drafts" '
    function after(word,   i) { for (i = 1; i < NF; i++) if ($i == word) return $(i + 1) + 0; return 0 }
    /^\[speculative:/ { steps = after("over"); step = (after("draft") + after("verify")) / steps }
    /^\[without drafts:/ { plain = 1 / ($5 + 0) }
    /^\[speculative:/ { verify = after("verify") / steps; draft = after("draft") / steps }
    END { printf "per step: verify of %d rows %.3f s, draft heads %.3f s, together %.3f s; plain decode step %.3f s; " \
                 "ratio %.2f; projected speedup at acceptance length %.2f: %.2fx\n",
                 D + 1, verify, draft, step, plain, step / plain, L, L * plain / step }'
