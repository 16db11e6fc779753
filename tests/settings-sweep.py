#!/usr/bin/env python3
"""Starts the front end (embedded silo) once for each key of src/Recommender.Hosting/CONFIGURATION.md set to each of a
set of odd values, and reports every start that ends otherwise than as the configuration contract says: started, or
exit code 2 with one line on standard error and no stack trace anywhere. Too slow for the test suite (the whole table,
59 keys x 14 values, is 826 starts, about 4 minutes with two at a time); HostRunnerTests holds what it found.

    dotnet build src/Recommender.Api -c Release
    python3 tests/settings-sweep.py                          # every key
    python3 tests/settings-sweep.py Inference TextEncoder    # keys containing any of these
    VERBOSE=1 python3 tests/settings-sweep.py Shards         # and a line for every start
"""
import concurrent.futures
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API = os.path.join(ROOT, "artifacts/bin/Recommender.Api/release/Recommender.Api.dll")
VALUES = ["", " ", "-1", "0", "abc", "1e400", "NaN", "99999999999", "-00:00:01", "99999999.00:00:00", "1.5",
          "/nonexistent/x", "http://[::1", "true"]
PARALLEL = 2


def run(key, value, slot):
    directory = tempfile.mkdtemp(prefix="settings-sweep-")
    env = dict(os.environ)
    env.update({
        "Recommender__DataDirectory": os.path.join(directory, "data"),
        "Recommender__SeedDemo": "false",
        "urls": f"http://127.0.0.1:{5100 + slot}",
        "Orleans__SiloPort": str(11200 + slot),
        "Orleans__GatewayPort": str(30200 + slot),
    })
    env[key.replace(":", "__")] = value
    node = subprocess.Popen(["dotnet", API], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=directory, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(node.stdout), daemon=True)
    reader.start()
    started, deadline = False, time.time() + 30
    while time.time() < deadline and node.poll() is None:
        if any("Application started" in line for line in lines):
            started = True
            break
        time.sleep(0.2)
    if node.poll() is None:
        node.terminate()
        try:
            node.wait(15)
        except subprocess.TimeoutExpired:
            node.kill()
            node.wait()
        outcome = "started" if started else "no start within 30 s"
    else:
        outcome = node.returncode
    error = node.stderr.read()
    reader.join(5)
    output = "".join(lines)
    shutil.rmtree(directory, ignore_errors=True)
    if os.environ.get("VERBOSE"):
        print(f"{key}={value!r}: {outcome} {error.strip()[:200]}", flush=True)
    stack = re.search(r"^\s+at \S", error + output, re.M)
    if outcome == "started" or (outcome == 2 and not stack and len(error.strip().splitlines()) == 1):
        return None
    return f"{key}={value!r}: {outcome}\n  stderr: {error.strip()[:500]}\n  log: {output.strip()[-500:]}"


def main():
    if not os.path.exists(API):
        sys.exit(f"{API} is missing: dotnet build src/Recommender.Api -c Release")
    table = open(os.path.join(ROOT, "src/Recommender.Hosting/CONFIGURATION.md"), encoding="utf-8").read()
    keys = re.findall(r"^\| `([A-Za-z:_]+)`", table, re.M)
    if len(sys.argv) > 1:
        keys = [k for k in keys if any(part in k for part in sys.argv[1:])]
    jobs = [(k, v) for k in keys for v in VALUES]
    slots = queue.Queue()
    for slot in range(PARALLEL):
        slots.put(slot)

    def in_slot(job):
        slot = slots.get()
        try:
            return run(*job, slot)
        finally:
            slots.put(slot)

    print(f"{len(keys)} keys, {len(jobs)} starts", flush=True)
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        failures = [f for f in pool.map(in_slot, jobs) if f]
    for failure in failures:
        print(failure)
    print(f"{len(failures)} of {len(jobs)} starts broke the contract")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
