#!/usr/bin/env bash
# Pins the SQLite WAL with a reader for 60 s (CI uses 10 s) while syncs run back to back,
# then checks that the WAL is checkpointed and back under SQLite's autocheckpoint size.
#
# Usage: scripts/reliability/wal_pin.sh BUILD_DIR [SECONDS]
set -euo pipefail

build_dir=${1:?usage: wal_pin.sh BUILD_DIR [SECONDS]}
test_binary="$build_dir/tests/reliability/bbsync_reliability_tests"
if [ ! -x "$test_binary" ]; then
    echo "error: $test_binary not found; build the target bbsync_reliability_tests first" >&2
    exit 2
fi

export BBSYNC_WAL_PIN_SECONDS=${2:-60}
"$test_binary" "pinned WAL shrinks after the reader leaves"
