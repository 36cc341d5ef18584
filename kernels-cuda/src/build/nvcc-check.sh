#!/usr/bin/env bash
# Compile-checks every CUDA kernel source for Hopper (sm_90a) with nvcc, warnings as errors; the CUBINs go to the
# output folder (unused: NVRTC builds the kernels at activation). Usage: nvcc-check.sh <cuda source dir> <out dir>
set -euo pipefail
src=$1 out=$2
nvcc=$(command -v nvcc || true)
[ -n "$nvcc" ] || nvcc=${CUDA_HOME:-/usr/local/cuda}/bin/nvcc
[ -x "$nvcc" ] || { echo "nvcc-check: nvcc not found (PATH, CUDA_HOME, /usr/local/cuda)" >&2; exit 1; }
mkdir -p "$out"
pids=()
for f in "$src"/*.cu; do
  "$nvcc" -arch=sm_90a -cubin -Werror all-warnings -I"$src" -o "$out/$(basename "${f%.cu}").cubin" "$f" &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
[ $status = 0 ] && echo "nvcc-check: $(ls "$src"/*.cu | wc -l) kernel sources compile for sm_90a ($("$nvcc" --version | tail -1))"
exit $status
