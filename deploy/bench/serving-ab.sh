#!/usr/bin/env bash
# Serving throughput of this checkout against another one (a previous release), both up at once. The serving
# benchmark's catalogue (100,000 synthetic items, dim 64, a randomly initialised SASRec of max length 200) is loaded
# into two single nodes (embedded mode, SQLite), one built from each checkout; short bursts of the same load then go
# to each node in turn, round after round, the first node of a round alternating, so that the machine's slow spells
# (which last about as long as a whole serving-bench.sh run here) fall on both builds alike. Per mode it prints each
# build's reads a second and CPU time per read, summed over the rounds, and the ratio of each round's pair.
#
#   git worktree add /tmp/base <revision>
#   deploy/bench/serving-ab.sh /tmp/base      # ROUNDS=8 SECONDS_PER_BURST=10 MODES="cached recompute" CONCURRENCY=8
#
# MODES are serving-bench.cs load modes: cached (interest vectors cached, a full shard scan per read), recompute (an
# event before every read, so every read re-encodes), dismiss, writes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BASE="${1:?usage: deploy/bench/serving-ab.sh OTHER_CHECKOUT (e.g. a git worktree of the previous release)}"
BASE="$(cd "$BASE" && pwd)"
[[ -f "$BASE/src/Recommender.Api/Recommender.Api.csproj" ]] || { echo "$BASE is not a checkout of this project (no src/Recommender.Api)" >&2; exit 2; }
ITEMS="${ITEMS:-100000}"; USERS="${USERS:-2000}"; CONCURRENCY="${CONCURRENCY:-8}"
ROUNDS="${ROUNDS:-8}"; SECONDS_PER_BURST="${SECONDS_PER_BURST:-10}"; MODES="${MODES:-cached recompute}"
BASE_PORT="${BASE_PORT:-5280}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/recommender-serving-ab.XXXXXX")"
export DOTNET_ThreadPool_UnfairSemaphoreSpinLimit="${DOTNET_ThreadPool_UnfairSemaphoreSpinLimit:-0}"
BUILDS=(this base)
declare -A SOURCE_OF=([this]="$ROOT" [base]="$BASE") PID_OF URL_OF
PIDS=()
# shellcheck source=side-by-side.sh
source "$ROOT/deploy/bench/side-by-side.sh"
bench() { dotnet run -c Release --no-build "$ROOT/deploy/bench/serving-bench.cs" -- "$@"; }

for build in "${BUILDS[@]}"; do
    log "publishing the API of ${SOURCE_OF[$build]} ($build, $(git -C "${SOURCE_OF[$build]}" rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'))"
    dotnet publish "${SOURCE_OF[$build]}/src/Recommender.Api" -c Release -o "$WORK/$build/api" -v quiet -nologo >/dev/null
done
dotnet build -c Release "$ROOT/deploy/bench/serving-bench.cs" -v quiet -nologo >/dev/null
bench generate --out "$WORK/seed" --items "$ITEMS" --users "$USERS" --history 50 >&2

for i in "${!BUILDS[@]}"; do
    build="${BUILDS[$i]}"
    port=$(( BASE_PORT + i ))
    mkdir -p "$WORK/$build/data"
    (
        cd "$WORK/$build"
        exec dotnet "$WORK/$build/api/Recommender.Api.dll" --urls "http://127.0.0.1:$port" \
            --Recommender:DataDirectory="$WORK/$build/data" --Recommender:Seed:Source="$WORK/seed" \
            --Recommender:Seed:PopularCount=100 --Logging:LogLevel:Default=Warning \
            --Orleans:SiloPort=$(( 11390 + i )) --Orleans:GatewayPort=$(( 30290 + i ))
    ) > "$WORK/$build.log" 2>&1 &
    PIDS+=($!)
    PID_OF[$build]=$!
    URL_OF[$build]="http://127.0.0.1:$port"
done
for build in "${BUILDS[@]}"; do
    wait_ready "$build" "${PID_OF[$build]}" "${URL_OF[$build]}"
    bench register --url "${URL_OF[$build]}" --items "$ITEMS" --dim 64 --maxlen 200 >&2
done

declare -A READS CPU
for mode in $MODES; do
    log "warming both nodes up: $mode"
    for build in "${BUILDS[@]}"; do
        bench load --url "${URL_OF[$build]}" --mode "$mode" --users "$USERS" --items "$ITEMS" --seconds 3 \
            --concurrency "$CONCURRENCY" >/dev/null
    done
    for build in "${BUILDS[@]}"; do READS[$mode,$build]=0; CPU[$mode,$build]=0; done
done

declare -A PAIRS
for mode in $MODES; do PAIRS[$mode]=""; done
for round in $(seq 1 "$ROUNDS"); do
    # Odd rounds start with this build, even rounds with the other.
    if (( round % 2 )); then order=(this base); else order=(base this); fi
    for mode in $MODES; do
        declare -A rate=()
        for build in "${order[@]}"; do
            before="$(cpu_seconds "${PID_OF[$build]}")"
            line="$(bench load --url "${URL_OF[$build]}" --mode "$mode" --users "$USERS" --items "$ITEMS" \
                --seconds "$SECONDS_PER_BURST" --concurrency "$CONCURRENCY")" \
                || { echo "errors against the $build node: $line" >&2; exit 1; }
            after="$(cpu_seconds "${PID_OF[$build]}")"
            reads="$(field reads "$line")"
            READS[$mode,$build]=$(( READS[$mode,$build] + reads ))
            CPU[$mode,$build]="$(awk -v c="${CPU[$mode,$build]}" -v b="$before" -v a="$after" 'BEGIN { printf "%.2f", c + a - b }')"
            rate[$build]="$(field 'recs/s' "$line")"
        done
        pair="$(awk -v t="${rate[this]}" -v b="${rate[base]}" 'BEGIN { printf "%.2f", t / b }')"
        PAIRS[$mode]+="$pair "
        log "round $round of $ROUNDS, $mode: this ${rate[this]}/s, base ${rate[base]}/s ($pair×)"
    done
done

echo "# $(date -u +%FT%TZ) serving-ab: this $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') against $(git -C "$BASE" rev-parse --short HEAD 2>/dev/null || echo "$BASE"), $ROUNDS rounds of ${SECONDS_PER_BURST}s per node and mode, concurrency $CONCURRENCY, $(nproc) cores (both nodes and the load generator share them)"
for mode in $MODES; do
    seconds=$(( ROUNDS * SECONDS_PER_BURST ))
    awk -v m="$mode" -v s="$seconds" -v tr="${READS[$mode,this]}" -v br="${READS[$mode,base]}" \
        -v tc="${CPU[$mode,this]}" -v bc="${CPU[$mode,base]}" -v pairs="${PAIRS[$mode]}" 'BEGIN {
            n = split(pairs, p, " "); below = 0
            for (i = 1; i <= n; i++) if (p[i] < 1) below++
            printf "mode=%s this=%.1f/s base=%.1f/s ratio=%.3fx cpu_per_read this=%.3fms base=%.3fms ratio=%.3fx rounds_this_slower=%d/%d pairs=%s\n",
                m, tr / s, br / s, tr / br, 1000 * tc / tr, 1000 * bc / br, (tc / tr) / (bc / br), below, n, pairs }'
done
