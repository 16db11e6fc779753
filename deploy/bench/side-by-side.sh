# Helpers for the benchmarks that run several nodes side by side and send load to each in turn
# (telemetry-overhead.sh, serving-ab.sh). Sourced; the caller sets WORK (a scratch directory, removed on exit) and
# appends the nodes' process ids to PIDS.

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# CPU seconds (user + system) a process has used so far.
cpu_seconds() {
    local fields
    read -r -a fields < "/proc/$1/stat"
    echo "$(( fields[13] + fields[14] )) $(getconf CLK_TCK)" | awk '{ printf "%.2f", $1 / $2 }'
}

# Waits until the node NAME (process PID, address URL) answers ready; exits with the end of its log if it stops first.
wait_ready() {
    local name="$1" pid="$2" url="$3"
    until curl -fsS -m 2 "$url/health/ready" >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "The $name node exited before it was ready:" >&2; tail -n 40 "$WORK/$name.log" >&2; exit 1
        fi
        sleep 0.5
    done
}

# The number after "NAME=" in a load generator's summary line.
field() { sed -n "s|.* $1=\([0-9.]*\).*|\1|p" <<< "$2"; }
