#!/usr/bin/env bash
# Bulk item loading as the catalogue grows: POST /items in batches of short titles with one tag each (texts encoded
# by the node) into one node in its default embedded mode (SQLite) on an empty data directory, no demo.
#
#   deploy/bench/bulk-items.sh      # BATCHES=200 BATCH_SIZE=500 REPORT_EVERY=10 SINGLES=0 HIDDEN=false SEED_DEMO=false ACTIVATIONS=false PORT=5095
#                                   # API_DIR=artifacts/bin/Recommender.Api/release
#
# Every REPORT_EVERY batches it prints the item count, the last batch's wall time, the sum of all batch times so far,
# the data directory's size and the node's resident memory. SINGLES=n then also adds n new items one PUT /items/{id}
# at a time and prints their mean and slowest wall time: what one new item costs at that catalogue size.
# HIDDEN=true writes every second bulk item and every single one hidden ("hidden": true), so that the hidden set
# grows with the catalogue and each single PUT changes it.
# SEED_DEMO=true starts from the demo (an active model with a text projection, so every item is placed in a shard).
# ACTIVATIONS=true then trains one epoch of a small SASRec over exactly the loaded items (random sequences, BCE),
# exports it as two versions, registers both and activates them in turn (a, b, a), printing each activation's wall
# time, the phases the node logs for it, and the count, mean and slowest of the PUTs sent one after another meanwhile.
# API_DIR may point at another build's output to compare two versions one after the other on the same machine.
# Everything started here is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BATCHES="${BATCHES:-200}"
BATCH_SIZE="${BATCH_SIZE:-500}"
REPORT_EVERY="${REPORT_EVERY:-10}"
SINGLES="${SINGLES:-0}"
HIDDEN="${HIDDEN:-false}"
SEED_DEMO="${SEED_DEMO:-false}"
ACTIVATIONS="${ACTIVATIONS:-false}"
PORT="${PORT:-5095}"
SILO_PORT="${SILO_PORT:-11195}"
GATEWAY_PORT="${GATEWAY_PORT:-30095}"
URL="http://127.0.0.1:$PORT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bulk-items.XXXXXX")"

if [[ -z "${API_DIR:-}" ]]; then
    dotnet build -c Release "$ROOT/src/Recommender.Api" -v quiet -nologo >/dev/null
    API_DIR="$ROOT/artifacts/bin/Recommender.Api/release"
fi
API_DIR="$(cd "$API_DIR" && pwd)"

(cd "$API_DIR" && exec dotnet Recommender.Api.dll --urls "$URL" --Recommender:DataDirectory="$WORK/data" --Recommender:SeedDemo="$SEED_DEMO" \
    --Orleans:SiloPort="$SILO_PORT" --Orleans:GatewayPort="$GATEWAY_PORT" --Logging:LogLevel:Default=Warning \
    --Logging:LogLevel:Recommender.Grains.Catalogue=Information) > "$WORK/api.log" 2>&1 &
API_PID=$!
trap 'kill $API_PID 2>/dev/null || true; wait $API_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
# Without the demo no model is active, so the node never reports ready: wait for it to be live instead.
HEALTH=live
[[ "$SEED_DEMO" == true ]] && HEALTH=ready
until curl -sf "$URL/health/$HEALTH" >/dev/null; do sleep 1; kill -0 $API_PID 2>/dev/null || { cat "$WORK/api.log"; exit 1; }; done

words=(red blue green quick lazy brown fox dog river mountain city night story song dance garden ocean winter summer light)
batch_json() {
    local first=$1 i sep="" hidden=""
    printf '['
    for ((i = first; i < first + BATCH_SIZE; i++)); do
        hidden=""
        [[ "$HIDDEN" == true && $((i % 2)) == 0 ]] && hidden=',"hidden":true'
        printf '%s{"id":"item-%d","title":"%s %s %s %s %d","tags":["%s"]%s}' "$sep" "$i" \
            "${words[RANDOM % 20]}" "${words[RANDOM % 20]}" "${words[RANDOM % 20]}" "${words[RANDOM % 20]}" "$i" "${words[RANDOM % 20]}" "$hidden"
        sep=","
    done
    printf ']'
}

RANDOM=1
echo "# $(date -u +%FT%TZ) $(nproc) cores, $API_DIR"
total_ms=0
for ((b = 0; b < BATCHES; b++)); do
    batch_json $((b * BATCH_SIZE)) > "$WORK/batch.json"
    start=$(date +%s%N)
    code=$(curl -s -o "$WORK/response.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/batch.json" "$URL/items")
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    total_ms=$((total_ms + ms))
    [[ "$code" == 200 ]] || { echo "batch $b: HTTP $code $(head -c 300 "$WORK/response.json")"; exit 1; }
    if (( (b + 1) % REPORT_EVERY == 0 || b == 0 )); then
        rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$API_PID/status)
        singles=""
        if (( SINGLES > 0 )); then
            single_total=0 single_max=0 single_hidden=""
            [[ "$HIDDEN" == true ]] && single_hidden=',"hidden":true'
            for ((i = 0; i < SINGLES; i++)); do
                start=$(date +%s%N)
                code=$(curl -s -o "$WORK/response.json" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
                    --data "{\"title\":\"${words[RANDOM % 20]} ${words[RANDOM % 20]} single $b $i\",\"tags\":[\"${words[RANDOM % 20]}\"]$single_hidden}" "$URL/items/single-$b-$i")
                single_ms=$(( ($(date +%s%N) - start) / 1000000 ))
                [[ "$code" == 20[01] ]] || { echo "single item $b-$i: HTTP $code $(head -c 300 "$WORK/response.json")"; exit 1; }
                single_total=$((single_total + single_ms))
                (( single_ms > single_max )) && single_max=$single_ms
            done
            singles=", single PUT mean $((single_total / SINGLES)) ms (slowest ${single_max})"
        fi
        echo "items $(( (b + 1) * BATCH_SIZE )): batch ${ms} ms, batches so far $((total_ms / 1000)).$(( (total_ms % 1000) / 100 )) s, data $(du -sm "$WORK/data" | cut -f1) MB, node $((rss_kb / 1024)) MB$singles"
    fi
done

[[ "$ACTIVATIONS" == true ]] || exit 0
ITEMS=$((BATCHES * BATCH_SIZE))
CLI="$ROOT/artifacts/bin/Recommender.Cli/release/recommender.dll"
dotnet build -c Release "$ROOT/src/Recommender.Cli" -v quiet -nologo >/dev/null
# Dense id d is item-(d-1): 50-item random sequences, enough of them that every item appears.
awk -v items="$ITEMS" 'BEGIN { srand(1); for (d = 1; d <= items; d++) printf "item-%d\n", d - 1 > "/dev/stderr";
    for (l = 0; l < items / 25; l++) { line = ""; for (j = 0; j < 50; j++) line = line (j ? " " : "") (1 + (l * 25 + j) % items);
    print line } }' > "$WORK/sequences.txt" 2> "$WORK/item-ids.txt"
dotnet "$CLI" train --train "$WORK/sequences.txt" --out "$WORK/run" --loss bce --dim 64 --blocks 1 --heads 1 --max-length 50 \
    --epochs 1 --no-validation --items "$ITEMS" > "$WORK/train.log" 2>&1 || { cat "$WORK/train.log"; exit 1; }
mkdir -p "$WORK/data/models/.incoming"
for version in bench-a bench-b; do
    dotnet "$CLI" export --checkpoint "$WORK/run/best.model" --item-ids "$WORK/item-ids.txt" --version "$version" \
        --out "$WORK/data/models/.incoming/$version" > /dev/null
    code=$(curl -s -o "$WORK/response.json" -w '%{http_code}' -X POST "$URL/models/$version/register")
    [[ "$code" == 20[01] ]] || { echo "register $version: HTTP $code $(head -c 300 "$WORK/response.json")"; exit 1; }
done
(
    n=0 slowest=0 total=0
    while [[ ! -f "$WORK/stop" ]]; do
        start=$(date +%s%N)
        code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' --data "{\"title\":\"during $n\"}" "$URL/items/during-$n")
        [[ "$code" == 200 ]] || echo "PUT during-$n: HTTP $code"
        ms=$(( ($(date +%s%N) - start) / 1000000 ))
        (( ms > slowest )) && slowest=$ms
        total=$((total + ms))
        n=$((n + 1))
    done
    echo "PUTs during the activations: $n, mean $((total / (n > 0 ? n : 1))) ms, slowest $slowest ms"
) &
PUTS_PID=$!
for version in bench-a bench-b bench-a; do
    start=$(date +%s%N)
    code=$(curl -s -o "$WORK/response.json" -w '%{http_code}' -X POST "$URL/models/$version/activate")
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [[ "$code" == 200 ]] || { echo "activate $version: HTTP $code $(head -c 300 "$WORK/response.json")"; exit 1; }
    sleep 1
    echo "activate $version: ${ms} ms; $(grep -o 'Model [^ ]* active over.*' "$WORK/api.log" | tail -1 | sed 's/.*; \([0-9]* ms: \)/\1/')"
done
touch "$WORK/stop"
wait $PUTS_PID
