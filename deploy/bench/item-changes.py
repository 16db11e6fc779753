#!/usr/bin/env python3
"""Times a batch of changes (PATCH /items, each item's hidden flag turned over) against the same items written whole
(POST /items with every field and the flag turned over), alternately, one request at a time, on a running node with an
active model. Items carry an embedding of the active dimension; a whole write encodes every item's text again, which
a change that leaves the text as it is does not.

    dotnet run --project src/Recommender.Api -c Release -- --Recommender:DataDirectory=/tmp/demo-data &
    python3 deploy/bench/item-changes.py --url http://localhost:5000 --batch 500 --rounds 10
"""
import argparse
import statistics
import uuid

from timed_http import active_dimension, send


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    dimension = active_dimension(args.url)
    vector = [0.1 * ((i % 7) - 3) + 0.05 for i in range(dimension)]
    prefix = "changes-" + uuid.uuid4().hex[:8]
    ids = [f"{prefix}-{i}" for i in range(args.batch)]

    def whole(hidden):
        return [{"id": i, "title": f"Item {i}", "text": "Drama", "tags": ["bench"], "embedding": vector, "hidden": hidden} for i in ids]

    send(args.url, "POST", "/items", whole(False))
    hidden, posts, patches = False, [], []
    try:
        for round in range(args.rounds):
            for kind in (("post", "patch") if round % 2 == 0 else ("patch", "post")):
                hidden = not hidden
                if kind == "post":
                    posts.append(send(args.url, "POST", "/items", whole(hidden))[0])
                else:
                    patches.append(send(args.url, "PATCH", "/items", [{"id": i, "hidden": hidden} for i in ids])[0])
    finally:
        send(args.url, "POST", "/items/delete", ids)
    post, patch = statistics.median(posts), statistics.median(patches)
    print(f"{args.batch} items: POST /items (whole) median {post:.1f} ms, PATCH /items (hidden) median {patch:.1f} ms ({patch / post:.2f}x)")


if __name__ == "__main__":
    main()
