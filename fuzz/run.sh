#!/usr/bin/env bash
# Builds the libFuzzer targets (clang 14, ASan+UBSan, RelWithDebInfo) and runs each one for a
# bounded time, starting from a copy of its seed corpus in the build directory, so the
# repository is never written to. Fails on any crash, leak, timeout, out-of-memory or
# sanitizer report, after printing the report and where the input was saved.
#
#   fuzz/run.sh [seconds per target (60)] [target...]
#
# Targets: http_request ws_frames ws_client json_body route client_response (all by default).
# FUZZ_BUILD names the build directory under build/ (default fuzz); FUZZ_JOBS runs that many
# targets at once (default 1). Prints, per target, libFuzzer's final exec/s, cov: (edges) and
# ft: (features).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(http_request ws_frames ws_client json_body route)
    # As in fuzz/CMakeLists.txt: the client's target exists once the library has the client.
    if grep -q 'src/client_wire.cpp' CMakeLists.txt; then
        targets+=(client_response)
    fi
fi
build_name=${FUZZ_BUILD:-fuzz}
build=build/$build_name
jobs=${FUZZ_JOBS:-1}

programs=()
for t in "${targets[@]}"; do
    programs+=("switchboard-fuzz-$t")
done
# Only the fuzzers: tests, examples and benchmarks would cost a sanitised compile each.
bash scripts/build.sh "$build_name" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++-14 -DSWITCHBOARD_WERROR=ON -DSWITCHBOARD_BUILD_FUZZERS=ON \
    -DSWITCHBOARD_BUILD_TESTS=OFF -DSWITCHBOARD_BUILD_EXAMPLES=OFF -DSWITCHBOARD_BUILD_BENCH=OFF \
    -- "${programs[@]}"

# Runs one target; its whole output goes to runs/<target>/log.
run_one() {
    local t=$1
    local work=$build/runs/$t
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    cp fuzz/corpus/fuzz_"$t"/* "$work/corpus/"
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$build/fuzz/switchboard-fuzz-$t" "$work/corpus" \
        -dict="fuzz/dict/fuzz_$t.dict" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
        >"$work/log" 2>&1
}

# What libFuzzer's last status line says, as "exec/s N  cov N  ft N  corpus N/size".
summary() {
    local line
    line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$1" | tail -n 1 || true)
    if [ -z "$line" ]; then
        line=$(grep -E '^#[0-9]+[[:space:]]' "$1" | tail -n 1 || true)
    fi
    awk '{
        for (i = 1; i < NF; ++i) {
            if ($i == "cov:") cov = $(i + 1);
            if ($i == "ft:") ft = $(i + 1);
            if ($i == "corp:") corp = $(i + 1);
            if ($i == "exec/s:") eps = $(i + 1);
        }
        printf "exec/s %7s  cov %5s  ft %6s  corpus %s", eps, cov, ft, corp
    }' <<<"$line"
}

failed=()
pending=()
for t in "${targets[@]}"; do
    run_one "$t" &
    pending+=("$!:$t")
    if [ ${#pending[@]} -ge "$jobs" ]; then
        entry=${pending[0]}
        pending=("${pending[@]:1}")
        wait "${entry%%:*}" || failed+=("${entry#*:}")
    fi
done
for entry in "${pending[@]+"${pending[@]}"}"; do
    wait "${entry%%:*}" || failed+=("${entry#*:}")
done

echo
echo "fuzz results (${seconds}s per target):"
for t in "${targets[@]}"; do
    log=$build/runs/$t/log
    status=ok
    if [[ " ${failed[*]+"${failed[*]}"} " == *" $t "* ]] ||
        [ -n "$(ls -A "$build/runs/$t/artifacts")" ]; then
        status=FAILED
    fi
    printf '  %-15s %-6s %s\n' "$t" "$status" "$(summary "$log")"
done

status=0
for t in "${targets[@]}"; do
    artifacts=$build/runs/$t/artifacts
    if [ -z "$(ls -A "$artifacts")" ] && [[ " ${failed[*]+"${failed[*]}"} " != *" $t "* ]]; then
        continue
    fi
    status=1
    echo
    echo "==== $t failed; the end of its log ($build/runs/$t/log):"
    tail -n 60 "$build/runs/$t/log"
    echo "inputs kept in $artifacts:"
    ls -l "$artifacts"
    echo "reproduce: $build/fuzz/switchboard-fuzz-$t <file>, or without libFuzzer"
    echo "switchboard-replay-$t <file> from a build with SWITCHBOARD_BUILD_TESTS (docs/fuzzing.md)"
done
exit $status
