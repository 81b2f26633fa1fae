#!/usr/bin/env bash
# Runs the full crash loop: 50 SIGKILLs at random moments of a 200-patient sync, then checks
# that every record exists once in the sandbox, no job is left InProgress, every patient can
# still sync and the database passes PRAGMA integrity_check.
#
# Usage: scripts/reliability/crash_loop.sh BUILD_DIR [KILLS] [PATIENTS] [SEED]
# BUILD_DIR must be configured with -DBBSYNC_FAILPOINTS=ON or OFF alike; the test binary
# bbsync_reliability_tests must be built in it.
set -euo pipefail

build_dir=${1:?usage: crash_loop.sh BUILD_DIR [KILLS] [PATIENTS] [SEED]}
test_binary="$build_dir/tests/reliability/bbsync_reliability_tests"
if [ ! -x "$test_binary" ]; then
    echo "error: $test_binary not found; build the target bbsync_reliability_tests first" >&2
    exit 2
fi

export BBSYNC_CRASH_LOOP_KILLS=${2:-50}
export BBSYNC_CRASH_LOOP_PATIENTS=${3:-200}
export BBSYNC_CRASH_LOOP_SEED=${4:-11}
start=$(date +%s)
"$test_binary" "sync survives repeated SIGKILL"
echo "crash loop finished in $(( $(date +%s) - start )) s"
