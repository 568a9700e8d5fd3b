#!/usr/bin/env bash
# A few seconds of the fan-out load tool against the bench server, for CI:
# it fails when a message is lost, repeated, reordered or malformed, and
# never on speed.
#   bench/smoke.sh [build-dir]     (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/release}

work=$(mktemp -d)
"$dir/bench/switchboard-bench-server" --port 0 >"$work/server.log" 2>&1 &
server_pid=$!
cleanup() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

port=
for _ in $(seq 100); do
    port=$(sed -n 's/^port=//p' "$work/server.log")
    [ -n "$port" ] && break
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "bench smoke: the server printed no port" >&2
    cat "$work/server.log" >&2
    exit 1
fi

load="$dir/bench/switchboard-fanout-load --port $port --server-pid $server_pid --time-limit 20"
# Several keys and publishers, flooding; then 1 KiB messages at a set rate.
$load --subscribers 200 --keys 4 --publishers 2 --messages 400 --size 64
$load --subscribers 100 --messages 200 --size 1024 --rate 20000
