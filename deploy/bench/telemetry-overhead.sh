#!/usr/bin/env bash
# What OTLP export costs a node, signal by signal: five single nodes (embedded mode, SQLite, bundled demo) run side by
# side: one without export, one sending its logs, one its logs and metrics, one its logs and traces of 1 % of requests
# (parentbased_traceidratio 0.01) and one its logs and traces of every request (parentbased_always_on), all to one
# OTLP/HTTP sink that reads and discards what it gets. Short bursts of load go to each node in turn, round after
# round, so that the machine's drift over the run falls on all five alike; each node's requests/s and CPU time per
# request are summed over the rounds and compared with the node without export.
#
#   deploy/bench/telemetry-overhead.sh      # ROUNDS=8 SECONDS_PER_BURST=8 CONCURRENCY=8 MODE=reads
#
# MODE is a loadgen mode (reads: cached recommendations; writes: one event per request). The sink runs on the same
# cores as the nodes (python3, from Debian); a collector elsewhere would take that share off this machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROUNDS="${ROUNDS:-8}"
SECONDS_PER_BURST="${SECONDS_PER_BURST:-8}"
CONCURRENCY="${CONCURRENCY:-8}"
MODE="${MODE:-reads}"
BASE_PORT="${BASE_PORT:-5190}"
SINK_PORT="${SINK_PORT:-4398}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/recommender-telemetry-bench.XXXXXX")"
VARIANTS=(none logs metrics-logs traces-1pct-logs traces-all-logs)
PIDS=()
# shellcheck source=side-by-side.sh
source "$ROOT/deploy/bench/side-by-side.sh"

log "building the API (Release) and the load generator"
dotnet publish "$ROOT/src/Recommender.Api" -c Release -o "$WORK/api" -v quiet -nologo >/dev/null
dotnet build "$ROOT/deploy/bench/loadgen.cs" -v quiet -nologo >/dev/null

python3 - "$SINK_PORT" > "$WORK/sink.log" 2>&1 <<'EOF' &
import http.server, sys
class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        self.send_response(200)
        self.send_header('Content-Type', 'application/x-protobuf')
        self.send_header('Content-Length', '0')
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), Sink).serve_forever()
EOF
PIDS+=($!)

declare -A PID_OF URL_OF
for i in "${!VARIANTS[@]}"; do
    variant="${VARIANTS[$i]}"
    port=$(( BASE_PORT + i ))
    mkdir -p "$WORK/$variant/data"
    settings=()
    case "$variant" in
        logs) settings=(OTEL_TRACES_EXPORTER=none OTEL_METRICS_EXPORTER=none) ;;
        metrics-logs) settings=(OTEL_TRACES_EXPORTER=none) ;;
        traces-1pct-logs) settings=(OTEL_METRICS_EXPORTER=none OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.01) ;;
        traces-all-logs) settings=(OTEL_METRICS_EXPORTER=none OTEL_TRACES_SAMPLER=parentbased_always_on) ;;
    esac
    if [[ "$variant" != none ]]; then
        settings+=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)
    fi
    (
        cd "$WORK/$variant"
        exec env "${settings[@]}" dotnet "$WORK/api/Recommender.Api.dll" --urls "http://127.0.0.1:$port" \
            --Recommender:DataDirectory="$WORK/$variant/data" \
            --Orleans:SiloPort=$(( 11290 + i )) --Orleans:GatewayPort=$(( 30190 + i ))
    ) > "$WORK/$variant.log" 2>&1 &
    PIDS+=($!)
    PID_OF[$variant]=$!
    URL_OF[$variant]="http://127.0.0.1:$port"
done

for variant in "${VARIANTS[@]}"; do wait_ready "$variant" "${PID_OF[$variant]}" "${URL_OF[$variant]}"; done
log "all ${#VARIANTS[@]} nodes ready; warming each up"
for variant in "${VARIANTS[@]}"; do
    dotnet run --no-build "$ROOT/deploy/bench/loadgen.cs" -- --url "${URL_OF[$variant]}" --mode "$MODE" --seconds 3 \
        --concurrency "$CONCURRENCY" >/dev/null || true
done

declare -A REQUESTS SECONDS_RUN CPU
for variant in "${VARIANTS[@]}"; do REQUESTS[$variant]=0; SECONDS_RUN[$variant]=0; CPU[$variant]=0; done
for round in $(seq 1 "$ROUNDS"); do
    # Each round starts with the next variant, so none always follows the same one.
    first=$(( (round - 1) % ${#VARIANTS[@]} ))
    order=("${VARIANTS[@]:$first}" "${VARIANTS[@]:0:$first}")
    for variant in "${order[@]}"; do
        before="$(cpu_seconds "${PID_OF[$variant]}")"
        line="$(dotnet run --no-build "$ROOT/deploy/bench/loadgen.cs" -- --url "${URL_OF[$variant]}" --mode "$MODE" \
            --seconds "$SECONDS_PER_BURST" --concurrency "$CONCURRENCY")"
        after="$(cpu_seconds "${PID_OF[$variant]}")"
        [[ "$(field errors "$line")" == 0 ]] || { echo "errors against the $variant node: $line" >&2; exit 1; }
        REQUESTS[$variant]=$(( REQUESTS[$variant] + $(field requests "$line") ))
        SECONDS_RUN[$variant]=$(( SECONDS_RUN[$variant] + SECONDS_PER_BURST ))
        CPU[$variant]="$(awk -v c="${CPU[$variant]}" -v b="$before" -v a="$after" 'BEGIN { printf "%.2f", c + a - b }')"
    done
    log "round $round of $ROUNDS done"
done

echo "# $(date -u +%FT%TZ) telemetry-overhead: $MODE, concurrency $CONCURRENCY, $ROUNDS rounds of ${SECONDS_PER_BURST}s per node, $(nproc) cores"
for variant in "${VARIANTS[@]}"; do
    awk -v v="$variant" -v r="${REQUESTS[$variant]}" -v s="${SECONDS_RUN[$variant]}" -v c="${CPU[$variant]}" \
        -v br="${REQUESTS[none]}" -v bc="${CPU[none]}" 'BEGIN {
            printf "variant=%s throughput=%.1f/s cpu_per_request=%.3fms vs_none_throughput=%.2fx vs_none_cpu_per_request=%.2fx\n",
                v, r / s, 1000 * c / r, r / br, (c / r) / (bc / br) }'
done
