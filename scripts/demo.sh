#!/usr/bin/env bash
# Installs what bbsync needs, builds it and runs `bbsync demo`: a full sync of 100 sample
# patients against the built-in sandbox, with no credentials. Extra arguments go to the demo,
# e.g. scripts/demo.sh --patients 20 --keep
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target bbsync bbsync-sandbox
exec build/release/daemon/bbsync demo "$@"
