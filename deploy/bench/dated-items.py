#!/usr/bin/env python3
"""Writes dated items to a running node for timing the lists by time (GET /latest, maxAge=, fresh=): N items with an
embedding of the active dimension, each available from a time within the last three days, tagged with one of twenty
sources ("source:s0".."source:s19"; a wire service, "source:wire", holds a third of the items) and a section.

    dotnet run --project src/Recommender.Api -c Release -- --Recommender:DataDirectory=/tmp/demo-data &
    python3 deploy/bench/dated-items.py --url http://localhost:5000 --items 5000
    python3 deploy/bench/read-latency.py --rounds 3 'k=10' '/latest?k=10' '/latest?k=10&capEach=source:2' '/latest?k=100&capEach=source:2'
"""
import argparse
import datetime
import json
import random
import urllib.request


def post(base, path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    with urllib.request.urlopen(args.url + "/models") as response:
        models = json.loads(response.read())
    dimension = next(m["dimension"] for m in models["models"] if m["version"] == models["active"])
    rng = random.Random(args.seed)
    now = datetime.datetime.now(datetime.timezone.utc)
    items = []
    for i in range(args.items):
        source = "source:wire" if rng.random() < 1 / 3 else f"source:s{rng.randrange(20)}"
        at = now - datetime.timedelta(seconds=rng.uniform(0, 3 * 86400))
        items.append({"id": f"dated-{args.seed}-{i}", "title": f"Story {i}", "tags": [source, f"section:{rng.choice(['world', 'sport', 'arts'])}"],
                      "embedding": [rng.uniform(-1, 1) for _ in range(dimension)], "availableFrom": at.isoformat()})
    written = sum(post(args.url, "/items", items[start:start + 500])["count"] for start in range(0, len(items), 500))
    print(f"{written} dated items written")


if __name__ == "__main__":
    main()
