#!/usr/bin/env bash
# Runs on the GPU machine, in the repository root, with .jdk, kernels-cuda/target and distribution/target carried
# from tools/gpu/prepare.sh. Writes under $OUT (default ./gpu-results): nvidia-smi.txt, probe + unit and GPU tests
# (tests.txt), the benchmark (bench.txt), and the node's cuda:status (node.txt). Exits non-zero if the tests fail.
# Usage: tools/gpu/verify.sh [HBM peak GB/s for the benchmark's % column, default 3350 = H100 SXM]
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
out=${OUT:-$root/gpu-results}
mkdir -p "$out"
java=.jdk/bin/java
[ -x "$java" ] || { echo "verify: .jdk missing: run tools/gpu/prepare.sh and carry .jdk" >&2; exit 2; }
flags=(--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
cp="kernels-cuda/target/classes:kernels-cuda/target/test-classes:$(ls kernels-cuda/target/gpu-lib/*.jar | tr '\n' ':')"
export TESSERA_CUDA_PATH=${TESSERA_CUDA_PATH:-}   # extra library folders, if the machine keeps CUDA elsewhere

{ nvidia-smi; nvidia-smi -q | grep -iE 'product name|driver version|cuda version|clocks|max clocks|memory' ; } \
  > "$out/nvidia-smi.txt" 2>&1
ls -d /usr/local/cuda*/lib64 /usr/lib/x86_64-linux-gnu/libcuda.so* 2>/dev/null >> "$out/nvidia-smi.txt"

# without NVRTC on the machine, an H100/H200 loads the sm_90a CUBINs the build made with nvcc
flags+=(-Dtessera.cuda.prebuilt="$root/kernels-cuda/target/cubin" -Dtessera.cuda.cache="$out/kernel-cache")
echo "== tests" && "$java" "${flags[@]}" -cp "$cp" \
  io.tessera.kernels.cuda.GpuVerify 2>&1 | tee "$out/tests.txt"
tests=${PIPESTATUS[0]}

echo "== benchmark" && timeout 300 "$java" "${flags[@]}" -cp "$cp" io.tessera.kernels.cuda.CudaBench "${1:-3350}" \
  2>&1 | tee "$out/bench.txt"

# the node as ./tessera -c starts it (./tessera itself wants a full JDK with javac; .jdk has no compiler)
echo "== node" && storage=$(mktemp -d) && timeout 120 "$java" "${flags[@]}" -Dtessera.home="$root" \
  -Dfelix.fileinstall.dir="$root/distribution/conf" -Dorg.osgi.framework.storage="$storage" \
  -Dtessera.command='lb; cuda:status' "-Dgosh.args=--nointeractive --noshutdown" -Dorg.jline.terminal.dumb=true \
  -jar distribution/target/tessera.jar 2>&1 | tee "$out/node.txt"
rm -rf "$storage"
echo "verify: tests exit $tests; results in $out"
exit "$tests"
