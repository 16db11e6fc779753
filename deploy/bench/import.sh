#!/usr/bin/env bash
# How fast `recommender import-items` and `import-events` load a catalogue and a history into a node, what a second
# run of the events (every one already stored) costs, and how fast `export-items` and `export-events` give them back.
#
#   deploy/bench/import.sh          # ITEMS=10000 (with title, text and tags, so every one is text-encoded) USERS=10000 EVENTS=20
#
# A single node without the demo, given the demo's model package (so item texts are placed by its text projection);
# the files are generated; the node, the tool and the generator share this machine. Needs the Release build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ITEMS="${ITEMS:-10000}"
USERS="${USERS:-10000}"
EVENTS="${EVENTS:-20}"
PORT="${PORT:-5331}"
WORK="$(mktemp -d /tmp/import-bench.XXXXXX)"
PIDS=()
. "$ROOT/deploy/bench/side-by-side.sh"
CLI=(dotnet "$ROOT/artifacts/bin/Recommender.Cli/release/recommender.dll")

(cd "$ROOT/artifacts/bin/Recommender.Api/release" && exec env Recommender__DataDirectory="$WORK/node" Recommender__SeedDemo=false \
    Orleans__SiloPort=11331 Orleans__GatewayPort=30331 DOTNET_gcServer=0 \
    dotnet Recommender.Api.dll --urls "http://127.0.0.1:$PORT" > "$WORK/node.log" 2>&1) &
PIDS+=($!)
until curl -fsS -m 2 "http://127.0.0.1:$PORT/health/live" >/dev/null 2>&1; do sleep 0.5; done
MODEL="$ROOT/src/Recommender.Hosting/Demo/model"
VERSION="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['version'])" "$MODEL/manifest.json")"
curl -fsS -X POST "http://127.0.0.1:$PORT/models" -F "manifest=@$MODEL/manifest.json" -F "encoder=@$MODEL/encoder.onnx" \
    -F "embeddings=@$MODEL/item_embeddings.bin" -F "text_projection=@$MODEL/text_projection.onnx" > /dev/null
curl -fsS -X POST "http://127.0.0.1:$PORT/models/$VERSION/activate" > /dev/null
wait_ready node "${PIDS[0]}" "http://127.0.0.1:$PORT"

python3 - "$WORK" "$ITEMS" "$USERS" "$EVENTS" <<'EOF'
import json, random, sys
work, items, users, events = sys.argv[1], *map(int, sys.argv[2:5])
random.seed(11)
words = "red blue green wool cotton linen summer winter classic slim loose soft warm light dark striped plain".split()
with open(f"{work}/items.jsonl", "w") as out:
    for i in range(items):
        out.write(json.dumps({"id": f"sku-{i}", "title": f"{random.choice(words).title()} {random.choice(words)} shirt {i}",
                              "text": " ".join(random.sample(words, 6)), "tags": random.sample(words, 2)}) + "\n")
with open(f"{work}/events.csv", "w") as out:
    out.write("user_id,item_id,event_type,timestamp,event_id,value\n")
    for u in range(users):
        for e in range(events):
            out.write(f"user-{u},sku-{random.randrange(items)},view,2026-01-01T{e // 60:02d}:{e % 60:02d}:{u % 60:02d}Z,user-{u}-{e},\n")
EOF
log "files: $ITEMS items ($(du -h "$WORK/items.jsonl" | cut -f1)), $((USERS * EVENTS)) events ($(du -h "$WORK/events.csv" | cut -f1))"

for run in items events events-again; do
    file="$WORK/items.jsonl"; command=import-items
    [[ $run == items ]] || { file="$WORK/events.csv"; command=import-events; }
    started=$(date +%s.%N)
    "${CLI[@]}" "$command" --file "$file" --api "http://127.0.0.1:$PORT" | grep -v '%' | tee "$WORK/$run.log"
    log "$run: $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s wall, including the tool's start"
done
for what in items events; do
    started=$(date +%s.%N)
    "${CLI[@]}" "export-$what" --api "http://127.0.0.1:$PORT" --out "$WORK/exported-$what"
    log "export-$what: $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s wall, including the tool's start"
done
