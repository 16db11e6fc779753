#!/usr/bin/env bash
# The project's test command: every test project of Cluster.sln, in Release.
#
#   bash tests/run.sh [extra dotnet test arguments, e.g. --filter ...]
#
# Works from any directory, on a fresh Debian 12 machine with only the .NET SDK: the deployment
# tests need PostgreSQL's server binaries and Prometheus' promtool, the console's tests Chromium and
# ChromeDriver, installed here with apt-get when missing (root). Ends with the line "N passed, N failed" and exits non-zero when anything failed or
# nothing ran.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

find_postgres_bin() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then echo "$dir"; return; fi
    done
}

# Installs Debian packages without starting their services: the tests run private PostgreSQL and Prometheus servers
# on free ports.
apt_install() {
    local policy=/usr/sbin/policy-rc.d created_policy=false install_rc
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=true
    fi
    # One package index update a run, however many installs follow.
    if [[ "${APT_UPDATED:-}" != true ]]; then DEBIAN_FRONTEND=noninteractive apt-get update -q && APT_UPDATED=true; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
    install_rc=$?
    [[ "$created_policy" == true ]] && rm -f "$policy"
    if [[ $install_rc -ne 0 ]]; then echo "apt-get install $* failed ($install_rc)."; exit 1; fi
}

PG_BIN="${RECOMMENDER_PG_BIN:-$(find_postgres_bin)}"
if [[ -z "$PG_BIN" ]]; then
    echo "PostgreSQL server binaries not found; installing the Debian package 'postgresql'."
    apt_install postgresql
    PG_BIN="$(find_postgres_bin)"
    [[ -n "$PG_BIN" ]] || { echo "PostgreSQL installed but initdb not found under /usr/lib/postgresql/*/bin."; exit 1; }
fi
export RECOMMENDER_PG_BIN="$PG_BIN"

# MonitoringFilesTests check deploy/prometheus and deploy/grafana with Prometheus' own rule checker and server.
if ! command -v promtool > /dev/null || ! command -v prometheus > /dev/null; then
    echo "promtool or prometheus not found; installing the Debian package 'prometheus' for them."
    apt_install --no-install-recommends prometheus
fi
export RECOMMENDER_PROMTOOL="$(command -v promtool)"
export RECOMMENDER_PROMETHEUS="$(command -v prometheus)"

# ConsoleTests drive the operator console in Debian's headless Chromium through its ChromeDriver.
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
    echo "Chromium or ChromeDriver not found; installing the Debian packages 'chromium' and 'chromium-driver'."
    apt_install --no-install-recommends chromium chromium-driver
fi
export RECOMMENDER_CHROMIUM="${RECOMMENDER_CHROMIUM:-/usr/bin/chromium}"
export RECOMMENDER_CHROMEDRIVER="${RECOMMENDER_CHROMEDRIVER:-/usr/bin/chromedriver}"

# Every process the tests start carries this id, so any left behind by a crashed run can be found.
# No MSBuild worker nodes lingering after the run.
export MSBUILDDISABLENODEREUSE=1
export RECOMMENDER_TEST_RUN="run-$$-$(date +%s)"
RESULTS="$(mktemp -d "${TMPDIR:-/tmp}/recommender-test-results.XXXXXX")"

cleanup() {
    local environ pid
    for environ in /proc/[0-9]*/environ; do
        pid="${environ#/proc/}"; pid="${pid%/environ}"
        [[ "$pid" == "$$" ]] && continue
        if { tr '\0' '\n' < "$environ"; } 2>/dev/null | grep -qx "RECOMMENDER_TEST_RUN=$RECOMMENDER_TEST_RUN"; then
            # Silos, front ends and PostgreSQL servers of this run (and the test host, which has exited
            # or hung past its timeout by now) carry the id; nothing else does.
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}
trap cleanup EXIT

# Built once; then the test projects run in two lanes, one a core: the cluster tests (in-process clusters, the longest)
# beside the deployment tests (real clusters, PostgreSQL, faults) followed by the others. (One `dotnet test` of the
# solution started the deployment tests only when the cluster tests had finished, though the model tests had left a
# core free minutes before: about 13 1/2 minutes in all, against about 9 1/2 with two lanes; the model tests moved from
# after the cluster tests to after the deployment tests, which end about a minute and a half sooner.)
run_tests() {
    local project="$1"; shift
    dotnet test "$ROOT/tests/$project/$project.csproj" -c Release --no-build \
        --logger "trx" --logger "console;verbosity=normal" \
        --results-directory "$RESULTS/$project" \
        --blame-hang-timeout 20m \
        "$@"
}
mapfile -t projects < <(dotnet sln "$ROOT/Cluster.sln" list | sed -n 's#^tests/\([^/]*\)/\1\.csproj$#\1#p')
if [[ ${#projects[@]} -eq 0 ]]; then echo "No test projects found in Cluster.sln."; exit 1; fi
dotnet build "$ROOT/Cluster.sln" -c Release
test_rc=$?
if [[ $test_rc -eq 0 ]]; then
    run_tests Recommender.Cluster.Tests "$@" &
    cluster=$!
    run_tests Recommender.Deployment.Tests "$@" || test_rc=$?
    for project in "${projects[@]}"; do
        [[ "$project" == Recommender.Deployment.Tests || "$project" == Recommender.Cluster.Tests ]] \
            || run_tests "$project" "$@" || test_rc=$?
    done
    wait "$cluster" || test_rc=$?
fi

passed=0
failed=0
for trx in "$RESULTS"/*/*.trx; do
    [[ -f "$trx" ]] || continue
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
    p="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<< "$counters")"
    f="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<< "$counters")"
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
done
rm -rf "$RESULTS"

echo "$passed passed, $failed failed"
# A project that does not build, or a test host that crashed, runs no tests and counts no failure: say so.
if [[ $test_rc -ne 0 && $failed -eq 0 ]]; then
    echo "dotnet test exited with code $test_rc without a failed test: a project did not build or a test host stopped (see the errors above)."
fi
if [[ $test_rc -ne 0 || $failed -ne 0 || $passed -eq 0 ]]; then
    exit 1
fi
