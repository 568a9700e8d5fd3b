#!/usr/bin/env bash
# Installs what is missing, builds the demo server and starts it.
# Arguments are passed to switchboard-demo (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh release -DCMAKE_BUILD_TYPE=Release -- switchboard-demo
exec build/release/examples/switchboard-demo "$@"
