#!/usr/bin/env python3
"""Times taking an event back (DELETE /users/ID/items/ITEM) against storing it (POST /events) and reading the
history (GET /users/ID/history), one request at a time on a running node: each round stores a view of one of the 50
most popular items for one of 20 users and takes it back at once, so every take-back removes one event.

    dotnet run --project src/Recommender.Api -c Release -- --Recommender:DataDirectory=/tmp/demo-data &
    python3 deploy/bench/event-takeback.py --url http://localhost:5000 --rounds 300
"""
import argparse
import json
import statistics
import uuid

from timed_http import send


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()

    items = [i["id"] for i in json.loads(send(args.url, "GET", "/popular?k=50")[1])["items"]]
    run = uuid.uuid4().hex[:8]
    posts, takebacks, reads = [], [], []
    for round_ in range(args.rounds):
        user, item = f"takeback-{run}-{round_ % 20}", items[round_ % len(items)]
        posts.append(send(args.url, "POST", "/events", {"userId": user, "itemId": item, "type": "view", "eventId": f"{run}-{round_}"})[0])
        ms, answer = send(args.url, "DELETE", f"/users/{user}/items/{item}")
        assert json.loads(answer)["removedEvents"] == 1, answer
        takebacks.append(ms)
        reads.append(send(args.url, "GET", f"/users/{user}/history")[0])
    for user in {f"takeback-{run}-{r % 20}" for r in range(args.rounds)}:
        send(args.url, "DELETE", f"/users/{user}")
    post, takeback, read = (statistics.median(times) for times in (posts, takebacks, reads))
    print(f"POST /events (one view): median {post:.2f} ms; DELETE /users/ID/items/ITEM {takeback:.2f} ms ({takeback / post:.2f}x); "
          f"GET /users/ID/history {read:.2f} ms")


if __name__ == "__main__":
    main()
