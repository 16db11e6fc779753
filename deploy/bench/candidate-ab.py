#!/usr/bin/env python3
"""What a candidate version (an A/B test) costs and how it splits the users, on a running node: starts the version
given as a candidate, then times stored users' reads (users 1..N of the demo, vectors cached by a first pass) and item
writes (batches of items with their own embeddings) with the candidate and without it, rounds alternating, so that a
slow spell of the machine falls on both alike; then sends each user one event after a read (a tenth of them dismiss
the list's last item first) and prints the live
next-item counts by model version from /metrics and the cluster's comparison of the two sides
(GET /models/{version}/candidate/results).

    dotnet run --project src/Recommender.Api -c Release -- --Recommender:DataDirectory=/tmp/demo-data &
    python3 deploy/bench/candidate-ab.py --url http://localhost:5000 --candidate recency-mean-ml-latest-small-d64

The candidate is stopped at the end, and the items written are hidden (the node is left as it was, but for the hidden
items and the events written).
"""
import argparse
import json
import random
import statistics
import time
import urllib.request
import uuid


def call(url, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"} if data else {})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        text = response.read()
    return (time.perf_counter() - start) * 1000, (json.loads(text) if text and response.headers.get_content_type().endswith("json") else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--candidate", required=True, help="a registered version other than the active one")
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100, help="items per POST /items")
    args = parser.parse_args()
    url, users = args.url, range(1, args.users + 1)
    models = call(f"{url}/models")[1]
    dimension = next(m["dimension"] for m in models["models"] if m["version"] == models["active"])
    candidate = f"{url}/models/{args.candidate}/candidate"
    rng = random.Random(7)

    def reads():
        return [call(f"{url}/users/{u}/recommendations?k=10")[0] for u in users]

    written = []

    def writes():
        items = [{"id": f"ab-{uuid.uuid4().hex[:12]}", "title": "A/B item", "embedding": [rng.uniform(-1, 1) for _ in range(dimension)]}
                 for _ in range(args.batch)]
        written.extend(item["id"] for item in items)
        return [call(f"{url}/items", "POST", items)[0]]

    started, reply = call(f"{candidate}?share={args.share}", "POST")
    print(f"candidate {reply['candidate']} for {reply['share']} of the users beside {reply['active']}: started in {started / 1000:.2f} s")
    call(f"{url}/models/{args.candidate}/candidate", "DELETE")
    times = {(kind, on): [] for kind in ("read", "write") for on in (False, True)}
    for on in (False, True):
        if on: call(f"{candidate}?share={args.share}", "POST")
        reads()  # caches each user's vector under the versions that serve them
        if on: call(f"{url}/models/{args.candidate}/candidate", "DELETE")
    for _ in range(args.rounds):
        for on in (False, True):
            if on: call(f"{candidate}?share={args.share}", "POST")
            times[("read", on)].extend(reads())
            times[("write", on)].extend(writes() + writes())
            if on: call(f"{url}/models/{args.candidate}/candidate", "DELETE")
    print("| | without | with the candidate | ratio |")
    print("| --- | --- | --- | --- |")
    for kind, label in (("read", "read of 10, mean ms"), ("write", f"POST /items of {args.batch}, mean ms")):
        off, on = statistics.mean(times[(kind, False)]), statistics.mean(times[(kind, True)])
        print(f"| {label} | {off:.1f} | {on:.1f} | {on / off:.2f}x |")

    # Each user's next event after a read: the live next-item counts split by the version that served the list.
    call(f"{candidate}?share={args.share}", "POST")
    sides = {}
    for u in users:
        listed = call(f"{url}/users/{u}/recommendations?k=10")[1]
        sides[listed["modelVersion"]] = sides.get(listed["modelVersion"], 0) + 1
        if rng.random() < 0.1:
            # "Not interested" in the list's last item, on both sides alike.
            call(f"{url}/events", "POST", {"userId": str(u), "itemId": listed["items"][-1]["id"], "type": "dismiss"})
        pick = listed["items"][0]["id"] if rng.random() < 0.3 else str(rng.choice([1, 2, 3, 5, 6, 7, 10, 32, 47, 50]))
        call(f"{url}/events", "POST", {"userId": str(u), "itemId": pick, "type": "view"})
    print("users served by each version:", sides)
    metrics = urllib.request.urlopen(f"{url}/metrics", timeout=60).read().decode()
    for line in metrics.splitlines():
        if line.startswith("recommender_online_next_items_total") and 'source="model"' in line:
            print(line)
    # The cluster's own comparison, once the silos have sent their counts (every few seconds).
    results = call(f"{url}/models/{args.candidate}/candidate/results")[1]
    for _ in range(60):
        if results["candidateArm"]["nextEvents"] + results["controlArm"]["nextEvents"] >= len(users):
            break
        time.sleep(0.5)
        results = call(f"{url}/models/{args.candidate}/candidate/results")[1]
    print("results:", json.dumps({k: results[k] for k in ("candidateArm", "controlArm", "hitRate", "dismissalsPerList", "sampleRatio")}))
    call(f"{url}/models/{args.candidate}/candidate", "DELETE")
    # The items written are hidden again, so that they are not recommended.
    for at in range(0, len(written), 500):
        call(f"{url}/items", "POST", [{"id": i, "title": "A/B item", "hidden": True} for i in written[at:at + 500]])


if __name__ == "__main__":
    main()
