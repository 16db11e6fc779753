#!/usr/bin/env bash
# Serving benchmark: a 100,000-item catalogue (synthetic vectors, dim 64) served by a randomly initialised SASRec
# (maxlen 200) through the HTTP API of one embedded node on loopback.
#
#   deploy/bench/serving-bench.sh        # ITEMS=100000 USERS=2000 SECONDS_PER_RUN=20 CONCURRENCY=8 PORT=5080
#
# (a) cached interest vectors, full shard scan on every read; (b) an event before every read, so every read
# re-encodes; (b') a dismissal before every read, which the cached vector survives; (c) the shard scan in-process
# against this machine's memory bandwidth. The node's own batch-size histogram is read from /metrics after (b).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ITEMS="${ITEMS:-100000}"; USERS="${USERS:-2000}"; SECONDS_PER_RUN="${SECONDS_PER_RUN:-20}"; CONCURRENCY="${CONCURRENCY:-8}"; PORT="${PORT:-5080}"
WORK="${WORK:-/tmp/serving-bench}"
URL="http://127.0.0.1:$PORT"
export DOTNET_ThreadPool_UnfairSemaphoreSpinLimit="${DOTNET_ThreadPool_UnfairSemaphoreSpinLimit:-0}"
rm -rf "$WORK" && mkdir -p "$WORK"

dotnet build -c Release "$ROOT/src/Recommender.Api" -v quiet -nologo >/dev/null
dotnet build -c Release "$ROOT/deploy/bench/serving-bench.cs" -v quiet -nologo >/dev/null
bench() { dotnet run -c Release --no-build "$ROOT/deploy/bench/serving-bench.cs" -- "$@"; }
API_DLL="$(find "$ROOT/artifacts/${BUILD_SLOT:-}/bin/Recommender.Api" "$ROOT/artifacts/bin/Recommender.Api" -name Recommender.Api.dll -path "*release*" 2>/dev/null | head -n 1 || true)"

bench generate --out "$WORK/seed" --items "$ITEMS" --users "$USERS" --history 50
(cd "$(dirname "$API_DLL")" && exec dotnet Recommender.Api.dll --urls "$URL" --Recommender:DataDirectory="$WORK/data" \
    --Recommender:Seed:Source="$WORK/seed" --Recommender:Seed:PopularCount=100 --Logging:LogLevel:Default=Warning) > "$WORK/api.log" 2>&1 &
API_PID=$!
trap 'kill $API_PID 2>/dev/null || true; wait $API_PID 2>/dev/null || true' EXIT
until curl -sf "$URL/health/ready" >/dev/null; do sleep 1; kill -0 $API_PID || { cat "$WORK/api.log"; exit 1; }; done

bench register --url "$URL" --items "$ITEMS" --dim 64 --maxlen 200
echo "# $(date -u +%FT%TZ) $(nproc) cores; API node and load generator share them"
bench load --url "$URL" --mode cached --users "$USERS" --items "$ITEMS" --seconds "$SECONDS_PER_RUN" --concurrency "$CONCURRENCY"
bench load --url "$URL" --mode recompute --users "$USERS" --items "$ITEMS" --seconds "$SECONDS_PER_RUN" --concurrency "$CONCURRENCY"
curl -s "$URL/metrics" | grep -E '^recommender_inference_batch_(size|duration)[a-z_]*_(sum|count)|^recommender_recommendation_duration_milliseconds_(sum|count)' || true
bench load --url "$URL" --mode dismiss --users "$USERS" --items "$ITEMS" --seconds "$SECONDS_PER_RUN" --concurrency "$CONCURRENCY"
bench load --url "$URL" --mode writes --users "$USERS" --items "$ITEMS" --seconds "$SECONDS_PER_RUN" --concurrency "$CONCURRENCY"
kill $API_PID; wait $API_PID 2>/dev/null || true
bench scan --items "$ITEMS" --dim 64 --shards "$(( $(nproc) * 2 ))"
