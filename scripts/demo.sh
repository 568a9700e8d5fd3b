#!/usr/bin/env bash
# Installs what is missing, builds the demo server and starts it.
# Arguments are passed to switchboard-demo (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# The same configuration as scripts/test.sh's release build, so that running
# one after the other reuses the build instead of reconfiguring it.
bash scripts/build.sh release -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
    -DSWITCHBOARD_WERROR=ON -- switchboard-demo switchboard-hello
exec build/release/examples/switchboard-demo "$@"
