#!/usr/bin/env bash
# Measures how fast bbsync-sandbox serves ExplanationOfBenefit pages and how much memory it uses.
#
# Usage: bench/sandbox/load.sh [--sandbox PATH] [--patients N] [--eobs-per-patient M] [--loops K]
#   --sandbox            the bbsync-sandbox binary (default build/bench/sandbox/bbsync-sandbox)
#   --patients           synthetic patients (default 1000)
#   --eobs-per-patient   EOBs per patient (default 100)
#   --loops              concurrent curl loops (default 4)
#
# It starts a sandbox in a temporary directory, refreshes one access token per patient, then
# fetches every EOB page once (_count=50, by startIndex) with K concurrent curl processes. Each
# process reuses its connection and handles an equal share of the patients. It prints the
# page and EOB rates of the fetch phase, the sandbox's CPU time per page (which depends less on
# other load of the machine) and its VmHWM and VmRSS from /proc/PID/status.
# Needs bash, curl and jq.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
sandbox="$root/build/bench/sandbox/bbsync-sandbox"
patients=1000
eobs=100
loops=4
page_size=50
while [[ $# -gt 0 ]]; do
    case "$1" in
        --sandbox) sandbox="$2"; shift ;;
        --patients) patients="$2"; shift ;;
        --eobs-per-patient) eobs="$2"; shift ;;
        --loops) loops="$2"; shift ;;
        *)
            echo "load.sh: unknown argument '$1'; usage: load.sh [--sandbox PATH] [--patients N]" \
                "[--eobs-per-patient M] [--loops K]" >&2
            exit 2
            ;;
    esac
    shift
done
if [[ ! -x "$sandbox" ]]; then
    echo "load.sh: $sandbox is not an executable: build the bbsync-sandbox target or pass --sandbox" >&2
    exit 2
fi

work=$(mktemp -d)
pid=""
cleanup() {
    if [[ -n "$pid" ]]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Start the sandbox and wait for sandbox.json.
"$sandbox" --state-dir "$work/state" --patients "$patients" --eobs-per-patient "$eobs" 2>"$work/sandbox.log" &
pid=$!
for _ in $(seq 1 600); do
    [[ -f "$work/state/sandbox.json" ]] && break
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "load.sh: the sandbox exited early:" >&2
        cat "$work/sandbox.log" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ ! -f "$work/state/sandbox.json" ]]; then
    echo "load.sh: the sandbox did not write sandbox.json within 60 s" >&2
    exit 1
fi
port=$(jq -r .payer.port "$work/state/sandbox.json")
client_id=$(jq -r .payer_client_id "$work/state/sandbox.json")
client_secret=$(jq -r .payer_client_secret "$work/state/sandbox.json")
base="https://127.0.0.1:$port"
ca="$work/state/ca.pem"

# One curl config per loop: loop L takes patients L, L+K, L+2K, ...
jq -r '.[] | "\(.payer_patient_id) \(.refresh_token)"' "$work/state/patients.json" >"$work/patients.txt"
for ((l = 0; l < loops; l++)); do
    awk -v l="$l" -v k="$loops" 'NR % k == l' "$work/patients.txt" >"$work/share.$l"
done

# Waits for the curl processes in curl_pids (not for the sandbox) and fails when one failed.
curl_pids=()
wait_for_curls() {
    local failed=0
    for curl_pid in "${curl_pids[@]}"; do
        wait "$curl_pid" || failed=1
    done
    curl_pids=()
    if [[ $failed -ne 0 ]]; then
        echo "load.sh: a curl loop failed" >&2
        exit 1
    fi
}

# Phase 1: one access token per patient.
token_start=$(date +%s.%N)
for ((l = 0; l < loops; l++)); do
    {
        first=1
        while read -r patient refresh; do
            [[ $first -eq 1 ]] || echo "next"
            first=0
            echo "cacert = \"$ca\""
            echo "url = \"$base/v2/o/token/\""
            echo "user = \"$client_id:$client_secret\""
            echo "data = \"grant_type=refresh_token&refresh_token=$refresh\""
            echo "output = \"$work/token.$patient.json\""
        done <"$work/share.$l"
    } >"$work/tokens.$l.cfg"
    curl -sS --cacert "$ca" -K "$work/tokens.$l.cfg" &
    curl_pids+=($!)
done
wait_for_curls
token_end=$(date +%s.%N)

# Phase 2: every EOB page once.
pages_per_patient=$(((eobs + page_size - 1) / page_size))
jq -r '"\(.patient) \(.access_token)"' "$work"/token.*.json >"$work/tokens.txt"
for ((l = 0; l < loops; l++)); do
    {
        first=1
        # The token response names its patient, so the shares keep their patients.
        awk 'NR == FNR { token[$1] = $2; next } { print $1, token[$1] }' "$work/tokens.txt" "$work/share.$l" |
        while read -r patient token; do
            for ((p = 0; p < pages_per_patient; p++)); do
                [[ $first -eq 1 ]] || echo "next"
                first=0
                echo "cacert = \"$ca\""
                echo "url = \"$base/v2/fhir/ExplanationOfBenefit?patient=$patient&_count=$page_size&startIndex=$((p * page_size))\""
                echo "header = \"Authorization: Bearer $token\""
                echo "header = \"Accept-Encoding: gzip\""
                echo "output = \"/dev/null\""
                echo "write-out = \"%{http_code}\\n\""
            done
        done
    } >"$work/pages.$l.cfg"
done

# CPU seconds of the sandbox (user + system), from /proc/PID/stat fields 14 and 15.
cpu_seconds() {
    awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$pid/stat"
}
cpu_start=$(cpu_seconds)
fetch_start=$(date +%s.%N)
for ((l = 0; l < loops; l++)); do
    curl -sS --cacert "$ca" -K "$work/pages.$l.cfg" >"$work/status.$l" &
    curl_pids+=($!)
done
wait_for_curls
fetch_end=$(date +%s.%N)
cpu_end=$(cpu_seconds)

# Results.
pages=$(cat "$work"/status.* | wc -l)
ok=$(cat "$work"/status.* | grep -c '^200$' || true)
returned=$(curl -sS --cacert "$ca" "$base/_sandbox/state" | jq '[.eob_searches[].returned] | add // 0')
if [[ "$ok" -ne "$pages" ]]; then
    echo "load.sh: $((pages - ok)) of $pages page requests did not return 200" >&2
fi
awk -v ts="$token_start" -v te="$token_end" -v fs="$fetch_start" -v fe="$fetch_end" \
    -v cs="$cpu_start" -v ce="$cpu_end" \
    -v pages="$ok" -v eobs="$returned" -v patients="$patients" -v loops="$loops" 'BEGIN {
    printf "token refreshes: %d in %.2f s (%.0f/s)\n", patients, te - ts, patients / (te - ts)
    printf "EOB pages:       %d in %.2f s with %d curl loops\n", pages, fe - fs, loops
    printf "pages/s:         %.0f\n", pages / (fe - fs)
    printf "EOBs/s:          %.0f (%d EOBs)\n", eobs / (fe - fs), eobs
    printf "sandbox CPU:     %.2f s, %.1f ms per page\n", ce - cs, (ce - cs) * 1000 / pages
}'
grep -E '^(VmHWM|VmRSS):' "/proc/$pid/status"
