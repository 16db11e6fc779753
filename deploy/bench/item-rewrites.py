#!/usr/bin/env python3
"""Times writes of items the catalogue met within the last two minutes, which it checks against what is stored (two
writes of one item may cross): hot items rewritten one at a time (PUT /items/ID, each with an embedding of the active
dimension and its tags turned over, so its text is encoded again as a real update's is), then one batch of items sent
again and again (POST /items). Prints the median times; run it against two nodes, one of each release, alternately.

    dotnet run --project src/Recommender.Api -c Release -- --Recommender:DataDirectory=/tmp/demo-data &
    python3 deploy/bench/item-rewrites.py --url http://localhost:5000 --items 20 --rounds 40 --batch 500 --batches 12
"""
import argparse
import statistics
import uuid

from timed_http import active_dimension, send


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--items", type=int, default=20, help="hot items, each rewritten once a round")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--batch", type=int, default=500, help="items in the batch sent again")
    parser.add_argument("--batches", type=int, default=12, help="times the batch is sent (the first two are not timed)")
    args = parser.parse_args()

    dimension = active_dimension(args.url)
    vector = [0.1 * ((i % 7) - 3) + 0.05 for i in range(dimension)]
    prefix = "rewrite-" + uuid.uuid4().hex[:8]
    hot = [f"{prefix}-hot-{i}" for i in range(args.items)]
    batch = [f"{prefix}-batch-{i}" for i in range(args.batch)]
    try:
        puts = [send(args.url, "PUT", f"/items/{item}", {"title": f"Hot {item}", "tags": ["bench", f"r{r % 2}"], "embedding": vector})[0]
                for r in range(args.rounds) for item in hot]
        posts = [send(args.url, "POST", "/items", [{"id": item, "title": f"Batch {item}", "tags": ["bench", f"r{r % 2}"], "embedding": vector}
                                                   for item in batch])[0] for r in range(args.batches)]
    finally:
        for ids in (hot, batch):
            send(args.url, "POST", "/items/delete", ids)
    print(f"PUT of a hot item: median {statistics.median(puts):.2f} ms over {len(puts)}; "
          f"POST /items of {args.batch} sent again: median {statistics.median(posts[2:]):.1f} ms over {len(posts) - 2}")


if __name__ == "__main__":
    main()
