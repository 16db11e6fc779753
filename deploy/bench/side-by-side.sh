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

# The number after "NAME=" in a load generator's summary line.
field() { sed -n "s|.* $1=\([0-9.]*\).*|\1|p" <<< "$2"; }
