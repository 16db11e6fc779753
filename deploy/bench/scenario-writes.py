#!/usr/bin/env python3
"""Times changes of scenarios on a running node: fifty scenarios with a merchandiser's usual rules are put in one
request, then each is replaced in turn (PUT /scenarios/NAME) and all fifty are changed at once (PATCH /scenarios),
one request at a time. Each change is stored with its entry in the scenarios' history, so once the history is full
these times include the largest write it makes. Run it on a fresh node: it replaces the node's scenarios.

    dotnet run --project src/Recommender.Api -c Release -- --Recommender:DataDirectory=/tmp/demo-data &
    python3 deploy/bench/scenario-writes.py --url http://localhost:5000 --puts 300
"""
import argparse
import json
import statistics
import time
import urllib.request


def send(base, method, path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method=method, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request) as response:
        response.read()
    return (time.perf_counter() - start) * 1000


def rules(i):
    return {"boost": [f"sale:{1 + i % 5}"], "cap": ["sponsored:2"], "capEach": ["brand::2"], "excludeTag": ["sold-out"],
            "diversity": 0.2, "k": 10 + i % 7}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--scenarios", type=int, default=50)
    parser.add_argument("--puts", type=int, default=300, help="single PUTs; a tenth as many PATCHes of every scenario")
    args = parser.parse_args()
    n = args.scenarios
    send(args.url, "PUT", "/scenarios", {f"s{i}": rules(i) for i in range(n)})
    puts = sorted(send(args.url, "PUT", f"/scenarios/s{j % n}", rules(j + 1)) for j in range(args.puts))
    patches = sorted(send(args.url, "PATCH", "/scenarios", {f"s{i}": rules(i + j + 2) for i in range(n)}) for j in range(args.puts // 10))
    print(f"PUT /scenarios/NAME x{len(puts)}: median {statistics.median(puts):.2f} ms, p90 {puts[int(0.9 * len(puts))]:.2f} ms")
    print(f"PATCH /scenarios of {n} scenarios x{len(patches)}: median {statistics.median(patches):.2f} ms, p90 {patches[int(0.9 * len(patches))]:.2f} ms")


if __name__ == "__main__":
    main()
