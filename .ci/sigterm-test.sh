#!/usr/bin/env bash
# SIGTERM with 4 streams in flight: the node stops admitting, lets the streams finish (drainSeconds), each ends with
# a finish_reason and data: [DONE], and the launcher exits 0. Runs the built node on a free loopback port.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=0
for candidate in $(shuf -i 20000-60000 -n 20); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[ "$port" != 0 ] || { echo "sigterm-test: no free port" >&2; exit 1; }
cp distribution/conf/*.cfg "$work/"
sed -i "s/^port=.*/port=$port/" "$work/io.tessera.http.cfg"
TESSERA_NO_BUILD=1 TESSERA_OPTS="-Dfelix.fileinstall.dir=$work" ./tessera --headless > "$work/node.log" 2>&1 &
node=$!
for _ in $(seq 600); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/ready")" = 200 ] && break
  sleep 0.2
done
for i in 1 2 3 4; do
  curl -sN --max-time 60 "http://127.0.0.1:$port/v1/completions" -d "{\"model\": \"default\", \"stream\": true,
    \"prompt\": \"public static int max$i(\", \"max_tokens\": 300, \"temperature\": 0.7}" > "$work/stream$i" &
done
sleep 1
kill -TERM "$node"
status=0
wait "$node" || status=$?
wait
failed=0
for i in 1 2 3 4; do
  last=$(grep '^data: ' "$work/stream$i" | tail -1)
  finish=$(grep -c '"finish_reason":"\(length\|stop\)"' "$work/stream$i" || true)
  if [ "$last" != "data: [DONE]" ] || [ "$finish" != 1 ]; then
    echo "sigterm-test: stream $i did not end cleanly: $(tail -c 300 "$work/stream$i")" >&2; failed=1
  fi
done
grep -q "drained" "$work/node.log" || { echo "sigterm-test: no drain in the log" >&2; failed=1; }
[ "$status" = 0 ] || { echo "sigterm-test: the launcher exited $status" >&2; failed=1; }
[ "$failed" = 0 ] || { tail -20 "$work/node.log" >&2; exit 1; }
echo "sigterm-test: 4 streams ended with finish_reason and [DONE]; $(grep drained "$work/node.log" | sed 's/.*drained: //'); exit 0"
