#!/usr/bin/env bash
# Runs every fan-out workload of issue 7 against switchboard-bench-server and
# the Node `ws` peer (bench/peers/server.js), one server after the other in
# the same run, and prints a table with the ratios.
#
#   bench/run.sh [--repeat N] [--quick] [--no-build] [--no-syscalls]
#
#   --repeat N      runs of each workload per server, the median is reported (default 3)
#   --quick         a few-second pass with small counts (checks the plumbing, not speed)
#   --no-build      use the binaries already in build/bench
#   --no-syscalls   skip the send-syscall count (needs perf, or strace)
#
# The server runs on core 0 and the load tool on core 1 (taskset), the same
# for both servers. Everything listens on and connects to 127.0.0.1 only;
# every run is bounded by the load tool's --time-limit and ends by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

repeat=3
quick=0
build=1
syscalls=1
while [ $# -gt 0 ]; do
    case $1 in
    --repeat) repeat=$2; shift 2 ;;
    --quick) quick=1; repeat=1; shift ;;
    --no-build) build=0; shift ;;
    --no-syscalls) syscalls=0; shift ;;
    *) echo "usage: bench/run.sh [--repeat N] [--quick] [--no-build] [--no-syscalls]" >&2; exit 2 ;;
    esac
done

build_dir=build/bench
bin=$build_dir/bench
server_core=0
tool_core=1
if [ "$(nproc)" -lt 2 ]; then
    echo "bench: fewer than 2 cores; server and load tool share core 0" >&2
    tool_core=0
fi

if [ $build = 1 ]; then
    bash scripts/build.sh bench -DCMAKE_BUILD_TYPE=Release -- \
        switchboard-bench-server switchboard-fanout-load >/dev/null
fi
if [ ! -d bench/peers/node_modules/ws ]; then
    (cd bench/peers && npm ci --no-audit --no-fund --loglevel=error)
fi
# 10,000 subscribers are 10,000 descriptors in each process.
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

next_port=21000
start_server() { # kind -> sets server_pid, port
    port=$next_port
    next_port=$((next_port + 1))
    case $1 in
    switchboard)
        taskset -c $server_core "$bin/switchboard-bench-server" --port "$port" --threads 1 \
            >"$work/server.log" 2>&1 &
        ;;
    ws)
        taskset -c $server_core node bench/peers/server.js --port "$port" >"$work/server.log" 2>&1 &
        ;;
    esac
    server_pid=$!
}

# Node runs signal handlers between event loop turns, and one turn of a
# flood can last many seconds: after a grace period the server is killed.
stop_server() {
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 30); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

# One load run against a fresh server; appends the RESULT line (or FAILED) to
# $work/<workload>.<kind>.
run_once() { # workload kind load-options...
    local workload=$1 kind=$2
    shift 2
    start_server "$kind"
    local out=$work/load.out rc=0
    taskset -c $tool_core "$bin/switchboard-fanout-load" --port "$port" --server-pid "$server_pid" \
        "$@" >"$out" 2>&1 || rc=$?
    stop_server
    if grep -q '^RESULT' "$out"; then
        echo "$(grep '^RESULT' "$out") rc=$rc" >>"$work/$workload.$kind"
    else
        echo "RESULT rc=$rc" >>"$work/$workload.$kind"
    fi
    if [ $rc != 0 ]; then
        echo "  ($kind, $workload: load tool exited $rc)" >&2
        sed 's/^/    /' "$out" | grep -v '^    RESULT' >&2
    fi
}

# The median of one field over the runs of a workload on a server.
median() { # workload kind field
    grep -o " $3=[^ ]*" "$work/$1.$2" 2>/dev/null | cut -d= -f2 | sort -g |
        awk '{v[NR]=$1} END {if (NR == 0) print "-"; else print v[int((NR + 1) / 2)]}'
}

failed_runs() { # workload kind
    grep -vc ' rc=0$' "$work/$1.$2" 2>/dev/null || true
}

if [ $quick = 1 ]; then
    scale=10
else
    scale=1
fi
# Node drains the 5000-subscriber burst at about 25,000 deliveries/s here.
limit=150

# name | load options. Every flood is the same burst of 300 messages, so the
# 5000-subscriber run differs from the 1000 one only in the subscribers; the
# paced run publishes for 2 s.
workloads=(
    "flood-1000x64|--subscribers 1000 --messages $((300 / scale)) --size 64"
    "flood-1000x1k|--subscribers 1000 --messages $((300 / scale)) --size 1024"
    "flood-5000x64|--subscribers 5000 --messages $((300 / scale)) --size 64"
    "paced-250k|--subscribers 1000 --messages $((500 / scale)) --size 64 --rate 250000"
    "idle-10000|--subscribers $((10000 / scale)) --messages 0 --settle 1"
)

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "peers: switchboard-bench-server --threads 1; node $(node --version) with ws $(node -p "require('./bench/peers/node_modules/ws/package.json').version")"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= repeat; r++)); do
    for entry in "${workloads[@]}"; do
        name=${entry%%|*}
        options=${entry#*|}
        echo "run $r/$repeat: $name" >&2
        # shellcheck disable=SC2086 # the options are words on purpose
        run_once "$name" switchboard $options --time-limit $limit
        # shellcheck disable=SC2086
        run_once "$name" ws $options --time-limit $limit
    done
done

# Send system calls per delivered message under flood, counted on the server
# (perf counts the syscall tracepoints; strace -c -f when perf is missing).
syscall_line() { # kind
    local kind=$1 counts=$work/syscalls.$1 out=$work/syscalls-load.$1 tracer_pid
    start_server "$kind"
    sleep 0.5
    if command -v perf >/dev/null 2>&1; then
        perf stat -x, -o "$counts" -p "$server_pid" \
            -e 'syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmmsg,syscalls:sys_enter_write,syscalls:sys_enter_writev' &
    else
        strace -c -f -o "$counts" -p "$server_pid" &
    fi
    tracer_pid=$!
    sleep 0.5
    taskset -c $tool_core "$bin/switchboard-fanout-load" --port "$port" --server-pid "$server_pid" \
        --subscribers 1000 --messages $((300 / scale)) --size 64 --time-limit $limit \
        >"$out" 2>&1 || true
    kill -INT "$tracer_pid" 2>/dev/null || true
    wait "$tracer_pid" 2>/dev/null || true
    stop_server
    local delivered sends
    delivered=$(grep -o ' delivered=[0-9]*' "$out" | cut -d= -f2)
    if command -v perf >/dev/null 2>&1; then
        sends=$(awk -F, '/syscalls:/ {s += $1} END {print s + 0}' "$counts")
        detail=$(awk -F, '/syscalls:/ && $1 > 0 {sub("syscalls:sys_enter_", "", $3); printf "%s %s, ", $3, $1}' "$counts")
    else
        sends=$(awk '$NF ~ /^(sendmsg|sendto|sendmmsg|write|writev)$/ {s += $4} END {print s + 0}' "$counts")
        detail="strace"
    fi
    awk -v k="$kind" -v s="$sends" -v d="${delivered:-0}" -v detail="${detail%, }" 'BEGIN {
        printf "| %s | %d | %d | %.4f | %s |\n", k, s, d, (d > 0 ? s / d : 0), detail }'
}

info_row() { # label workload field: context, no ratio
    printf '| %s | %s | %s | |\n' "$1" "$(median "$2" switchboard "$3")" "$(median "$2" ws "$3")"
}

ratio() { # ours theirs higher_is_better
    awk -v a="$1" -v b="$2" -v up="$3" 'BEGIN {
        if (a == "-" || b == "-" || a <= 0 || b <= 0) { print "-"; exit }
        printf "%.1fx\n", up ? a / b : b / a }'
}

row() { # label workload field unit-divisor higher_is_better
    local ours theirs
    ours=$(median "$2" switchboard "$3")
    theirs=$(median "$2" ws "$3")
    local fo ft
    fo=$(failed_runs "$2" switchboard)
    ft=$(failed_runs "$2" ws)
    printf '| %s | %s%s | %s%s | %s |\n' "$1" "$ours" "$([ "$fo" != 0 ] && echo " ($fo failed)")" \
        "$theirs" "$([ "$ft" != 0 ] && echo " ($ft failed)")" "$(ratio "$ours" "$theirs" "$5")"
}

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "median of $repeat run(s); ratio = how many times better switchboard is (>1 is better)"
echo
echo "| workload | switchboard | ws (Node) | ratio |"
echo "| --- | --- | --- | --- |"
row "flood 1000 subs x 64 B: deliveries/s" flood-1000x64 per_second 1 1
row "flood 1000 subs x 1 KiB: deliveries/s" flood-1000x1k per_second 1 1
row "flood 5000 subs x 64 B: deliveries/s" flood-5000x64 per_second 1 1
row "flood 1000 x 64 B: server CPU us/delivery" flood-1000x64 cpu_us_per_delivery 1 0
row "flood 1000 x 1 KiB: server CPU us/delivery" flood-1000x1k cpu_us_per_delivery 1 0
row "flood 5000 x 64 B: server CPU us/delivery" flood-5000x64 cpu_us_per_delivery 1 0
row "paced 250k deliveries/s: p50 us" paced-250k p50_us 1 0
row "paced 250k deliveries/s: p99 us" paced-250k p99_us 1 0
row "paced 250k deliveries/s: p99.9 us" paced-250k p999_us 1 0
row "paced 250k deliveries/s: achieved deliveries/s" paced-250k per_second 1 1
row "paced 250k deliveries/s: server CPU us/delivery" paced-250k cpu_us_per_delivery 1 0
row "10,000 idle subs: server RSS bytes/subscriber" idle-10000 rss_per_subscriber 1 0
info_row "flood 1000 x 64 B: server runnable but waiting for a CPU, % of the run" flood-1000x64 server_waiting_pct
info_row "paced 250k: server runnable but waiting for a CPU, % of the run" paced-250k server_waiting_pct
info_row "paced 250k: load tool waiting for a CPU, % of the run" paced-250k tool_waiting_pct

ours_1000=$(median flood-1000x64 switchboard per_second)
ours_5000=$(median flood-5000x64 switchboard per_second)
echo
awk -v a="$ours_5000" -v b="$ours_1000" 'BEGIN {
    if (b > 0) printf "switchboard at 5000 subscribers: %.0f%% of its throughput at 1000\n", 100 * a / b }'

if [ $syscalls = 1 ] && ! command -v perf >/dev/null 2>&1 && ! command -v strace >/dev/null 2>&1; then
    echo
    echo "no perf and no strace: send system calls not counted (apt-get install linux-perf or strace)"
    syscalls=0
fi
if [ $syscalls = 1 ]; then
    echo
    echo "send system calls on the server, flood 1000 subs x 64 B (connects included)"
    echo
    echo "| server | send calls | deliveries | per delivery | by call |"
    echo "| --- | --- | --- | --- | --- |"
    syscall_line switchboard
    syscall_line ws
fi
