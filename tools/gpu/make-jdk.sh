#!/usr/bin/env bash
# Builds a small JDK 25 runtime image for the GPU machine into .jdk/ (git-ignored) with jlink: java.base,
# jdk.incubator.vector and every module the node's bundles, Felix, Gogo, SLF4J and the GPU test runner need, as
# jdeps reports them over the built jars. Needs the jars built first (tools/gpu/prepare.sh does both).
# Usage: tools/gpu/make-jdk.sh        (JAVA_HOME: a JDK >= 25, e.g. Temurin 25)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
. .ci/find-jdk.sh
jdk=$(tessera_find_jdk)
# a JDK without jmods/ links from its own run-time image (JEP 493, e.g. Temurin 25)
node=distribution/target/tessera.jar
[ -f "$node" ] || { echo "make-jdk: $node missing: build first (tools/gpu/prepare.sh)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && "$jdk/bin/jar" xf "$root/$node")
jars=$(find "$work" -name '*.jar'; ls kernels-cuda/target/*.jar kernels-cuda/target/gpu-lib/*.jar 2>/dev/null || true)
# one jdeps run per jar (bundles may split packages); the union of their module lists
modules=$(for j in $jars "$node" kernels-cuda/target/test-classes; do
            "$jdk/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps "$j" 2>/dev/null \
              | grep -E '^[a-z][a-z0-9.]*(,[a-z][a-z0-9.]*)*$' || true
          done | tr ',' '\n' | sort -u | paste -sd, -)
[ -n "$modules" ] || { echo "make-jdk: jdeps found no modules" >&2; exit 1; }
# the Vector API (added with --add-modules, so jdeps cannot see it) and Unsafe (sun.misc, for libraries that
# probe for it); no extra locales or charsets: they would double the image
# java.desktop only for jline's ConsoleEngineImpl (java.awt.Desktop), which the Gogo shell never loads: dropping it
# keeps the carried tree under 64 MiB
modules=$(echo "$modules,jdk.incubator.vector,jdk.unsupported" | tr ',' '\n' | grep -vx java.desktop | paste -sd, -)
echo "make-jdk: modules $modules"
rm -rf .jdk
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=zip-9 \
  --output .jdk
.jdk/bin/java --version | head -1
echo "make-jdk: .jdk is $(du -sh .jdk | cut -f1)"
