#!/usr/bin/env python3
"""Whether a running node counts the purchases its lists sell in the common shop flow: a user is served a list (the
home page), opens one of its items, is served a new list on that item's page (without the item, which is in the
history now) and buys the item there, paying 1.00 + n / 100 (user n). Each of N new users does this once; the script
prints how many of the N purchases recommender_online_purchased_items counted, and the amount
recommender_online_purchased_value counted against the amount paid (each silo exports its counters every few seconds).

    dotnet run --project src/Recommender.Api -c Release -- --Recommender:DataDirectory=/tmp/demo-data &
    python3 deploy/bench/purchase-attribution.py --url http://localhost:5000 --users 20

The users are new ones named shopper-<run>-<n>; their events stay in the node.
"""
import argparse
import json
import time
import urllib.request


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()

    def call(path, body=None):
        request = urllib.request.Request(args.url + path, data=None if body is None else json.dumps(body).encode(),
                                         method="GET" if body is None else "POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")

    def counted(name):
        with urllib.request.urlopen(args.url + "/metrics", timeout=60) as response:
            lines = response.read().decode().splitlines()
        return sum(float(line.split()[-1]) for line in lines if line.startswith(name + "_total"))

    def purchased():
        return counted("recommender_online_purchased_items"), counted("recommender_online_purchased_value")

    before, paid_before = purchased()
    paid = 0.0
    run = int(time.time())
    for n in range(args.users):
        user = f"shopper-{run}-{n}"
        call("/events", [{"userId": user, "itemId": item, "type": "view"} for item in ["1", "260", "1196"]])
        opened = call(f"/users/{user}/recommendations?k=10")["items"][1]["id"]
        call("/events", {"userId": user, "itemId": opened, "type": "view"})
        page = call(f"/users/{user}/recommendations?k=10")["items"]
        if opened in [item["id"] for item in page]:
            raise SystemExit(f"{opened} is still in {user}'s list after it was opened")
        price = 1 + n / 100
        call("/events", {"userId": user, "itemId": opened, "type": "purchase", "value": price})
        paid += price
    time.sleep(6)
    after, paid_after = purchased()
    print(f"purchases of listed items: {args.users}, counted: {int(after - before)}; paid: {paid:.2f}, counted: {paid_after - paid_before:.2f}")


if __name__ == "__main__":
    main()
