#!/usr/bin/env bash
# Decode stability across fresh launches: LAUNCHES times, alternately, a fresh llama.cpp (node-llama-cpp, Q8_0)
# and a fresh Tessera node decode the same lengths; prints each launch's decode tok/s and load average, then per
# engine the median and the largest deviation from it (llama.cpp shows the host's own noise), and `vmstat 1`
# runnable threads sampled during each Tessera launch.
# Usage (repository root, node built): tools/bench/stability.sh CHECKPOINT_DIR GGUF NODE_DIR [LAUNCHES=5] \
#          [PROMPT_TOKENS=16] [GEN_TOKENS=32] [THREADS=2]
set -euo pipefail
ckpt=$1 gguf=$2 node_dir=$3 launches=${4:-5} p=${5:-16} n=${6:-32} t=${7:-2}
here=$(cd "$(dirname "$0")" && pwd)
vmlog=$(mktemp); trap 'rm -f "$vmlog"' EXIT
cp "$here/llama_cpp_bench.mjs" "$node_dir/"
load() { uptime | sed 's/.*load average: //'; }
llama=() tessera=()
for i in $(seq "$launches"); do
  d=$( (cd "$node_dir" && node llama_cpp_bench.mjs --model "$gguf" --threads "$t" --prompt-tokens "$p" \
        --gen-tokens "$n" --runs 1 --warmup 1 --kv f32) | sed -n 's/^llama.cpp: .*decode median \([0-9.]*\).*/\1/p')
  llama+=("$d")
  echo "launch $i llama.cpp decode $d tok/s (load $(load))"
  vmstat 1 > "$vmlog" & vm=$!
  d=$(TESSERA_NO_BUILD=1 TESSERA_OPTS="-XX:ActiveProcessorCount=$t ${TESSERA_OPTS:-}" ./tessera -c \
        "model:load --name bench $ckpt; bench --model bench --prompt-tokens $p --gen-tokens $n --runs 1 --warmup 1" 2>&1 \
        | sed -n 's/^drafts default: .*decode median \([0-9.]*\).*/\1/p')
  kill "$vm"
  tessera+=("$d")
  echo "launch $i tessera decode $d tok/s (load $(load); vmstat runnable: $(awk 'NR>2 {print $1}' "$vmlog" | sort -n | uniq -c | awk '{printf "%s×%s ", $1, $2}'))"
done
python3 - "${llama[*]}" "${tessera[*]}" <<'PY'
import statistics, sys
for name, xs in (("llama.cpp", sys.argv[1]), ("tessera", sys.argv[2])):
    v = [float(x) for x in xs.split()]
    m = statistics.median(v)
    print(f"{name}: decode median {m:.2f} tok/s over {len(v)} launches, {min(v):.2f}–{max(v):.2f} "
          f"({(min(v) / m - 1) * 100:+.1f} % / {(max(v) / m - 1) * 100:+.1f} %)")
PY
