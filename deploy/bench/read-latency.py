#!/usr/bin/env python3
"""Times reads of a running node under several queries, against the first one: stored users' recommendations (users
1-200 of the demo, whose vectors a first pass caches, so the times compare scans, filters and pages, not the encoder)
or any GET path. Rounds alternate the queries, so that a slow spell of the machine falls on all of them alike.

    dotnet run --project src/Recommender.Api -c Release -- --Recommender:DataDirectory=/tmp/demo-data &
    python3 deploy/bench/read-latency.py --url http://localhost:5000 'k=10' 'k=10&offset=990' 'k=1000' \\
        'k=10&tag=Comedy' 'k=10&tag=Comedy&tag=Drama' 'k=10&excludeTag=Drama' '/popular?k=10'

A query is read as /users/{user}/recommendations?QUERY; one starting with "/" is read as that path (where "{user}",
if present, becomes each user's id).
"""
import argparse
import statistics
import time
import urllib.request


def get(url):
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        response.read()
    return (time.perf_counter() - start) * 1000


def path(query, user):
    return query.replace("{user}", str(user)) if query.startswith("/") else f"/users/{user}/recommendations?{query}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--users", type=int, default=200, help="users 1..N of the demo")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("queries", nargs="+")
    args = parser.parse_args()
    users = range(1, args.users + 1)
    for user in users:
        get(f"{args.url}/users/{user}/recommendations?k=10")
    times = {q: [] for q in args.queries}
    for _ in range(args.rounds):
        for query in args.queries:
            times[query].extend(get(args.url + path(query, u)) for u in users)
    base = statistics.mean(times[args.queries[0]])
    print(f"| Query | mean ms | p95 ms | vs `{args.queries[0]}` |")
    print("| --- | --- | --- | --- |")
    for query in args.queries:
        t = sorted(times[query])
        print(f"| `{query}` | {statistics.mean(t):.2f} | {t[int(0.95 * (len(t) - 1))]:.2f} | {statistics.mean(t) / base:.2f}x |")


if __name__ == "__main__":
    main()
