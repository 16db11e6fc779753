#!/usr/bin/env python3
"""Times looking items up in a batch (POST /items/lookup) against a stored user's list of 10 and against reading the
same items one GET /items/ID after another, alternately, one request at a time, on a running node (the demo's users
and items). The ids are a user's most recent distinct items, as a page showing a history would ask for them.

    dotnet run --project src/Recommender.Api -c Release -- --Recommender:DataDirectory=/tmp/demo-data &
    python3 deploy/bench/item-lookup.py --url http://localhost:5000 --ids 50 --rounds 200
"""
import argparse
import json
import random
import statistics
import urllib.parse

from timed_http import send


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--ids", type=int, default=50, help="ids a lookup names (at most 1,000)")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--user", default="1", help="whose history gives the ids")
    args = parser.parse_args()

    history = json.loads(send(args.url, "GET", f"/users/{urllib.parse.quote(args.user)}/history")[1])["events"]
    ids = list(dict.fromkeys(event["itemId"] for event in reversed(history)))[:args.ids]
    rng = random.Random(1)
    lists, lookups, singles = [], [], []
    for _ in range(args.rounds):
        lists.append(send(args.url, "GET", f"/users/{rng.randint(1, 200)}/recommendations?k=10")[0])
        lookups.append(send(args.url, "POST", "/items/lookup", ids)[0])
        singles.append(sum(send(args.url, "GET", f"/items/{urllib.parse.quote(i, safe='')}")[0] for i in ids))
    base, lookup, single = (statistics.median(times) for times in (lists, lookups, singles))
    print(f"a user's list of 10: median {base:.2f} ms; POST /items/lookup of {len(ids)} ids {lookup:.2f} ms ({lookup / base:.2f}x); "
          f"the same {len(ids)} GET /items/ID one after another {single:.2f} ms ({single / base:.2f}x)")


if __name__ == "__main__":
    main()
