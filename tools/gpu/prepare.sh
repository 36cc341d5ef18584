#!/usr/bin/env bash
# Prepares, on a machine with Maven (no GPU needed), everything tools/gpu/verify.sh runs on a GPU machine:
# the node (distribution/target/tessera.jar), the CUDA module with its test classes and their jars
# (kernels-cuda/target), and a jlink'd JDK (.jdk). Then prints the carried size (the device run's limit is 64 MiB).
# Usage: tools/gpu/prepare.sh [extra Maven arguments, e.g. -o]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
. .ci/find-jdk.sh
JAVA_HOME=$(tessera_find_jdk)
export JAVA_HOME
./mvnw -B -q "$@" -DskipTests package
./mvnw -B -q "$@" -pl kernels-cuda -am -DskipTests test-compile dependency:copy-dependencies \
  -DincludeScope=test -DoutputDirectory=target/gpu-lib
tools/gpu/make-jdk.sh
echo "prepare: carried size $(du -shc .jdk kernels-cuda/target distribution/target $(git ls-files) 2>/dev/null | tail -1 | cut -f1)"
