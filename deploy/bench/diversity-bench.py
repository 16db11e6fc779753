#!/usr/bin/env python3
"""What diversity= costs and buys on a running node with the demo catalogue (MovieLens latest-small): for each of the
first N users (by id), the user's rated movies but the last, oldest first, are sent as a session (POST
/recommendations, so nothing is stored) once per diversity value; the held-out last movie scores HR@10 and NDCG@10,
the list's genres give how varied it is, and each request's time is measured (every session's vector is encoded once,
by a warm-up request, so the times compare the scans and the selection). The demo model was trained on all of these
ratings, so the hit rates are in-sample: compare the rows with each other, not with the README's quality tables.

    dotnet run --project src/Recommender.Api -c Release -- --Recommender:DataDirectory=/tmp/demo-data &
    python3 deploy/bench/diversity-bench.py --url http://localhost:5000 --data ../shared/data/ml-latest-small
    python3 deploy/bench/diversity-bench.py --url http://localhost:5000 --latency 10,100,1000

With --latency it times stored users' reads instead (users 1-200 of the demo, whose vectors a first pass caches) at
each k, without and with diversity=0.3, in two alternating rounds.
"""
import argparse
import csv
import itertools
import json
import math
import os
import statistics
import time
import urllib.request
from collections import defaultdict


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.load(response)
    return answer, (time.perf_counter() - start) * 1000


def get(url):
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        response.read()
    return (time.perf_counter() - start) * 1000


def latency(url, ks):
    users = range(1, 201)
    for user in users:
        get(f"{url}/users/{user}/recommendations?k=10")
    print("| k | diversity 0, mean ms (two rounds) | diversity 0.3, mean ms (two rounds) | ratio |")
    print("| --- | --- | --- | --- |")
    for k in ks:
        rounds = {"0": [], "0.3": []}
        for _ in range(2):
            for d in rounds:
                rounds[d].append(statistics.mean(get(f"{url}/users/{u}/recommendations?k={k}&diversity={d}") for u in users))
        plain, diverse = rounds["0"], rounds["0.3"]
        print(f"| {k} | {plain[0]:.2f}, {plain[1]:.2f} | {diverse[0]:.2f}, {diverse[1]:.2f} | {statistics.mean(diverse) / statistics.mean(plain):.2f}x |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--data", help="the ml-latest-small directory (ratings.csv, movies.csv)")
    parser.add_argument("--latency", help="comma-separated k values: time reads instead")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--diversity", default="0,0.1,0.2,0.3,0.5,0.7,1")
    args = parser.parse_args()
    if args.latency:
        latency(args.url, [int(k) for k in args.latency.split(",")])
        return
    if not args.data:
        parser.error("--data is required unless --latency is given")
    lambdas = args.diversity.split(",")

    genres = {}
    with open(os.path.join(args.data, "movies.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            genres[row["movieId"]] = set(row["genres"].split("|")) - {"(no genres listed)"}
    histories = defaultdict(list)
    with open(os.path.join(args.data, "ratings.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            histories[int(row["userId"])].append((int(row["timestamp"]), row["movieId"]))

    # One row per value as listed (a value may be listed twice, to see the noise between passes).
    rows = [{"hits": 0, "ndcg": 0.0, "genres": [], "apart": [], "ms": []} for _ in lambdas]
    users = sorted(histories)[: args.users]
    for user in users:
        ordered = [m for _, m in sorted(histories[user])]
        items, target = ordered[:-1][-1000:], ordered[-1]
        post(f"{args.url}/recommendations?k={args.k}", {"items": items})
        for l, row in zip(lambdas, rows):
            answer, ms = post(f"{args.url}/recommendations?k={args.k}&diversity={l}", {"items": items})
            listed = [i["id"] for i in answer["items"]]
            row["ms"].append(ms)
            if target in listed:
                row["hits"] += 1
                row["ndcg"] += 1 / math.log2(listed.index(target) + 2)
            row["genres"].append(len(set().union(*(genres.get(i, set()) for i in listed))))
            pairs = list(itertools.combinations(listed, 2))
            row["apart"].append(sum(1 for a, b in pairs if not genres.get(a, set()) & genres.get(b, set())) / max(1, len(pairs)))

    n = len(users)
    base = statistics.mean(rows[0]["ms"])
    print(f"{n} users, k={args.k}, sessions of each user's ratings but the last (in-sample: the demo model saw them all)")
    print("| diversity | HR@10 | NDCG@10 | genres in the list | pairs sharing no genre | mean ms | p99 ms | time vs first row |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for l, row in zip(lambdas, rows):
        ms = sorted(row["ms"])
        print(f"| {l} | {row['hits'] / n:.4f} | {row['ndcg'] / n:.4f} | {statistics.mean(row['genres']):.2f} | "
              f"{statistics.mean(row['apart']):.3f} | {statistics.mean(ms):.2f} | {ms[int(0.99 * (len(ms) - 1))]:.2f} | "
              f"{statistics.mean(ms) / base:.2f}x |")


if __name__ == "__main__":
    main()
