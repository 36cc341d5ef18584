#!/usr/bin/env bash
# One side-by-side session: load average, memory bandwidth, llama.cpp (node-llama-cpp, Q8_0 GGUF) and Tessera
# (`bench` on the FP8 checkpoint, CPU backend), the same prompt and generated lengths and 2 threads each.
# Usage (from the repository root, node built): tools/bench/side_by_side.sh CHECKPOINT_DIR GGUF NODE_DIR \
#          [PROMPT_TOKENS=16] [GEN_TOKENS=8] [RUNS=2]
# NODE_DIR holds node_modules with node-llama-cpp@3.22.1 (see README).
set -euo pipefail
ckpt=$1 gguf=$2 node_dir=$3 p=${4:-16} n=${5:-8} runs=${6:-2}
here=$(cd "$(dirname "$0")" && pwd)
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
echo "== $(date -u) load: $(uptime | sed 's/.*load average: //'); cores: $(nproc)"
"$java" -Xmx3g "$here/MemBandwidth.java" 2 512 5
cp "$here/llama_cpp_bench.mjs" "$node_dir/"
echo "== $(date -u) load: $(uptime | sed 's/.*load average: //')"
(cd "$node_dir" && node llama_cpp_bench.mjs --model "$gguf" --threads 2 --prompt-tokens "$p" --gen-tokens "$n" \
   --runs "$runs" --warmup 1 --kv f32)
echo "== $(date -u) load: $(uptime | sed 's/.*load average: //')"
TESSERA_NO_BUILD=1 TESSERA_OPTS="-XX:ActiveProcessorCount=2 ${TESSERA_OPTS:-}" ./tessera -c \
  "model:load --name bench $ckpt; bench --model bench --prompt-tokens $p --gen-tokens $n --runs $runs --warmup 1" 2>&1 | grep -v "^INFO\|WARN\|layer\|spifly\|Registered"
echo "== $(date -u) load: $(uptime | sed 's/.*load average: //')"
python3 "$here/bytes_per_token.py" "$ckpt"
