#!/usr/bin/env bash
# A single node grown large, moved into a cluster: how long `recommender move-to-cluster` takes, and whether the
# cluster then answers as the node did.
#
#   deploy/bench/move-to-cluster.sh          # ITEMS=100000 USERS=20000 EVENTS=25 by default
#
# A single node (the demo: 610 users, 9,742 movies, two model packages) is given ITEMS more items (with embeddings, in
# batches of 500) and USERS more users of EVENTS events each (in batches of 1,000), then stopped; a private
# PostgreSQL is started with deploy/local-cluster.sh database, the node moved into it, and a cluster of one silo and one
# front end started on it (deploy/local-cluster.sh start), which must give SAMPLE users the history length and the
# list the node gave them. Needs the Release build (dotnet build Cluster.sln -c Release).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ITEMS="${ITEMS:-100000}"
USERS="${USERS:-20000}"
EVENTS="${EVENTS:-25}"
SAMPLE="${SAMPLE:-50}"
NODE_PORT="${NODE_PORT:-5301}"
WORK="$(mktemp -d /tmp/move-to-cluster.XXXXXX)"
chmod 755 "$WORK"   # the PostgreSQL server runs as postgres, under it
export RECOMMENDER_CLUSTER_DIR="$WORK/cluster" PG_PORT="${PG_PORT:-55433}" API_PORT_BASE="${API_PORT_BASE:-5311}" \
    SILO_HTTP_BASE=5321 SILO_PORT_BASE=11311 GATEWAY_PORT_BASE=30311 SILOS=1 APIS=1 NO_BUILD=1
PIDS=()
. "$ROOT/deploy/bench/side-by-side.sh"
cleanup_cluster() { "$ROOT/deploy/local-cluster.sh" stop >/dev/null 2>&1 || true; cleanup; }
trap cleanup_cluster EXIT

log "single node on $WORK/node (demo, then $ITEMS items and $USERS users x $EVENTS events)"
(cd "$ROOT/artifacts/bin/Recommender.Api/release" && exec env Recommender__DataDirectory="$WORK/node" Recommender__SeedDemo=true \
    Orleans__SiloPort=11301 Orleans__GatewayPort=30301 DOTNET_gcServer=0 \
    dotnet Recommender.Api.dll --urls "http://127.0.0.1:$NODE_PORT" > "$WORK/node.log" 2>&1) &
PIDS+=($!)
NODE_PID=$!
wait_ready node "$NODE_PID" "http://127.0.0.1:$NODE_PORT"

python3 - "http://127.0.0.1:$NODE_PORT" "$ITEMS" "$USERS" "$EVENTS" "$SAMPLE" "$WORK/node-answers.json" <<'EOF'
import json, random, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor
url, items, users, events, sample, out = sys.argv[1], *map(int, sys.argv[2:6]), sys.argv[6]
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"null")
models = call("GET", "/models")
dimension = next(m["dimension"] for m in models["models"] if m["version"] == models["active"])
random.seed(7)
start = time.time()
def item_batch(b):
    call("POST", "/items", [{"id": f"bench-{i}", "title": f"Item {i}", "tags": [f"t{i % 20}"],
                            "embedding": [random.gauss(0, 1) for _ in range(dimension)]} for i in range(b, min(b + 500, items))])
with ThreadPoolExecutor(4) as pool: list(pool.map(item_batch, range(0, items, 500)))
print(f"{items:,} items in {time.time() - start:.1f} s", file=sys.stderr)
start = time.time()
catalogue = [str(m) for m in (1, 2, 3, 6, 10, 47, 50, 110, 260, 296, 318, 356, 480, 527, 589, 593, 1196, 1210, 2571, 2959)]
def event_batch(b):
    rows = []
    for u in range(b, min(b + 1000 // events, users)):
        for e in range(events):
            item = random.choice(catalogue) if e % 3 == 0 else f"bench-{random.randrange(items)}" if items else random.choice(catalogue)
            rows.append({"userId": f"u{u}", "itemId": item, "type": "view", "eventId": f"u{u}-{e}",
                         "timestamp": 1_700_000_000 + u * 100 + e})
    call("POST", "/events", rows)
with ThreadPoolExecutor(4) as pool: list(pool.map(event_batch, range(0, users, 1000 // events)))
print(f"{users * events:,} events in {time.time() - start:.1f} s", file=sys.stderr)
chosen = [f"u{u}" for u in random.sample(range(users), min(sample, users))] + ["1", "414", "610"]
answers = {u: {"history": call("GET", f"/users/{u}/history?limit=1")["totalCount"],
               "list": [i["id"] for i in call("GET", f"/users/{u}/recommendations?k=10")["items"]]} for u in chosen}
json.dump(answers, open(out, "w"))
EOF
kill -TERM "$NODE_PID"; wait "$NODE_PID" || true
log "node stopped: $(du -sh "$WORK/node/recommender.db" | cut -f1) database file, $(ls "$WORK/node/models" | wc -l) packages"

"$ROOT/deploy/local-cluster.sh" database > "$WORK/database.log"
export Recommender__Storage__ConnectionString="Host=127.0.0.1;Port=$PG_PORT;Database=recommender;Username=postgres"
started=$(date +%s.%N)
dotnet "$ROOT/artifacts/bin/Recommender.Cli/release/recommender.dll" move-to-cluster \
    --data-directory "$WORK/node" --cluster-data-directory "$WORK/cluster/data" | tee "$WORK/move.log"
log "move-to-cluster: $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s wall, including the tool's start"
log "PostgreSQL database: $("$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d recommender -qtAc \
    "SELECT pg_size_pretty(pg_database_size('recommender'))")"

started=$(date +%s)
"$ROOT/deploy/local-cluster.sh" start > "$WORK/cluster-start.log" || { cat "$WORK/cluster-start.log"; exit 1; }
log "cluster (1 silo, 1 front end) ready on the moved data in $(( $(date +%s) - started )) s"
python3 - "http://127.0.0.1:$API_PORT_BASE" "$WORK/node-answers.json" <<'EOF'
import json, sys, urllib.request
url, answers = sys.argv[1], json.load(open(sys.argv[2]))
def get(path):
    with urllib.request.urlopen(url + path, timeout=60) as response: return json.loads(response.read())
same_history = same_list = 0
for user, node in answers.items():
    same_history += get(f"/users/{user}/history?limit=1")["totalCount"] == node["history"]
    same_list += [i["id"] for i in get(f"/users/{user}/recommendations?k=10")["items"]] == node["list"]
print(f"of {len(answers)} users: history length as on the node for {same_history}, the same top 10 for {same_list}")
sys.exit(0 if same_history == same_list == len(answers) else 1)
EOF
