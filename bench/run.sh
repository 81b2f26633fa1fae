#!/usr/bin/env bash
# Benchmarks the whole daemon against bbsync-sandbox and prints a summary table.
#
# Usage: bench/run.sh [--quick | --profile [--eobs M] | --case P M] [--build-dir DIR] [--out DIR] [--keep]
#   --quick       smaller runs, about 2 minutes instead of about 6
#   --case        only one run of P patients x M EOBs at concurrency P, printed as key=value pairs
#   --profile     only one run of 50 patients x M EOBs (default 200) under `perf record -g`, then
#                 the functions with the most samples (perf report --no-children) in profile.txt
#   --build-dir   a Release build with BBSYNC_BUILD_BENCH=ON (default build/bench)
#   --out         where to write results.txt, summary.txt and scale.png (default: the work folder)
#   --keep        keep the work folder (databases, sandbox state, logs)
#
# Each run starts a fresh sandbox with P patients x M EOBs, writes a configuration for
# `bbsync run --once` and registers the patients with `bbsync patient add`. It then runs the daemon
# under bench_exec, which reports the wall time, the CPU seconds and the peak RSS of the daemon
# process alone. Needs curl, jq, openssl and strace (strace only for the SQLite commit count).

# The braces make bash read the whole script before running it, so editing the file during a
# run cannot change the run.
{
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/bench"
quick=0
profile=0
profile_eobs=200
single=()
keep=0
out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1 ;;
        --profile) profile=1 ;;
        --eobs) profile_eobs="$2"; shift ;;
        --case) single=("$2" "$3"); shift 2 ;;
        --keep) keep=1 ;;
        --build-dir) build=$(cd "$2" && pwd); shift ;;
        --out) out="$2"; shift ;;
        *) echo "bench/run.sh: unknown argument '$1'; usage: bench/run.sh [--quick | --profile [--eobs M] | --case P M] [--build-dir DIR] [--out DIR] [--keep]" >&2; exit 2 ;;
    esac
    shift
done

bbsync="$build/daemon/bbsync"
sandbox="$build/sandbox/bbsync-sandbox"
bench_exec="$build/bench/daemon/bench_exec"
eob_cost="$build/bench/daemon/eob_cost_bench"
plot="$build/bench/daemon/bench_plot"
for program in "$bbsync" "$sandbox" "$bench_exec" "$eob_cost" "$plot"; do
    if [[ ! -x "$program" ]]; then
        echo "bench/run.sh: $program is missing; build it with:" >&2
        echo "  cmake -S $root -B $build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBBSYNC_BUILD_BENCH=ON" >&2
        echo "  cmake --build $build --target bbsync bbsync-sandbox bench_exec eob_cost_bench bench_plot" >&2
        exit 2
    fi
done
for tool in curl jq strace openssl; do
    command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is not installed" >&2; exit 2; }
done

work=$(mktemp -d /tmp/bbsync-bench-XXXXXX)
out=${out:-$work}
mkdir -p "$out"
results="$out/results.txt"
: >"$results"
sandbox_pid=""
cleanup() {
    if [[ -n "$sandbox_pid" ]]; then
        kill "$sandbox_pid" 2>/dev/null || true
        wait "$sandbox_pid" 2>/dev/null || true
    fi
    if [[ $keep -eq 0 && "$out" != "$work" ]]; then
        rm -rf "$work"
    fi
}
trap cleanup EXIT

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# start_sandbox DIR PATIENTS EOBS [FAULT...]: starts a sandbox and waits for sandbox.json.
start_sandbox() {
    local dir=$1 patients=$2 eobs=$3
    shift 3
    local faults=()
    for spec in "$@"; do faults+=(--fault "$spec"); done
    mkdir -p "$dir/sandbox"
    "$sandbox" --state-dir "$dir/sandbox" --patients "$patients" --eobs-per-patient "$eobs" --seed 1 \
        "${faults[@]}" >"$dir/sandbox.log" 2>&1 &
    sandbox_pid=$!
    for _ in $(seq 1 600); do
        [[ -f "$dir/sandbox/sandbox.json" ]] && return 0
        kill -0 "$sandbox_pid" 2>/dev/null || { echo "bench/run.sh: sandbox exited; see $dir/sandbox.log" >&2; exit 1; }
        sleep 0.05
    done
    echo "bench/run.sh: sandbox not ready after 30 s; see $dir/sandbox.log" >&2
    exit 1
}

# sandbox_cpu: prints the user+system CPU seconds the running sandbox has used so far.
sandbox_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$sandbox_pid/stat"
}

stop_sandbox() {
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
    sandbox_pid=""
}

# endpoint DIR HOST: prints 127.0.0.1:PORT of one sandbox host.
endpoint() { jq -r ".$2.host + \":\" + (.$2.port|tostring)" "$1/sandbox/sandbox.json"; }

# write_config DIR CONCURRENCY BATCH_COUNT: writes DIR/bbsync.conf and a token key.
write_config() {
    local dir=$1 concurrency=$2 batch=$3 ready="$1/sandbox/sandbox.json"
    openssl rand -hex 32 >"$dir/token.key"
    chmod 600 "$dir/token.key"
    {
        echo "bluebuttonapi.host = $(endpoint "$dir" payer)"
        echo "bluebuttonapi.clientId = $(jq -r .payer_client_id "$ready")"
        echo "bluebuttonapi.clientSecret = $(jq -r .payer_client_secret "$ready")"
        echo "bluebuttonapi.eobEndpoint.count = ${page_size:-50}"
        echo "bluebuttonIntegration.maxConcurrentSyncMessages = $concurrency"
        echo "bluebuttonIntegration.batchCount = $batch"
        echo "hcOrg.tokenUrl = https://$(endpoint "$dir" salesforce)/services/oauth2/token"
        echo "hcOrg.client_id = $(jq -r .sf_client_id "$ready")"
        echo "hcOrg.client_secret = $(jq -r .sf_client_secret "$ready")"
        echo "bundle.host = $(endpoint "$dir" healthcloud)"
        echo "tls.caFile = $(jq -r .ca_file "$ready")"
        echo "database.path = $dir/bbsync.db"
        echo "tokens.keyFile = $dir/token.key"
    } >"$dir/bbsync.conf"
    chmod 600 "$dir/bbsync.conf"
}

# add_patients DIR: migrates the database and registers every sandbox patient.
add_patients() {
    local dir=$1
    "$bbsync" --config "$dir/bbsync.conf" db migrate >/dev/null
    jq -r '.[] | [.sf_patient_id, .payer_patient_id, .refresh_token] | @tsv' "$dir/sandbox/patients.json" |
        while IFS=$'\t' read -r sf_id payer_id token; do
            printf '%s\n' "$token" |
                "$bbsync" --config "$dir/bbsync.conf" patient add --sf-id "$sf_id" --payer-id "$payer_id" \
                    --refresh-token-file - >/dev/null
        done
}

# requests_by_host DIR: prints "payer=N salesforce=N healthcloud=N" from /_sandbox/state.
requests_by_host() {
    local dir=$1
    curl -s --cacert "$dir/sandbox/ca.pem" "https://$(endpoint "$dir" payer)/_sandbox/state" >"$dir/state.json"
    jq -r '[.requests[] | select(.route | startswith("/_sandbox") | not)]
           | reduce .[] as $r ({payer: 0, salesforce: 0, healthcloud: 0}; .[$r.host] += $r.count)
           | "payer=\(.payer) salesforce=\(.salesforce) healthcloud=\(.healthcloud)"' "$dir/state.json"
}

# value KEY LINE: prints the value of KEY=VALUE in LINE.
value() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# run_case NAME PATIENTS EOBS CONCURRENCY BATCH_COUNT [FAULT...]: one measured daemon run.
# Appends one key=value line to results.txt and prints it.
run_case() {
    local name=$1 patients=$2 eobs=$3 concurrency=$4 batch=$5
    shift 5
    local dir="$work/$name"
    mkdir -p "$dir"
    log "$name: $patients patients x $eobs EOBs, concurrency $concurrency, batchCount $batch $*"
    start_sandbox "$dir" "$patients" "$eobs" "$@"
    write_config "$dir" "$concurrency" "$batch"
    add_patients "$dir"
    local measured sandbox_before sandbox_after
    sandbox_before=$(sandbox_cpu)
    measured=$("$bench_exec" -- "$bbsync" --config "$dir/bbsync.conf" run --once 2>"$dir/daemon.log")
    sandbox_after=$(sandbox_cpu)
    local hosts
    hosts=$(requests_by_host "$dir")
    stop_sandbox
    local jobs
    jobs=$("$bbsync" --config "$dir/bbsync.conf" jobs --json --limit 100000)
    local fetched completed
    fetched=$(jq '[.[].eobs_fetched] | add // 0' <<<"$jobs")
    completed=$(jq '[.[] | select(.status == "Completed")] | length' <<<"$jobs")
    local line="case=$name patients=$patients eobs_per_patient=$eobs concurrency=$concurrency batch=$batch eobs=$fetched completed=$completed $measured $hosts sandbox_cpu_s=$(awk -v a="$sandbox_before" -v b="$sandbox_after" 'BEGIN { printf "%.2f", b - a }')"
    echo "$line" >>"$results"
    log "$line"
    if [[ $(value exit "$measured") != 0 || $completed != "$patients" ]]; then
        log "$name: not every job Completed; see $dir/daemon.log"
    fi
}

# commit_case NAME PATIENTS EOBS: counts fsync and fdatasync calls of one run under strace. With
# journal_mode=WAL and synchronous=FULL SQLite syncs the WAL once per commit, and checkpoints add
# a few more, so the count is an upper bound of the commits.
commit_case() {
    local name=$1 patients=$2 eobs=$3 dir="$work/$1"
    mkdir -p "$dir"
    log "$name: SQLite syncs of $patients patients x $eobs EOBs under strace"
    start_sandbox "$dir" "$patients" "$eobs"
    write_config "$dir" 50 5
    add_patients "$dir"
    strace -f --seccomp-bpf -e trace=fsync,fdatasync -c -o "$dir/strace.txt" \
        "$bbsync" --config "$dir/bbsync.conf" run --once 2>"$dir/daemon.log"
    stop_sandbox
    local syncs fetched
    syncs=$(awk '$NF == "fsync" || $NF == "fdatasync" { total += $4 } END { print total + 0 }' "$dir/strace.txt")
    fetched=$("$bbsync" --config "$dir/bbsync.conf" jobs --json --limit 100000 | jq '[.[].eobs_fetched] | add // 0')
    local line="case=$name patients=$patients eobs_per_patient=$eobs eobs=$fetched syncs=$syncs"
    echo "$line" >>"$results"
    log "$line"
}

# ready_case RUNS: times start to READY of `bbsync run --once` on a migrated database without due
# patients. The READY=1 datagram arrives on the NOTIFY_SOCKET that bench_exec binds.
ready_case() {
    local runs=$1 dir="$work/ready"
    mkdir -p "$dir"
    log "ready: $runs starts on a migrated database"
    start_sandbox "$dir" 1 1
    write_config "$dir" 50 5
    "$bbsync" --config "$dir/bbsync.conf" db migrate >/dev/null
    stop_sandbox
    local times=()
    for _ in $(seq 1 "$runs"); do
        local measured
        measured=$("$bench_exec" --ready -- "$bbsync" --config "$dir/bbsync.conf" run --once 2>>"$dir/daemon.log")
        times+=("$(value ready_ms "$measured")")
    done
    local median
    median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    local line="case=ready runs=$runs ready_ms_median=$median ready_ms_all=$(IFS=,; echo "${times[*]}")"
    echo "$line" >>"$results"
    log "$line"
}

# floor_case SECONDS: fetches four EOB pages of 50 from a sandbox and runs eob_cost_bench on them.
floor_case() {
    local seconds=$1 dir="$work/floor"
    mkdir -p "$dir"
    log "floor: parse + map + serialize of sandbox EOB pages"
    start_sandbox "$dir" 1 200
    local ready="$dir/sandbox/sandbox.json" payer
    payer=$(endpoint "$dir" payer)
    local access_token patient
    patient=$(jq -r '.[0].payer_patient_id' "$dir/sandbox/patients.json")
    access_token=$(curl -s --cacert "$dir/sandbox/ca.pem" \
        -u "$(jq -r .payer_client_id "$ready"):$(jq -r .payer_client_secret "$ready")" \
        --data-urlencode grant_type=refresh_token \
        --data-urlencode "refresh_token=$(jq -r '.[0].refresh_token' "$dir/sandbox/patients.json")" \
        "https://$payer/v2/o/token/" | jq -r .access_token)
    local pages=()
    for start in 0 50 100 150; do
        curl -s --compressed --cacert "$dir/sandbox/ca.pem" -H "Authorization: Bearer $access_token" \
            "https://$payer/v2/fhir/ExplanationOfBenefit?patient=$patient&_count=50&startIndex=$start" \
            >"$dir/page_$start.json"
        pages+=("$dir/page_$start.json")
    done
    stop_sandbox
    local output
    output=$("$eob_cost" --seconds "$seconds" "${pages[@]}")
    echo "$output" >&2
    local line="case=floor $(tail -n 1 <<<"$output")"
    echo "$line" >>"$results"
    log "$line"
}

# profile_case PATIENTS EOBS: one run under perf; writes profile.txt with the top functions.
profile_case() {
    local patients=$1 eobs=$2 dir="$work/profile"
    command -v perf >/dev/null || { echo "bench/run.sh: perf is not installed" >&2; exit 2; }
    mkdir -p "$dir"
    log "profile: $patients patients x $eobs EOBs under perf record -g"
    start_sandbox "$dir" "$patients" "$eobs"
    write_config "$dir" 50 5
    add_patients "$dir"
    perf record -q -F 499 ${BBSYNC_BENCH_CALL_GRAPH:--g} -o "$dir/perf.data" -- \
        "$bbsync" --config "$dir/bbsync.conf" run --once 2>"$dir/daemon.log"
    stop_sandbox
    # perf pads the symbol column to the longest name; squeeze the padding.
    local squeeze='/^#/d; /^$/d; s/ +-  +- *$//; s/ +$//; s/ {3,}/  /g'
    {
        echo "Functions with at least 0.7 % of the daemon's samples:"
        perf report -i "$dir/perf.data" --stdio --no-children --sort dso,symbol --percent-limit 0.7 -g none \
            2>/dev/null | sed -E "$squeeze"
        echo "Samples per shared object:"
        perf report -i "$dir/perf.data" --stdio --no-children --sort dso --percent-limit 0.5 -g none \
            2>/dev/null | sed -E "$squeeze"
    } >"$out/profile.txt"
    cat "$out/profile.txt"
}

# ---------------------------------------------------------------------------------------------
log "work folder $work; load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ $quick -eq 1 ]]; then
    scale_sizes=(20 200)
    rss_levels=(1 4 16)
    rss_eobs=100
    latency_eobs=200
    latency_all_eobs=40
    history_long=200
    commit_shape=(10 200)
    ready_runs=3
    floor_seconds=0.3
else
    scale_sizes=(20 200 2000)
    rss_levels=(1 2 4 8 16 32 64)
    rss_eobs=250
    latency_eobs=500
    latency_all_eobs=100
    history_long=2000
    commit_shape=(20 500)
    ready_runs=7
    floor_seconds=1
fi

if [[ $profile -eq 1 ]]; then
    profile_case 50 "$profile_eobs"
    exit 0
fi
if [[ ${#single[@]} -eq 2 ]]; then
    run_case "case_${single[0]}x${single[1]}" "${single[0]}" "${single[1]}" "${single[0]}" 5
    exit 0
fi

floor_case "$floor_seconds"
ready_case "$ready_runs"
for m in "${scale_sizes[@]}"; do
    run_case "scale_$((50 * m))" 50 "$m" 50 5
done
run_case history_10 50 10 50 5
# History length at the same page fill: history_10 fetches one page of 10 EOBs per patient,
# this one many such pages.
page_size=10 run_case history_long_p10 50 "$history_long" 50 5
for n in "${rss_levels[@]}"; do
    run_case "rss_n$n" "$n" "$rss_eobs" "$n" 5
done
# Latency: 100 ms on every response of every host, so latency and the concurrency limits bound
# the run rather than CPU. Then 100 ms on payer responses only, against the same run without it.
run_case latency_100ms 50 "$latency_all_eobs" 50 5 \
    "payer:/:all:latency=100" "salesforce:/:all:latency=100" "healthcloud:/:all:latency=100"
run_case payer_latency 50 "$latency_eobs" 50 5 "payer:/v2/fhir:all:latency=100"
run_case payer_no_latency 50 "$latency_eobs" 50 5
commit_case commits "${commit_shape[@]}"

# ---------------------------------------------------------------------------------------------
# Summary: every figure comes from results.txt.
field() { grep "^case=$1 " "$results" | sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p"; }

summary="$out/summary.txt"
{
    echo "bbsync benchmark $(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    printf '%-14s %8s %5s %8s %8s %11s %8s %8s %9s %7s %4s %6s\n' \
        case EOBs conc wall_s EOBs/s cpu_s/1kEOB us/EOB rss_MB sandbox_s payer sf hc
    while read -r line; do
        [[ $line == *" wall_s="* ]] || continue
        name=$(value case "$line")
        eobs=$(value eobs "$line")
        wall=$(value wall_s "$line")
        cpu=$(awk -v u="$(value user_s "$line")" -v s="$(value sys_s "$line")" 'BEGIN { print u + s }')
        awk -v n="$name" -v e="$eobs" -v c="$(value concurrency "$line")" -v w="$wall" -v cpu="$cpu" \
            -v rss="$(value max_rss_kb "$line")" -v p="$(value payer "$line")" -v sf="$(value salesforce "$line")" \
            -v hc="$(value healthcloud "$line")" -v sb="$(value sandbox_cpu_s "$line")" \
            'BEGIN { printf "%-14s %8d %5d %8.2f %8.0f %11.3f %8.1f %8.1f %9.2f %7d %4d %6d\n",
                     n, e, c, w, (w > 0 ? e / w : 0), (e > 0 ? cpu / e * 1000 : 0), (e > 0 ? cpu / e * 1e6 : 0),
                     rss / 1024, sb, p, sf, hc }'
    done <"$results"
    echo

    floor=$(field floor floor_us)
    fhir=$(field floor fhir_us)
    largest="scale_$((50 * scale_sizes[-1]))"
    line=$(grep "^case=$largest " "$results")
    cpu_us=$(awk -v u="$(value user_s "$line")" -v s="$(value sys_s "$line")" -v e="$(value eobs "$line")" \
        'BEGIN { print (e > 0 ? (u + s) / e * 1e6 : 0) }')
    awk -v d="$cpu_us" -v f="$floor" -v h="$fhir" -v c="$largest" 'BEGIN {
        printf "CPU per EOB: daemon %.1f us (%s) / floor %.1f us (Boost parse, monotonic) = %.2fx, target <= 3x%s\n",
               d, c, f, d / f, (d / f <= 3 ? "" : "  MISSED")
        printf "             floor with parse_fhir_json instead of Boost parse: %.1f us (%.2fx)\n", h, d / h }'

    rss_large=$(field "$largest" max_rss_kb)
    rss_small=$(field history_10 max_rss_kb)
    awk -v a="$rss_small" -v b="$rss_large" -v c="$largest" 'BEGIN {
        printf "Peak RSS, 50 concurrent patients: 10 EOBs each %.1f MB, %s %.1f MB (target <= 64 MB%s)\n",
               a / 1024, c, b / 1024, (b / 1024 <= 64 ? "" : ", MISSED") }'

    awk -v a="$rss_small" -v b="$(field history_long_p10 max_rss_kb)" -v m="$history_long" 'BEGIN {
        printf "Peak RSS at the same page fill (10 EOBs per page): 10 EOBs each %.1f MB, %d EOBs each %.1f MB\n",
               a / 1024, m, b / 1024 }'

    for n in "${rss_levels[@]}"; do
        echo "$n $(field "rss_n$n" max_rss_kb)"
    done | awk '{ x[NR] = $1; y[NR] = $2 / 1024; sx += $1; sy += $2 / 1024 }
        END {
            n = NR; mx = sx / n; my = sy / n
            for (i = 1; i <= n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ^ 2 }
            b = sxx > 0 ? sxy / sxx : 0; a = my - b * mx
            for (i = 1; i <= n; i++) { r = y[i] - (a + b * x[i]); ss += r * r }
            printf "Peak RSS = a + b*N over N concurrent syncs (least squares, %d points): a = %.2f MB, b = %.3f MB per sync, rms residual %.2f MB\n",
                   n, a, b, sqrt(ss / n) }'

    # With bundle.maxConcurrentCalls = 5 at most 5 Healthcare API calls are in flight, each taking
    # at least 100 ms; payer calls may run 50 x batchCount at once. The slowest host sets the bound.
    line=$(grep "^case=latency_100ms " "$results")
    awk -v e="$(value eobs "$line")" -v w="$(value wall_s "$line")" -v hc="$(value healthcloud "$line")" \
        -v p="$(value payer "$line")" -v c="$(value concurrency "$line")" -v b="$(value batch "$line")" 'BEGIN {
        hc_s = hc * 0.1 / 5; payer_s = p * 0.1 / (c * b); bound_s = hc_s > payer_s ? hc_s : payer_s
        bound = e / bound_s; rate = e / w
        printf "Latency 100 ms on every response, concurrency %d: %.0f EOBs/s = %.1f%% of the bound %.0f EOBs/s (%d Healthcare API calls x 0.1 s / 5 = %.1f s; %d payer calls x 0.1 s / %d = %.1f s) (target >= 80%%%s)\n",
               c, rate, rate / bound * 100, bound, hc, hc_s, p, c * b, payer_s, (rate / bound >= 0.8 ? "" : ", MISSED") }'
    with=$(grep "^case=payer_latency " "$results")
    without=$(grep "^case=payer_no_latency " "$results")
    awk -v e1="$(value eobs "$with")" -v w1="$(value wall_s "$with")" -v e0="$(value eobs "$without")" \
        -v w0="$(value wall_s "$without")" 'BEGIN {
        r1 = e1 / w1; r0 = e0 / w0
        printf "Latency 100 ms on payer responses only: %.0f EOBs/s, %.1f%% of the %.0f EOBs/s of the same run without it\n",
               r1, r1 / r0 * 100, r0 }'

    awk -v s="$(field commits syncs)" -v e="$(field commits eobs)" 'BEGIN {
        printf "SQLite commits per EOB: <= %d syncs / %d EOBs = %.4f (target <= 0.05%s)\n",
               s, e, (e > 0 ? s / e : 0), (e > 0 && s / e <= 0.05 ? "" : ", MISSED") }'

    awk -v m="$(field ready ready_ms_median)" -v all="$(field ready ready_ms_all)" 'BEGIN {
        printf "Start to READY=1, migrated database: median %.1f ms of %s ms (target <= 50 ms%s)\n",
               m, all, (m <= 50 ? "" : ", MISSED") }'
} >"$summary"

# Plot: CPU seconds against EOBs (log-log) and peak RSS against concurrency.
{
    echo "panel DAEMON CPU VS EOBS;EOBS SYNCED;CPU SECONDS;loglog"
    echo "points 31 119 180"
    for m in "${scale_sizes[@]}"; do
        line=$(grep "^case=scale_$((50 * m)) " "$results")
        awk -v e="$(value eobs "$line")" -v u="$(value user_s "$line")" -v s="$(value sys_s "$line")" \
            'BEGIN { if (e > 0) print "p", e, u + s }'
    done
    echo "panel PEAK RSS VS CONCURRENT SYNCS;CONCURRENT SYNCS N;PEAK RSS MB;linlin"
    echo "points 214 39 40"
    for n in "${rss_levels[@]}"; do
        awk -v n="$n" -v k="$(field "rss_n$n" max_rss_kb)" 'BEGIN { print "p", n, k / 1024 }'
    done
} >"$work/plot.spec"
"$plot" "$work/plot.spec" "$out/scale.png"

cat "$summary"
log "results in $results, $summary and $out/scale.png"
exit 0
}
