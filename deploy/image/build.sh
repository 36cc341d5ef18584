#!/usr/bin/env bash
# Builds the node's OCI image without a container engine or a registry: a jlink'd Java runtime, the C library
# and friends from Debian's packages, and the node (tessera.jar, the embedded model, the default configuration),
# as three layers of an OCI image layout, archived to deploy/target/tessera-image.tar (load it with
# `podman load -i` or `skopeo copy oci-archive:...`; deploy/image/verify.sh runs it in a chroot).
#   deploy/image/build.sh            needs: the built node (./mvnw package), a JDK 25 with a linkable runtime,
#                                    apt-get (Debian packages are downloaded, never installed), python3
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/.ci/find-jdk.sh"
jdk=$(tessera_find_jdk)
out="$root/deploy/target"
work="$out/image-work"
jar="$root/distribution/target/tessera.jar"
[ -f "$jar" ] || { echo "build: no $jar: run ./mvnw package first" >&2; exit 1; }
rm -rf "$work"; mkdir -p "$work"/{os,jdk,app} "$out"

# layer 1, the OS: glibc, libgcc, zlib unpacked from Debian's packages (what the JVM links against), a passwd for
# the unprivileged user the node runs as, and /tmp
(cd "$work" && apt-get download -q libc6 libgcc-s1 zlib1g >/dev/null)
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/os"; done
rm -rf "$work"/*.deb "$work/os/usr/share/doc" "$work/os/usr/share/lintian" "$work/os/usr/share/locale"
mkdir -p "$work/os/etc" "$work/os/tmp"; chmod 1777 "$work/os/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\ntessera:x:10001:10001:tessera:/opt/tessera:/sbin/nologin\n' \
  > "$work/os/etc/passwd"
printf 'root:x:0:\ntessera:x:10001:\n' > "$work/os/etc/group"

# layer 2, the Java runtime: only the modules the node's bundles import (jlink from the JDK's own runtime image)
"$jdk/bin/jlink" --add-modules java.base,java.logging,java.management,java.management.rmi,java.rmi,java.naming,\
java.net.http,java.xml,java.sql,jdk.unsupported,jdk.incubator.vector,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress=zip-6 --output "$work/jdk/opt/java" 2>/dev/null

# layer 3, the node: the jar, the embedded model, the Gogo profile, the bundles folder, and the default
# configuration in /etc/tessera (mount a folder there to configure the node)
app="$work/app/opt/tessera"
mkdir -p "$app/distribution/bundles" "$work/app/etc/tessera"
cp "$jar" "$app/tessera.jar"
cp -r "$root/distribution/model" "$root/distribution/gosh" "$app/distribution/"
cp "$root"/distribution/conf/*.cfg "$work/app/etc/tessera/"
cp "$root/deploy/image/io.tessera.http.cfg" "$work/app/etc/tessera/"
chmod -R a+rX "$work/app"; chown -R 10001:10001 "$app/distribution/bundles" 2>/dev/null || true

python3 "$root/deploy/image/oci_layout.py" "$work" "$out/tessera-image.tar"
