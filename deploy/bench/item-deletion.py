#!/usr/bin/env python3
"""Times item deletions on a running node with an active model: items are written in batches (POST /items, each with
an embedding of the active dimension), then single deletions (DELETE /items/ID) alternate with the write they replace
for a retired item, hiding it (PUT /items/ID with "hidden": true and the same title, tags and embedding), one request
at a time; then batches of ids are deleted (POST /items/delete). Each deletion erases the item's details and unlists
its row in the active version's shards before the answer.

    dotnet run --project src/Recommender.Api -c Release -- --Recommender:DataDirectory=/tmp/demo-data &
    python3 deploy/bench/item-deletion.py --url http://localhost:5000 --singles 300 --batches 4 --batch 500
"""
import argparse
import json
import random
import statistics
import uuid

from timed_http import active_dimension, send


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--singles", type=int, default=300, help="single deletions, and as many hides")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--batch", type=int, default=500, help="ids a POST /items/delete (at most 1,000)")
    args = parser.parse_args()
    dimension = active_dimension(args.url)
    rng = random.Random(7)
    run = uuid.uuid4().hex[:8]
    count = 2 * args.singles + args.batches * args.batch
    items = [{"id": f"del-{run}-{i}", "title": f"Item {i}", "tags": ["bench-deletion"],
              "embedding": [rng.uniform(-1, 1) for _ in range(dimension)]} for i in range(count)]
    for start in range(0, count, 500):
        send(args.url, "POST", "/items", items[start:start + 500])
    hides, deletes = [], []
    for i in range(args.singles):
        hidden = dict(items[2 * i], hidden=True)
        del hidden["id"]
        hides.append(send(args.url, "PUT", f"/items/{items[2 * i]['id']}", hidden)[0])
        elapsed, answer = send(args.url, "DELETE", f"/items/{items[2 * i + 1]['id']}")
        assert json.loads(answer)["deleted"], answer
        deletes.append(elapsed)
    batches = []
    for b in range(args.batches):
        ids = [item["id"] for item in items[2 * args.singles + b * args.batch:2 * args.singles + (b + 1) * args.batch]]
        elapsed, answer = send(args.url, "POST", "/items/delete", ids)
        assert json.loads(answer)["deleted"] == len(ids), answer
        batches.append(elapsed)
    # The hidden items go too, so that a second run starts from the same catalogue.
    for start in range(0, args.singles, 1000):
        send(args.url, "POST", "/items/delete", [items[2 * i]["id"] for i in range(start, min(start + 1000, args.singles))])
    hide, delete = statistics.median(hides), statistics.median(deletes)
    print(f"PUT /items/ID hidden x{len(hides)}: median {hide:.2f} ms, p90 {sorted(hides)[int(0.9 * len(hides))]:.2f} ms")
    print(f"DELETE /items/ID x{len(deletes)}: median {delete:.2f} ms, p90 {sorted(deletes)[int(0.9 * len(deletes))]:.2f} ms ({delete / hide:.2f}x the hide)")
    print(f"POST /items/delete of {args.batch} ids x{len(batches)}: median {statistics.median(batches):.1f} ms "
          f"({statistics.median(batches) / args.batch:.3f} ms an item, {statistics.median(batches) / args.batch / delete:.3f}x a single deletion)")


if __name__ == "__main__":
    main()
