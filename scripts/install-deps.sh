#!/usr/bin/env bash
# Installs the Debian bookworm packages bbsync needs to build, test and run its demo.
# Safe to run again: it only calls apt-get when a package is missing.
set -euo pipefail

packages=(
    g++ cmake ninja-build pkg-config git
    libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
    libssl-dev openssl libsqlite3-dev sqlite3 zlib1g-dev libsystemd-dev
    catch2 clang-format-14 curl systemd
)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages are installed"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi

echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
