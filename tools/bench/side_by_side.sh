#!/usr/bin/env bash
# One side-by-side session, printed as one table at the end: load average, memory bandwidth (C STREAM and
# MemBandwidth.java, alternately, the median of their best-of-reps), llama.cpp (node-llama-cpp, Q8_0 GGUF) and
# Tessera (`bench` on the FP8 checkpoint, CPU backend) with the same prompt and generated lengths, for each
# thread count; the ratios, and decode's share of the read bandwidth (weight bytes per token from the checkpoint).
# Usage (from the repository root, node built): tools/bench/side_by_side.sh CHECKPOINT_DIR GGUF NODE_DIR \
#          [PROMPT_TOKENS=16] [GEN_TOKENS=8] [RUNS=2] [THREADS="2"]
# NODE_DIR holds node_modules with node-llama-cpp@3.22.1 (see README). C STREAM: ../shared/bench/run.sh beside the repository
# (override with STREAM_SH). Every run's own lines are logged above the table.
set -euo pipefail
ckpt=$1 gguf=$2 node_dir=$3 p=${4:-16} n=${5:-8} runs=${6:-2} threads=${7:-2}
here=$(cd "$(dirname "$0")" && pwd)
stream_sh=${STREAM_SH:-$here/../../../shared/bench/run.sh}
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
log=$(mktemp)
trap 'rm -f "$log"' EXIT
load() { uptime | sed 's/.*load average: //'; }
say() { echo "$*" | tee -a "$log"; }

say "== start $(date -u +%H:%M:%S) load $(load); cores $(nproc)"
for i in 1 2 3; do
  say "c-stream $("$stream_sh" 2 100000000 10 | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["read_GBs_best"], j["triad_GBs_best"])')"
  say "java-stream $("$java" --add-modules jdk.incubator.vector "$here/MemBandwidth.java" 2 2048 800 10 2>/dev/null \
        | sed -n 's/.*best read \([0-9.]*\) GB\/s, best triad \([0-9.]*\).*/\1 \2/p')"
done
cp "$here/llama_cpp_bench.mjs" "$node_dir/"
for t in $threads; do
  say "== llama.cpp threads $t $(date -u +%H:%M:%S) load $(load)"
  (cd "$node_dir" && node llama_cpp_bench.mjs --model "$gguf" --threads "$t" --prompt-tokens "$p" --gen-tokens "$n" \
     --runs "$runs" --warmup 1 --kv f32) | tee -a "$log" | sed "s/^llama.cpp: /llama.cpp-$t: /" >> "$log"
  say "== tessera threads $t $(date -u +%H:%M:%S) load $(load)"
  TESSERA_NO_BUILD=1 TESSERA_OPTS="-XX:ActiveProcessorCount=$t ${TESSERA_OPTS:-}" ./tessera -c \
    "model:load --name bench $ckpt; bench --model bench --prompt-tokens $p --gen-tokens $n --runs $runs --warmup 1" 2>&1 \
    | grep -v "^INFO\|WARN\|layer\|spifly\|Registered" | tee -a "$log" | sed -n "s/^drafts default: /tessera-$t: /p" >> "$log"
done
say "== end $(date -u +%H:%M:%S) load $(load)"
python3 "$here/bytes_per_token.py" "$ckpt" | tee -a "$log"

python3 - "$log" "$p" "$n" "$threads" <<'EOF'
import re, statistics, sys
log, p, n, threads = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], sys.argv[4].split()
def pairs(tag):
    return [tuple(map(float, m)) for m in re.findall(rf"^{tag} ([\d.]+) ([\d.]+)$", log, re.M)]
def med(xs):
    return statistics.median(xs)
c, j = pairs("c-stream"), pairs("java-stream")
c_read, c_triad, j_read, j_triad = med([x[0] for x in c]), med([x[1] for x in c]), med([x[0] for x in j]), med([x[1] for x in j])
mb = float(re.search(r"total per token\s+([\d.]+) MB", log).group(1))
loads = re.findall(r"load ([\d.]+), ([\d.]+), ([\d.]+)", log)
print()
print(f"| figure | value |")
print(f"|---|---|")
print(f"| load average (1 min) over the session | {min(float(l[0]) for l in loads):.2f} – {max(float(l[0]) for l in loads):.2f} |")
print(f"| C STREAM read / triad, GB/s (median of 3 best-of-10) | {c_read:.1f} / {c_triad:.1f} |")
print(f"| MemBandwidth.java read / triad, GB/s (same) | {j_read:.1f} / {j_triad:.1f} ({j_read / c_read:.2f} / {j_triad / c_triad:.2f} of C) |")
print(f"| weight bytes per decoded token | {mb:.1f} MB (read-bandwidth ceiling {c_read * 1e3 / mb:.2f} tok/s) |")
for t in threads:
    l = re.search(rf"^llama.cpp-{t}: prefill median ([\d.]+).*decode median ([\d.]+)", log, re.M)
    s = re.search(rf"^tessera-{t}: prefill median ([\d.]+).*decode median ([\d.]+)", log, re.M)
    lp, ld, tp, td = float(l.group(1)), float(l.group(2)), float(s.group(1)), float(s.group(2))
    print(f"| {t} threads: llama.cpp Q8_0 pp{p} / tg{n}, tok/s | {lp:.2f} / {ld:.2f} |")
    print(f"| {t} threads: Tessera FP8 pp{p} / tg{n}, tok/s | {tp:.2f} / {td:.2f} ({tp / lp:.2f}× / {td / ld:.2f}× llama.cpp) |")
    print(f"| {t} threads: Tessera decode reads | {td * mb / 1e3:.1f} GB/s = {td * mb / 1e3 / c_read:.2f} of C STREAM read |")
EOF
