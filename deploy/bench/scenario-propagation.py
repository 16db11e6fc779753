#!/usr/bin/env python3
"""Times how long a change of a scenario made through one front end takes to reach the lists of another: each round
stores the scenario "propagation-probe" with another k through the first front end (PUT /scenarios/NAME), then reads
the popular list under it through the second (GET /popular?scenario=NAME, which takes the rules from that front end's
copy of the scenarios, as every list read does) every few milliseconds until the list is k long. The time is from the
PUT's answer to the first list that has it.

    deploy/local-cluster.sh start
    python3 deploy/bench/scenario-propagation.py --write http://127.0.0.1:5001 --read http://127.0.0.1:5002 --rounds 50
"""
import argparse
import json
import random
import statistics
import time
import urllib.error
import urllib.request

NAME = "propagation-probe"


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", required=True, help="the front end the changes are sent to")
    parser.add_argument("--read", required=True, help="the front end whose copy is read")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--poll-ms", type=float, default=2, help="pause between reads")
    parser.add_argument("--limit-s", type=float, default=10, help="give a round up after this long")
    args = parser.parse_args()
    times = []
    call(args.write, "PUT", f"/scenarios/{NAME}", {"k": 50})
    while True:
        try:
            call(args.read, "GET", f"/popular?scenario={NAME}")
            break
        except urllib.error.HTTPError:
            time.sleep(0.1)
    for i in range(args.rounds):
        k = 1 + i % 49
        call(args.write, "PUT", f"/scenarios/{NAME}", {"k": k})
        start = time.perf_counter()
        while len(call(args.read, "GET", f"/popular?scenario={NAME}")["items"]) != k:
            if time.perf_counter() - start > args.limit_s:
                raise SystemExit(f"round {i}: the change did not reach {args.read} within {args.limit_s} s")
            time.sleep(args.poll_ms / 1000)
        times.append((time.perf_counter() - start) * 1000)
        # Changes at random moments, so that a front end's read once a second does not fall at the same point each round.
        time.sleep(random.uniform(0.05, 0.3))
    call(args.write, "DELETE", f"/scenarios/{NAME}")
    times.sort()
    print(f"{len(times)} changes: mean {statistics.mean(times):.1f} ms, median {statistics.median(times):.1f} ms, "
          f"p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms, max {times[-1]:.1f} ms")


if __name__ == "__main__":
    main()
