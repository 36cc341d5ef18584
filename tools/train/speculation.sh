#!/usr/bin/env bash
# Speculative decoding on the embedded model over held-out Java prompts (tools/train/heldout_prompts.ids):
# each prompt is generated greedily with 3 drafts and again without (`generate --compare`), in one node.
# Prints per-prompt lines and the totals: acceptance length (tokens per verify step, bonus included),
# per-head acceptance and the wall-clock speedup of decode.
#   tools/train/speculation.sh [MAX_TOKENS] [DRAFTS]
set -euo pipefail
cd "$(dirname "$0")/../.."
max=${1:-96}
drafts=${2:-3}
# one unmeasured pass over the first prompt warms the JIT up
script="generate --drafts $drafts --compare --max-tokens $max --ids $(head -1 tools/train/heldout_prompts.ids)"$'\n'
script+="echo measured"$'\n'
while IFS= read -r ids; do
    script+="generate --drafts $drafts --compare --max-tokens $max --ids $ids"$'\n'
done < tools/train/heldout_prompts.ids
./tessera -c "$script" | tee /dev/stderr | awk '
    function after(word,   i) { for (i = 1; i < NF; i++) if ($i == word) return $(i + 1) + 0; return 0 }
    /^measured$/ { steps = tokens = draft = verify = spec_time = plain_time = runs = 0; delete accepted }
    /^\[speculative:/ { n = after("over"); steps += n; tokens += after("length") * n
                        for (i = 1; i < NF; i++) if ($i == "head") { heads = $(i + 1) + 1; accepted[$(i + 1)] += ($(i + 2) + 0) * n }
                        draft += after("draft"); verify += after("verify") }
    /^\[(stop|length):/ { n = after("generated"); rate = $10 + 0; if (rate > 0) spec_time += (n - 1) / rate }
    /^\[without drafts:/ { n = $3 + 0; rate = $5 + 0; if (rate > 0) plain_time += (n - 1) / rate; runs++ }
    END { printf "prompts %d: acceptance length %.2f tokens/step over %d steps; draft %.2f s, verify %.2f s; " \
                 "decode time with drafts %.2f s, without %.2f s: speedup %.2fx\n",
                 runs, tokens / steps, steps, draft, verify, spec_time, plain_time, plain_time / spec_time
          for (k = 0; k < heads; k++) printf "head %d: its draft accepted in %.1f%% of verify steps\n", k, accepted[k] / steps }'
