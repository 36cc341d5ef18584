#!/usr/bin/env bash
# Rebuilds the api baseline that bnd baselining compares against: the api bundle as of git revision REV, built
# with version VERSION, written as a one-artifact Maven repository under cnf/baseline/ (commit the result).
#   tools/api/make_baseline.sh [REV] [VERSION]     defaults: 50b882b (the commit that defined the 0.1.0 api) and 0.1.0
# The build is reproducible (fixed outputTimestamp): rebuilding from the same revision gives the same bytes.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rev=${1:-50b882b}
version=${2:-0.1.0}
. "$root/.ci/find-jdk.sh"
JAVA_HOME=$(tessera_find_jdk); export JAVA_HOME
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
git -C "$root" archive "$rev" | tar -x -C "$scratch"
# the release version in the parent and the api poms only: nothing else of the reactor is built
sed -i "s|<version>[^<]*-SNAPSHOT</version>|<version>$version</version>|" "$scratch/pom.xml" "$scratch/bundles/api/pom.xml"
# an api whose pom already baselines would look for itself: build it without that check
(cd "$scratch" && ./mvnw -B -q -o package -DskipTests -Dbnd.baseline.skip=true -f bundles/api/pom.xml)
out="$root/cnf/baseline/io/tessera/api/$version"
mkdir -p "$out"
cp "$scratch/bundles/api/target/api-$version.jar" "$out/api-$version.jar"
cat > "$out/api-$version.pom" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.tessera</groupId>
  <artifactId>api</artifactId>
  <version>$version</version>
  <description>Baseline of the Tessera api, built by tools/api/make_baseline.sh from $rev</description>
</project>
POM
echo "baseline io.tessera:api:$version from $rev -> ${out#"$root"/}"
unzip -p "$out/api-$version.jar" META-INF/MANIFEST.MF | tr -d '\r' | sed -n '/^Export-Package/,/^[A-Z][a-z-]*:/p' | head -8
