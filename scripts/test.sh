#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test the way CI does:
#   1. formatting check (clang-format 14, .clang-format at the root)
#   1b. clang-tidy 14 over the socket-free sources
#   2. g++ 12 Release, warnings as errors: every test, the consumer projects
#   3. clang 14, warnings as errors: build, unit tests
#   4. g++ 12 ASan+UBSan: every test but the consumer projects
#   5. g++ 12 TSan: the concurrency tests
#   6. clang 14 libFuzzer targets (ASan+UBSan), 60 s each, two at a time
#      (SWITCHBOARD_FUZZ=0 leaves this step out of a local run)
# Each step prints its time. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
declare -a timings=()
step() {
    local title=$1
    shift
    local t0
    t0=$(date +%s)
    echo "==== $title"
    "$@"
    local took=$(($(date +%s) - t0))
    timings+=("$(printf '%-42s %5ss' "$title" "$took")")
    echo "==== $title: ${took}s"
}

format_check() {
    git ls-files '*.cpp' '*.hpp' | xargs clang-format-14 --dry-run -Werror
}

# clang-tidy (.clang-tidy at the root) over the socket-free sources, where
# the protocol logic lives; the Asio/Beast drivers would take minutes each.
tidy_check() {
    cmake -S . -B build/tidy -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
        -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON \
        -DSWITCHBOARD_BUILD_TESTS=OFF -DSWITCHBOARD_BUILD_EXAMPLES=OFF \
        -DSWITCHBOARD_BUILD_BENCH=OFF >/dev/null
    clang-tidy-14 -p build/tidy --quiet --warnings-as-errors='*' \
        src/error.cpp src/json.cpp src/log.cpp src/outbox.cpp src/reply.cpp src/request.cpp \
        src/route_table.cpp src/router.cpp src/ws_frame.cpp
}

run_ctest() {
    local dir=$1
    shift
    ctest --test-dir "$dir" --output-on-failure --timeout 600 -j "$(nproc)" "$@"
}

export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

step "setup" bash scripts/setup.sh --tests
step "format check" format_check
step "clang-tidy" tidy_check

step "g++ release build" bash scripts/build.sh release -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER=g++ -DSWITCHBOARD_WERROR=ON
step "g++ release tests" run_ctest build/release
# A few seconds of the fan-out load tool: fails on lost or repeated messages, never on speed.
step "bench smoke" bash bench/smoke.sh build/release

step "clang build" bash scripts/build.sh clang -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_COMPILER=clang++-14 -DSWITCHBOARD_WERROR=ON
step "clang unit tests" run_ctest build/clang -E '^(e2e|consumer)\.'

sanitize="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
step "g++ asan+ubsan build" bash scripts/build.sh asan -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_COMPILER=g++ -DSWITCHBOARD_WERROR=ON -DSWITCHBOARD_BUILD_BENCH=OFF \
    "-DCMAKE_CXX_FLAGS=$sanitize -O1" "-DCMAKE_EXE_LINKER_FLAGS=$sanitize"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    SWITCHBOARD_SANITIZED=1 step "g++ asan+ubsan tests" run_ctest build/asan -E '^consumer\.'

# Asio fences handler memory with atomic_thread_fence, which TSan does not model;
# its queues are mutex-protected, which TSan does see, so the warning is noise.
tsan="-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan"
step "g++ tsan build" bash scripts/build.sh tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=g++ -DSWITCHBOARD_WERROR=ON -DSWITCHBOARD_BUILD_BENCH=OFF \
    -DSWITCHBOARD_BUILD_EXAMPLES=OFF "-DCMAKE_CXX_FLAGS=$tsan" "-DCMAKE_EXE_LINKER_FLAGS=$tsan" \
    -- switchboard-concurrency-tests
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    step "g++ tsan concurrency tests" build/tsan/tests/switchboard-concurrency-tests

# The corpora replay in every ctest run above (fuzz.*); this step searches for new inputs,
# 60 s per target on both cores (about five minutes with the build). Any crash, leak,
# timeout or sanitizer report fails the run, with the input kept (docs/fuzzing.md).
if [ "${SWITCHBOARD_FUZZ:-1}" != 0 ]; then
    FUZZ_JOBS=$(nproc) step "clang fuzzers, 60s per target" bash fuzz/run.sh 60
fi

echo
echo "timings:"
printf '  %s\n' "${timings[@]}"
echo "  total $(($(date +%s) - started))s"
