#!/usr/bin/env bash
# Runs the image built by deploy/image/build.sh as a container runtime would, without one: unpacks its layers in
# manifest order into a root folder, mounts a configuration folder over /etc/tessera (loopback, port 18081),
# starts the image's entrypoint in a chroot as its user, waits for /health and /health/ready, generates one
# completion, then sends SIGTERM and expects a clean exit. Needs root (chroot, mounts).
#   deploy/image/verify.sh [image.tar]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
image=${1:-$root/deploy/target/tessera-image.tar}
port=18081
work=$(mktemp -d); rootfs="$work/rootfs"; mkdir -p "$work/layout" "$rootfs"
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  for m in etc/tessera proc; do umount "$rootfs/$m" 2>/dev/null || true; done
  # never delete through a mount that is still there
  if grep -q " $work/" /proc/mounts; then echo "verify: mounts left under $work, not removed" >&2; return; fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
tar -xf "$image" -C "$work/layout"
read -r user entrypoint < <(python3 - "$work/layout" <<'PY'
import json, sys
layout = sys.argv[1]
blob = lambda d: f"{layout}/blobs/sha256/{d.split(':')[1]}"
manifest = json.load(open(blob(json.load(open(f"{layout}/index.json"))["manifests"][0]["digest"])))
config = json.load(open(blob(manifest["config"]["digest"])))["config"]
with open(f"{layout}/layers", "w") as f:
    f.write("".join(blob(l["digest"]) + "\n" for l in manifest["layers"]))
print(config["User"], "\x1f".join(config["Entrypoint"]))
PY
)
while read -r layer; do tar -xzf "$layer" -C "$rootfs"; done < "$work/layout/layers"
echo "verify: unpacked $(wc -l < "$work/layout/layers") layers, $(du -sh "$rootfs" | cut -f1)"

# the configuration a deployment mounts: the image's own, on loopback and another port
conf="$work/conf"; cp -r "$rootfs/etc/tessera" "$conf"
sed -i "s/^host=.*/host=127.0.0.1/; s/^port=.*/port=$port/" "$conf/io.tessera.http.cfg"
mount --bind "$conf" "$rootfs/etc/tessera"
# the kernel's view the JVM reads, and the few device nodes it opens (made in the root folder, not bound)
mkdir -p "$rootfs/proc" "$rootfs/dev"; mount -t proc proc "$rootfs/proc"
for node in null:1:3 zero:1:5 random:1:8 urandom:1:9; do
  IFS=: read -r name major minor <<< "$node"; mknod -m 666 "$rootfs/dev/$name" c "$major" "$minor"
done

IFS=$'\x1f' read -r -a command <<< "$entrypoint"
env -i JAVA_HOME=/opt/java PATH=/opt/java/bin:/usr/bin:/bin HOME=/opt/tessera \
  "$(command -v chroot)" --userspec="$user" "$rootfs" "${command[@]}" > "$work/node.log" 2>&1 &
pid=$!
ok=""
for _ in $(seq 120); do
  if curl -sf "http://127.0.0.1:$port/health/ready" > "$work/ready" 2>/dev/null; then ok=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
[ -n "$ok" ] || { echo "verify: the node never became ready" >&2; tail -20 "$work/node.log" >&2; exit 1; }
echo "verify: /health $(curl -s "http://127.0.0.1:$port/health"); /health/ready $(cat "$work/ready")"
answer=$(curl -sf "http://127.0.0.1:$port/v1/completions" \
  -d '{"model": "default", "prompt": "public static int max(", "max_tokens": 8}')
echo "verify: completion $answer"
echo "$answer" | grep -q '"text"' || { echo "verify: no completion text" >&2; exit 1; }
kill -TERM "$pid"
status=0; wait "$pid" || status=$?
pid=""
echo "verify: exit status after SIGTERM: $status"
[ "$status" = 0 ] || { tail -20 "$work/node.log" >&2; exit 1; }
echo "verify: image ok"
