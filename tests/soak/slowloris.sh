#!/usr/bin/env bash
# Slow clients against the test server with Debian's slowhttptest (slow
# headers, slow body, slow read), each bounded to 30 s and 300 connections on
# loopback, while a probe checks that GET /health still answers in under a
# second. Not part of CI.
#   tests/soak/slowloris.sh build/release/tests/switchboard-test-server
set -euo pipefail
binary=$1

if ! command -v slowhttptest >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "slowloris: install slowhttptest (apt-get install slowhttptest)" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slowhttptest >/dev/null
fi

out=$(mktemp -d)
"$binary" --head-timeout-ms 5000 --body-timeout-ms 5000 --max-connections 2000 >"$out/port" 2>/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$out"' EXIT
for _ in $(seq 50); do grep -q '^port=' "$out/port" && break; sleep 0.1; done
port=$(sed -n 's/^port=//p' "$out/port")
url="http://127.0.0.1:$port/echo"

worst=0
probe() {
    local t
    t=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/health")
    awk -v a="$t" -v b="$worst" 'BEGIN { exit !(a > b) }' && worst=$t
    return 0
}

for mode in -H -B -X; do
    slowhttptest "$mode" -c 300 -r 100 -i 5 -l 30 -t POST -u "$url" -p 3 -o "$out/report$mode" \
        >"$out/log$mode" 2>&1 &
    attack=$!
    for _ in $(seq 28); do probe; sleep 1; done
    wait "$attack" || true
    echo "slowloris $mode: $(grep -E 'Exit status|service available' "$out/log$mode" | tail -n 2 | tr '\n' ' ')"
done

echo "slowest /health during the attacks: ${worst}s"
awk -v w="$worst" 'BEGIN { exit !(w < 1.0) }' && echo "slowloris: ok" || { echo "slowloris: FAILED"; exit 1; }
