#!/usr/bin/env bash
# Installs what Switchboard needs on Debian 12.
#   scripts/setup.sh           to build the library and the demo
#   scripts/setup.sh --tests   also the test peers: Python websockets/aiohttp,
#                              Node with the npm packages of tests/node and
#                              tests/browser, Chromium for the page test, and
#                              the openssl tool (the client's TLS tests make
#                              their certificates with it and use s_server)
# Idempotent: apt is not consulted when no package is missing, and npm runs
# only where node_modules is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
    build-essential cmake ninja-build ccache pkg-config git
    g++ clang-14 clang-format-14 clang-tidy-14 libfuzzer-14-dev libclang-rt-14-dev
    libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
    libfmt-dev libssl-dev libgtest-dev googletest libbenchmark-dev
)
with_tests=false
if [ "${1:-}" = "--tests" ]; then
    with_tests=true
    packages+=(curl openssl python3 python3-websockets python3-aiohttp python3-h11 nodejs npm
               chromium)
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done

# Node may come from outside Debian; a working node and npm count as installed.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    filtered=()
    for p in "${missing[@]+"${missing[@]}"}"; do
        case "$p" in nodejs|npm) ;; *) filtered+=("$p") ;; esac
    done
    missing=("${filtered[@]+"${filtered[@]}"}")
fi

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing Debian packages: ${missing[*]}" >&2
        echo "setup: run this script as root, or install them with:" >&2
        echo "    sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    echo "setup: all packages present"
fi

# The npm packages are pinned by each folder's package-lock.json.
install_node_packages() {
    local dir=$1
    if [ -d "$dir/node_modules" ]; then
        return
    fi
    echo "setup: installing the npm packages of $dir"
    (cd "$dir" && npm ci --no-audit --no-fund)
}

if $with_tests; then
    for dir in tests/node tests/browser tests/jsonsuite; do
        [ -f "$dir/package-lock.json" ] && install_node_packages "$dir"
    done
fi
exit 0
