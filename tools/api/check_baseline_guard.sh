#!/usr/bin/env bash
# Proves that the build guards the api's versions: in a scratch copy of the api module it makes throw-away api
# changes and checks that the api build fails with bnd's baseline message exactly when the package version does
# not step as semantic versioning requires. Run by .ci/run; about 30 s.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/.ci/find-jdk.sh"
JAVA_HOME=$(tessera_find_jdk); export JAVA_HOME
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
(cd "$root" && git ls-files -z -co --exclude-standard pom.xml bnd.bnd mvnw .mvn cnf bundles/api | xargs -0 cp --parents -t "$scratch")
api="$scratch/bundles/api/src/main/java/io/tessera/api"
passed=0; failed=0
build() {  # build the scratch api; prints bnd's findings, returns maven's status
  (cd "$scratch" && ./mvnw -B -o -q verify -f bundles/api/pom.xml > build.log 2>&1)
}
expect() {  # expect ok|fail <what> [message that the failure must contain]
  local want=$1 what=$2 message=${3:-}
  if build; then got=ok; else got=fail; fi
  if [ "$got" = "$want" ] && { [ -z "$message" ] || grep -qF "$message" "$scratch/build.log"; }; then
    echo "ok: $what"; passed=$((passed + 1))
  else
    echo "FAILED: $what (build: $got, expected $want${message:+ with '$message'})"; failed=$((failed + 1))
    grep -E "ERROR|suggests" "$scratch/build.log" | head -20 || true
  fi
}
set_version() {  # set_version <package folder> <version>
  sed -i "s|@org.osgi.annotation.versioning.Version(\"[^\"]*\")|@org.osgi.annotation.versioning.Version(\"$2\")|" \
    "$api/$1/package-info.java"
}

expect ok "the api as committed passes"

# a method added to a provider type (KernelBackend): a minor step is required, and enough (the package goes back
# to the baseline's version first, whatever step it has taken since)
set_version kernel 0.1.0
sed -i 's|^    String name();|    String name();\n\n    int throwAwayOp();|' "$api/kernel/KernelBackend.java"
expect fail "a new KernelBackend method without a version step fails" \
  "io.tessera.api.kernel is 0.1.0 but its change since 0.1.0 is MINOR: bnd suggests 0.2.0"
set_version kernel 0.2.0
expect ok "the same method with io.tessera.api.kernel at 0.2.0 passes"

# a method added to a consumer type (GenerationListener, no longer a functional interface): a minor step is not enough
sed -i '/^@FunctionalInterface$/d; s|^    void onTokens(int\[\] ids);|    void onTokens(int[] ids);\n\n    void throwAwayCallback();|' \
  "$api/model/GenerationListener.java"
set_version model 0.2.0
expect fail "a new GenerationListener method with only a minor step fails" \
  "io.tessera.api.model is 0.2.0 but its change since 0.1.0 is MAJOR: bnd suggests 1.0.0"
set_version model 1.0.0
expect ok "the same method with io.tessera.api.model at 1.0.0 passes"

echo "baseline guard: $passed passed, $failed failed"
[ "$failed" = 0 ]
