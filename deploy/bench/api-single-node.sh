#!/usr/bin/env bash
# Throughput and latency of one node: the API in its default embedded mode (one co-hosted silo on SQLite,
# seeded with the bundled MovieLens demo), measured through HTTP on loopback with deploy/bench/loadgen.cs.
#
#   deploy/bench/api-single-node.sh       # CONCURRENCY_LEVELS="1 8 32" SECONDS_PER_RUN=10 PORT=5090 MODES="reads writes"
#
# MODES may add "batches" (POST /events with BATCH_EVENTS events over BATCH_USERS users, default 20 over 5) and
# "sessions" (POST /recommendations with SESSION_ITEMS random items, default 20, each session sent SESSION_LISTS times
# in a row, default 1, as a page with that many lists) and "puts" (PUT
# /items/{id}, a new item each, its text encoded before the answer). API_DIR
# runs an API already published there (another revision, for a comparison) instead of publishing this checkout.
#
# Builds the API in Release, starts it on a fresh temporary data directory, waits for /health/ready, warms up,
# then at each concurrency level measures recommendation reads (GET /users/{id}/recommendations?k=10) and event
# writes (POST /events, one event each): requests/s and p50/p90/p99 latency, plus the node's CPU time per request.
# Concurrency 1 is the baseline the other levels are compared with. Everything started here is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONCURRENCY_LEVELS="${CONCURRENCY_LEVELS:-1 8 32}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-10}"
WARMUP_SECONDS="${WARMUP_SECONDS:-5}"
PORT="${PORT:-5090}"
SILO_PORT="${SILO_PORT:-11190}"
GATEWAY_PORT="${GATEWAY_PORT:-30090}"
READY_TIMEOUT="${READY_TIMEOUT:-300}"
RESULTS="${RESULTS:-$ROOT/artifacts/benchmark/api-single-node.txt}"
URL="http://127.0.0.1:$PORT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/recommender-api-bench.XXXXXX")"
API_PID=""

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

cleanup() {
    if [[ -n "$API_PID" ]] && kill -0 "$API_PID" 2>/dev/null; then
        kill -TERM "$API_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$API_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$API_PID" 2>/dev/null || true
        wait "$API_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# CPU seconds (user + system) the API process has used so far.
cpu_seconds() {
    local fields
    read -r -a fields < "/proc/$API_PID/stat"
    echo "$(( fields[13] + fields[14] )) $(getconf CLK_TCK)" | awk '{ printf "%.2f", $1 / $2 }'
}

field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<< "$2"; }

if curl -fsS -m 2 "$URL/health/live" >/dev/null 2>&1; then
    echo "Something already answers on $URL; choose another PORT." >&2
    exit 1
fi

MODES="${MODES:-reads writes}"
BATCH_EVENTS="${BATCH_EVENTS:-20}"
BATCH_USERS="${BATCH_USERS:-5}"
SESSION_ITEMS="${SESSION_ITEMS:-20}"
SESSION_LISTS="${SESSION_LISTS:-1}"
if [[ -n "${API_DIR:-}" ]]; then
    log "using the API published in $API_DIR; building the load generator"
    cp -r "$API_DIR" "$WORK/api"
else
    log "building the API (Release) and the load generator"
    dotnet publish "$ROOT/src/Recommender.Api" -c Release -o "$WORK/api" -v quiet -nologo >/dev/null
fi
dotnet build "$ROOT/deploy/bench/loadgen.cs" -v quiet -nologo >/dev/null
loadgen() { dotnet run --no-build "$ROOT/deploy/bench/loadgen.cs" -- --url "$URL" "$@"; }

log "starting the API on $URL with data in $WORK/data"
mkdir -p "$WORK/data"
(
    cd "$WORK"
    exec dotnet "$WORK/api/Recommender.Api.dll" --urls "$URL" \
        --Recommender:DataDirectory="$WORK/data" --Orleans:SiloPort="$SILO_PORT" --Orleans:GatewayPort="$GATEWAY_PORT"
) > "$WORK/api.log" 2>&1 &
API_PID=$!

started=$SECONDS
until curl -fsS -m 2 "$URL/health/ready" >/dev/null 2>&1; do
    if ! kill -0 "$API_PID" 2>/dev/null; then
        echo "The API exited before it was ready:" >&2; tail -n 40 "$WORK/api.log" >&2; exit 1
    fi
    if (( SECONDS - started > READY_TIMEOUT )); then
        echo "The API was not ready within ${READY_TIMEOUT}s:" >&2; tail -n 40 "$WORK/api.log" >&2; exit 1
    fi
    sleep 0.5
done
ready_after=$(( SECONDS - started ))
log "ready after ${ready_after}s (demo seeded); warming up for ${WARMUP_SECONDS}s"
loadgen --mode reads --seconds "$WARMUP_SECONDS" --concurrency 8 >/dev/null || true

mkdir -p "$(dirname "$RESULTS")"
{
    echo "# $(date -u +%FT%TZ) api-single-node: embedded mode, SQLite, bundled demo, $(nproc) cores," \
         "load average $(cut -d' ' -f1-3 /proc/loadavg), ${SECONDS_PER_RUN}s per run, ready after ${ready_after}s"
} | tee -a "$RESULTS"

declare -A baseline
failed=0
for concurrency in $CONCURRENCY_LEVELS; do
    for mode in $MODES; do
        before="$(cpu_seconds)"
        line="$(loadgen --mode "$mode" --seconds "$SECONDS_PER_RUN" --concurrency "$concurrency" \
            --batch-events "$BATCH_EVENTS" --batch-users "$BATCH_USERS" --session-items "$SESSION_ITEMS" --session-lists "$SESSION_LISTS")" || failed=1
        after="$(cpu_seconds)"
        requests="$(field requests "$line")"
        throughput="$(field throughput "$line")"
        [[ -n "${baseline[$mode]:-}" ]] || baseline[$mode]="$throughput"
        extra="$(awk -v b="$before" -v a="$after" -v r="${requests:-0}" -v t="${throughput:-0}" -v base="${baseline[$mode]}" \
            'BEGIN { if (r > 0) printf "node_cpu=%.1fs cpu_per_request=%.2fms vs_concurrency_1=%.2fx", a - b, 1000 * (a - b) / r, (base > 0 ? t / base : 0) }')"
        echo "$line $extra" | tee -a "$RESULTS"
    done
done

if grep -qiE "unhandled|fatal" "$WORK/api.log"; then
    echo "The API log reports errors:" >&2; grep -iE "unhandled|fatal" "$WORK/api.log" | head -n 10 >&2; failed=1
fi
exit "$failed"
