#!/usr/bin/env bash
# Configures and builds one configuration of Switchboard into build/<name>.
#   scripts/build.sh <name> [extra cmake arguments...] [-- ninja targets...]
# Names used by the scripts: release (g++), clang (clang 14 + fuzzers),
# asan (g++ ASan+UBSan), tsan (g++ TSan).
set -euo pipefail
cd "$(dirname "$0")/.."

name=$1
shift
cmake_args=()
targets=()
while [ $# -gt 0 ]; do
    if [ "$1" = "--" ]; then
        shift
        targets=("$@")
        break
    fi
    cmake_args+=("$1")
    shift
done

launcher=()
if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    # Paths inside the checkout are hashed relative to it, so a fresh clone somewhere else
    # (CI's clean clone, a second worktree) reuses what an earlier build compiled. Builds with
    # debug information then may name the other clone's source paths: harmless for tests.
    export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
    export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
    # Every target uses a precompiled header; without these ccache refuses to cache any of
    # their compilations.
    export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
fi

cmake -S . -B "build/$name" -G Ninja "${launcher[@]}" "${cmake_args[@]}" >/dev/null
# Two cores and the heaviest translation units need about 1.5 GiB each.
ninja -C "build/$name" -j "$(nproc)" "${targets[@]}"
