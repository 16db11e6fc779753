#!/usr/bin/env bash
# Throughput and latency of recommendation reads and event writes through one API front end,
# with 1, 2 and 3 silos on this machine (loopback only, each load run bounded in time).
#
#   deploy/bench/run-benchmark.sh            # SECONDS_PER_RUN=15 CONCURRENCY=16 SILO_COUNTS="1 2 3"
#
# The database and the demo catalogue are set up once and kept across the silo counts; each count
# starts its silos and front end afresh, warms up, then measures reads and writes in turn. The
# 1-silo figures are the baseline the others are compared with. cpu_per_request is the CPU time the
# silos, the front end and PostgreSQL spent per request (the load generator excluded).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export RECOMMENDER_CLUSTER_DIR="${RECOMMENDER_CLUSTER_DIR:-/tmp/recommender-benchmark}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-15}"
CONCURRENCY="${CONCURRENCY:-16}"
SILO_COUNTS="${SILO_COUNTS:-1 2 3}"
API_PORT_BASE="${API_PORT_BASE:-5001}"
RESULTS="${RESULTS:-$ROOT/artifacts/benchmark/cluster-scaling.txt}"
# Every node of the local cluster (and the load generator) shares the same few cores: idle thread-pool
# threads spinning for work would burn CPU that other processes need, so spinning is off. (A silo on a
# machine of its own does not need this.)
export DOTNET_ThreadPool_UnfairSemaphoreSpinLimit="${DOTNET_ThreadPool_UnfairSemaphoreSpinLimit:-0}"
mkdir -p "$(dirname "$RESULTS")"

cleanup() { SILOS=4 APIS=1 "$ROOT/deploy/local-cluster.sh" stop >/dev/null 2>&1 || true; }
trap cleanup EXIT

# Build the load generator once, before any cluster runs, so compilation is not measured.
dotnet build "$ROOT/deploy/bench/loadgen.cs" -v quiet -nologo >/dev/null
loadgen() { dotnet run --no-build "$ROOT/deploy/bench/loadgen.cs" -- --url "http://127.0.0.1:$API_PORT_BASE" "$@"; }

# CPU seconds (user + system) used so far by the cluster's processes, as "front-ends silos postgres":
# the API processes, the silo processes, and the PostgreSQL server with its backends. The load
# generator is not counted.
cluster_cpu_seconds() {
    local postmaster stat pid api=0 silo=0 pg=0 fields
    postmaster="$(head -n 1 "$RECOMMENDER_CLUSTER_DIR/pg/data/postmaster.pid")"
    for stat in /proc/[0-9]*/stat; do
        read -r -a fields < "$stat" 2>/dev/null || continue
        pid="${fields[0]}"
        if [[ "$pid" == "$postmaster" || "${fields[3]}" == "$postmaster" ]]; then
            pg=$((pg + fields[13] + fields[14]))
        fi
    done
    for stat in "$RECOMMENDER_CLUSTER_DIR"/pids/*.pid; do
        read -r -a fields < "/proc/$(cat "$stat")/stat" 2>/dev/null || continue
        case "$(basename "$stat")" in
            api*) api=$((api + fields[13] + fields[14])) ;;
            silo*) silo=$((silo + fields[13] + fields[14])) ;;
        esac
    done
    echo "$api $silo $pg $(getconf CLK_TCK)" | awk '{ printf "%.2f %.2f %.2f", $1 / $4, $2 / $4, $3 / $4 }'
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), ${SECONDS_PER_RUN}s per run, concurrency $CONCURRENCY" | tee -a "$RESULTS"
for silos in $SILO_COUNTS; do
    SILOS="$silos" APIS=1 "$ROOT/deploy/local-cluster.sh" start
    # Warm-up: activate user grains and load the model on every silo before measuring.
    loadgen --mode reads --seconds "${WARMUP_SECONDS:-10}" --concurrency "$CONCURRENCY" >/dev/null || true
    for mode in reads writes; do
        before="$(cluster_cpu_seconds)"
        line="$(loadgen --mode "$mode" --seconds "$SECONDS_PER_RUN" --concurrency "$CONCURRENCY" || true)"
        after="$(cluster_cpu_seconds)"
        requests="$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<< "$line")"
        cpu="$(echo "$before $after ${requests:-0}" | awk '$7 > 0 {
            api = $4 - $1; silo = $5 - $2; pg = $6 - $3; total = api + silo + pg
            printf "cluster_cpu=%.1fs cpu_per_request=%.2fms (api %.2f, silos %.2f, postgres %.2f)", total, 1000 * total / $7, 1000 * api / $7, 1000 * silo / $7, 1000 * pg / $7 }')"
        echo "silos=$silos $line $cpu" | tee -a "$RESULTS"
    done
    SILOS="$silos" APIS=1 "$ROOT/deploy/local-cluster.sh" stop
done
