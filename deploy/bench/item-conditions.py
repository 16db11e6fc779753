#!/usr/bin/env python3
"""Times conditional item writes and reads against the same requests without a condition, alternately, one request at
a time, on a running node: PATCH /items/ID with If-Match (the ETag the previous answer gave) against PATCH without it,
and GET /items/ID with If-None-Match naming the current ETag (answered 304 without a body) against a plain GET. The
items are written hidden (never placed) and deleted at the end; each PATCH changes the item's tags, so no text is
encoded again.

    dotnet run --project src/Recommender.Api -c Release -- --Recommender:DataDirectory=/tmp/demo-data &
    python3 deploy/bench/item-conditions.py --url http://localhost:5000 --rounds 300
"""
import argparse
import statistics

from timed_http import exchange


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--items", type=int, default=20)
    args = parser.parse_args()

    ids = [f"bench-condition-{i}" for i in range(args.items)]
    tags = {}
    for item in ids:
        _, status, tag, _ = exchange(args.url, "PUT", f"/items/{item}", {"title": f"Bench {item}", "text": "Drama", "tags": ["bench"], "hidden": True})
        assert status == 200, status
        tags[item] = tag
    plain, conditional, reads, revalidations = [], [], [], []
    try:
        for round_ in range(args.rounds):
            item = ids[round_ % len(ids)]
            ms, status, tag, _ = exchange(args.url, "PATCH", f"/items/{item}", {"tags": ["bench", f"plain-{round_}"]})
            assert status == 200, status
            plain.append(ms)
            ms, status, tag, _ = exchange(args.url, "PATCH", f"/items/{item}", {"tags": ["bench", f"conditional-{round_}"]}, {"If-Match": tag})
            assert status == 200, status
            conditional.append(ms)
            ms, status, _, _ = exchange(args.url, "GET", f"/items/{item}")
            assert status == 200, status
            reads.append(ms)
            ms, status, _, _ = exchange(args.url, "GET", f"/items/{item}", headers={"If-None-Match": tag})
            assert status == 304, status
            revalidations.append(ms)
    finally:
        for item in ids:
            exchange(args.url, "DELETE", f"/items/{item}")
    write, guarded, read, revalidate = (statistics.median(times) for times in (plain, conditional, reads, revalidations))
    print(f"PATCH /items/ID: median {write:.2f} ms; with If-Match {guarded:.2f} ms ({guarded / write:.2f}x). "
          f"GET /items/ID: median {read:.2f} ms; with If-None-Match, 304 {revalidate:.2f} ms ({revalidate / read:.2f}x)")


if __name__ == "__main__":
    main()
