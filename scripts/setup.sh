#!/usr/bin/env bash
# Installs the Debian 12 packages Switchboard needs to build and test.
# Idempotent: packages already present are not touched and apt is not even
# consulted when nothing is missing.
set -euo pipefail

packages=(
    build-essential cmake ninja-build ccache pkg-config
    g++ clang-14 clang-format-14 clang-tidy-14 libfuzzer-14-dev libclang-rt-14-dev
    libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
    libfmt-dev libssl-dev libgtest-dev googletest libbenchmark-dev
    curl python3 python3-websockets python3-aiohttp python3-h11
)
if [ "${1:-}" = "--with-browser" ]; then
    packages+=(chromium nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done

# nodejs/npm may come from outside Debian; a working node counts as installed.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    filtered=()
    for p in "${missing[@]}"; do
        case "$p" in nodejs|npm) ;; *) filtered+=("$p") ;; esac
    done
    missing=("${filtered[@]+"${filtered[@]}"}")
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all packages present"
    exit 0
fi

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
