#!/usr/bin/env bash
# A whole cluster on this machine, on loopback: a private PostgreSQL, 3 silo processes and
# 2 HTTP front ends in cluster mode.
#
#   deploy/local-cluster.sh start     # build (Release, once), start everything, wait until ready
#   deploy/local-cluster.sh status    # what runs, and whether each node is ready
#   deploy/local-cluster.sh stop      # SIGTERM every node, wait, then stop the database
#   deploy/local-cluster.sh database  # PostgreSQL alone, with the schema: to move a single node in before `start`
#                                     # (recommender move-to-cluster; README, "Scaling out"); prints its connection string
#
# Front ends: http://127.0.0.1:5001 and http://127.0.0.1:5002. State, logs and pid files live in
# $RECOMMENDER_CLUSTER_DIR (default /tmp/recommender-local-cluster). Environment knobs:
# SILOS (3), APIS (2), API_PORT_BASE (5001), PG_PORT (55432), BUILD_SLOT (build output folder),
# NO_BUILD=1 (use the existing build output).
# The configuration keys are those of src/Recommender.Hosting/CONFIGURATION.md, the same as in
# deploy/docker-compose.yml.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${RECOMMENDER_CLUSTER_DIR:-/tmp/recommender-local-cluster}"
SILOS="${SILOS:-3}"
APIS="${APIS:-2}"
API_PORT_BASE="${API_PORT_BASE:-5001}"
SILO_HTTP_BASE="${SILO_HTTP_BASE:-5101}"
SILO_PORT_BASE="${SILO_PORT_BASE:-11111}"
GATEWAY_PORT_BASE="${GATEWAY_PORT_BASE:-30001}"
PG_PORT="${PG_PORT:-55432}"
DATABASE=recommender
CLUSTER_ID=local
ARTIFACTS="$ROOT/artifacts${BUILD_SLOT:+/$BUILD_SLOT}"

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }

# Debian's layout: /usr/lib/postgresql/VERSION/bin; installs the package when missing (root only).
postgres_bin() {
    if [[ -n "${RECOMMENDER_PG_BIN:-}" ]]; then echo "$RECOMMENDER_PG_BIN"; return; fi
    local bin
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
        [[ "$(id -u)" == 0 ]] || { echo "PostgreSQL is not installed and installing it needs root." >&2; exit 1; }
        log "installing PostgreSQL (apt-get)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    fi
    echo "$bin"
}

# Runs a PostgreSQL tool as the postgres user when we are root (the server refuses to run as root).
as_postgres() {
    if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

connection_string() {
    echo "Host=127.0.0.1;Port=$PG_PORT;Database=$DATABASE;Username=postgres;Timeout=5;Command Timeout=10"
}

# Settings every node shares: cluster identity, ADO.NET clustering and grain storage on PostgreSQL.
cluster_environment() {
    local cs; cs="$(connection_string)"
    echo "Orleans__ClusterId=$CLUSTER_ID"
    echo "Orleans__ServiceId=recommender"
    echo "Recommender__Clustering__Mode=AdoNet"
    echo "Recommender__Clustering__Invariant=Npgsql"
    echo "Recommender__Clustering__ConnectionString=$cs"
    echo "Recommender__Storage__Invariant=Npgsql"
    echo "Recommender__Storage__ConnectionString=$cs"
    echo "Recommender__DataDirectory=$STATE/data"
    echo "DOTNET_gcServer=0"
}

is_running() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

ready() { curl -fsS -m 2 "http://127.0.0.1:$1/health/ready" >/dev/null 2>&1; }

psql_cluster() {
    "$(postgres_bin)/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$DATABASE" -v ON_ERROR_STOP=1 -qtA "$@"
}

# Silo N (1-based) is up when its process runs and the membership table lists a silo on its port as active
# (status 3) that started after the process: rows a killed silo left behind say active until the cluster
# declares them dead.
silo_active() {
    local pidfile="$STATE/pids/silo$1.pid" port=$((SILO_PORT_BASE + $1 - 1))
    is_running "$pidfile" || return 1
    [[ "$(psql_cluster -c "SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = '$CLUSTER_ID' AND Port = $port AND Status = 3
        AND StartTime >= to_timestamp($(stat -c %Y "$pidfile") - 1)" 2>/dev/null)" == 1 ]]
}

# start_node NAME DLL HTTP_PORT [KEY=VALUE...]: a detached process with its own session, logging to a file.
start_node() {
    local name="$1" dll="$2" http_port="$3"; shift 3
    local pidfile="$STATE/pids/$name.pid"
    if is_running "$pidfile"; then log "$name already running (pid $(cat "$pidfile"))"; return; fi
    local -a environment
    mapfile -t environment < <(cluster_environment)
    environment+=("ASPNETCORE_URLS=http://127.0.0.1:$http_port" "$@")
    (cd "$STATE" && exec setsid env "${environment[@]}" dotnet "$dll" >"$STATE/logs/$name.log" 2>&1 < /dev/null) &
    echo $! > "$pidfile"
    log "$name started (pid $!, http $http_port)"
}

start_database() {
    local bin; bin="$(postgres_bin)"
    mkdir -p "$STATE/pg"
    [[ "$(id -u)" == 0 ]] && chown postgres "$STATE/pg"
    if [[ ! -f "$STATE/pg/data/PG_VERSION" ]]; then
        as_postgres "$bin/initdb" -D "$STATE/pg/data" -A trust -U postgres -E UTF8 >/dev/null
    fi
    if ! as_postgres "$bin/pg_ctl" status -D "$STATE/pg/data" >/dev/null 2>&1; then
        as_postgres "$bin/pg_ctl" start -w -D "$STATE/pg/data" -l "$STATE/pg/server.log" \
            -o "-p $PG_PORT -k $STATE/pg -c listen_addresses=127.0.0.1 -c max_connections=300" >/dev/null
    fi
    local psql=("$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q)
    if [[ -z "$("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" ]]; then
        "${psql[@]}" -d postgres -c "CREATE DATABASE $DATABASE"
    fi
    # The scripts are idempotent: applying them on every start keeps the query texts current. Their notices
    # ("already exists, skipping") are noise; errors are shown.
    PGOPTIONS="-c client_min_messages=warning" "${psql[@]}" -d "$DATABASE" \
        -f "$ROOT/deploy/postgres/clustering.sql" -f "$ROOT/deploy/postgres/persistence.sql"
    log "PostgreSQL ready on 127.0.0.1:$PG_PORT (database $DATABASE)"
}

build() {
    if [[ "${NO_BUILD:-0}" == 1 ]]; then log "using the existing build output (NO_BUILD=1)"; return; fi
    log "building silo and API (Release)"
    (cd "$ROOT" && dotnet build src/Recommender.Silo/Recommender.Silo.csproj -c Release -v quiet -nologo >/dev/null \
        && dotnet build src/Recommender.Api/Recommender.Api.csproj -c Release -v quiet -nologo >/dev/null)
}

start() {
    mkdir -p "$STATE/pids" "$STATE/logs" "$STATE/data"
    # Pid files of nodes that died (kill -9, a crash) would read as nodes that exited during this start.
    local pidfile
    for pidfile in "$STATE"/pids/*.pid; do
        if [[ -f "$pidfile" ]] && ! is_running "$pidfile"; then rm -f "$pidfile"; fi
    done
    build
    start_database
    local silo_dll="$ARTIFACTS/bin/Recommender.Silo/release/Recommender.Silo.dll"
    local api_dll="$ARTIFACTS/bin/Recommender.Api/release/Recommender.Api.dll"
    local i
    for ((i = 0; i < SILOS; i++)); do
        # Only the first silo loads the demo catalogue (the catalogue grain would let just one do it anyway).
        start_node "silo$((i + 1))" "$silo_dll" "$((SILO_HTTP_BASE + i))" \
            "Orleans__SiloPort=$((SILO_PORT_BASE + i))" \
            "Orleans__GatewayPort=$((GATEWAY_PORT_BASE + i))" \
            "Orleans__AdvertisedIPAddress=127.0.0.1" \
            "Recommender__SeedDemo=$([[ $i == 0 ]] && echo true || echo false)"
        if ((i == 0)); then
            # The first silo, alone, must advertise loopback before any other node talks to it.
            SILOS=1 wait_ready silo 120
            local address
            address="$(psql_cluster -c "SELECT Address FROM OrleansMembershipTable WHERE DeploymentId = '$CLUSTER_ID' AND Port = $SILO_PORT_BASE AND Status = 3
                ORDER BY StartTime DESC LIMIT 1")"
            if [[ "$address" != 127.* ]]; then
                log "silo1 advertises $address, not loopback; stopping (this script keeps all traffic on 127.0.0.1)"
                stop; exit 1
            fi
        fi
    done
    wait_ready silo 180
    for ((i = 0; i < APIS; i++)); do
        start_node "api$((i + 1))" "$api_dll" "$((API_PORT_BASE + i))" "Recommender__Mode=Cluster"
    done
    wait_ready api 180
}

# Silos: active in the membership table. Front ends: /health/ready answers 200 (a model is active).
pending_nodes() {
    local i
    if [[ "$1" == silo ]]; then
        for ((i = 1; i <= SILOS; i++)); do silo_active "$i" || echo "silo$i"; done
    else
        for ((i = 0; i < APIS; i++)); do ready $((API_PORT_BASE + i)) || echo "api$((i + 1))"; done
    fi
}

wait_ready() {
    local deadline=$((SECONDS + $2)) pending
    while true; do
        pending="$(pending_nodes "$1" | tr '\n' ' ')"
        if [[ -z "$pending" ]]; then log "all ${1}s ready"; return 0; fi
        if ((SECONDS > deadline)); then
            log "not ready after $2 s: $pending(logs in $STATE/logs)"; return 1
        fi
        for pidfile in "$STATE"/pids/*.pid; do
            is_running "$pidfile" || { log "$(basename "$pidfile" .pid) exited; see $STATE/logs"; return 1; }
        done
        sleep 2
    done
}


stop() {
    local pidfile pid deadline
    # Front ends first (they stop taking requests), then silos, each given time for a graceful leave.
    for pidfile in "$STATE"/pids/api*.pid "$STATE"/pids/silo*.pid; do
        [[ -f "$pidfile" ]] || continue
        pid="$(cat "$pidfile")"
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            deadline=$((SECONDS + 30))
            while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
            if kill -0 "$pid" 2>/dev/null; then log "$(basename "$pidfile" .pid) did not stop; killing"; kill -KILL "$pid"; fi
            log "$(basename "$pidfile" .pid) stopped"
        fi
        rm -f "$pidfile"
    done
    if [[ -f "$STATE/pg/data/postmaster.pid" ]]; then
        as_postgres "$(postgres_bin)/pg_ctl" stop -w -D "$STATE/pg/data" -m fast >/dev/null && log "PostgreSQL stopped"
    fi
}

status() {
    local pidfile name i
    for pidfile in "$STATE"/pids/*.pid; do
        [[ -f "$pidfile" ]] || continue
        name="$(basename "$pidfile" .pid)"
        if is_running "$pidfile"; then echo "$name: running (pid $(cat "$pidfile"))"; else echo "$name: not running"; fi
    done
    if [[ -f "$STATE/pg/data/postmaster.pid" ]]; then
        echo "postgres: running on $PG_PORT"
        for ((i = 0; i < SILOS; i++)); do
            if silo_active $((i + 1)); then echo "silo$((i + 1)): active member"; else echo "silo$((i + 1)): not a member"; fi
        done
    else
        echo "postgres: stopped"
    fi
    for ((i = 0; i < APIS; i++)); do
        if ready $((API_PORT_BASE + i)); then echo "api$((i + 1)) :$((API_PORT_BASE + i)): ready"; else echo "api$((i + 1)) :$((API_PORT_BASE + i)): not ready"; fi
    done
}

case "${1:-}" in
    start)
        # A failed start leaves running whatever it had started (PostgreSQL, some nodes): say so.
        trap 'log "start failed; what did start keeps running (logs in $STATE/logs): deploy/local-cluster.sh stop ends it"' EXIT
        start
        trap - EXIT ;;
    stop) stop ;;
    status) status ;;
    database)
        mkdir -p "$STATE/data"
        start_database
        echo "Recommender__Storage__ConnectionString='$(connection_string)'"
        echo "cluster data directory: $STATE/data" ;;
    *) echo "usage: $0 start|stop|status|database" >&2; exit 2 ;;
esac
