#!/usr/bin/env python3
"""diversity= on the popular list of a running node with the demo catalogue: the genres (tags) the top 10 spans at
each diversity value, and what a read of /popular costs at k = 10 and 100 without and with diversity=0.3, over
--reads reads each, in two alternating rounds.

    dotnet run --project src/Recommender.Api -c Release -- --Recommender:DataDirectory=/tmp/demo-data &
    python3 deploy/bench/popular-diversity.py --url http://localhost:5000
"""
import argparse
import json
import statistics
import time
import urllib.request


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--reads", type=int, default=300)
    args = parser.parse_args()

    def get(path):
        with urllib.request.urlopen(args.url + path) as response:
            return json.load(response)

    tags = {}
    for diversity in ["0", "0.3", "0.5", "1"]:
        listed = get(f"/popular?k=10&diversity={diversity}")["items"]
        genres = set()
        for item in listed:
            if item["id"] not in tags:
                tags[item["id"]] = get(f"/items/{item['id']}").get("tags") or []
            genres.update(tags[item["id"]])
        print(f"diversity={diversity}: {len(genres)} genres; " + ", ".join(i["title"] for i in listed))

    for k in [10, 100]:
        for round_ in range(2):
            for diversity in ["0", "0.3"]:
                times = []
                for _ in range(args.reads):
                    start = time.perf_counter()
                    get(f"/popular?k={k}&diversity={diversity}")
                    times.append(time.perf_counter() - start)
                times.sort()
                print(f"k={k} round {round_ + 1} diversity={diversity}: mean {statistics.mean(times) * 1000:.2f} ms, "
                      f"p99 {times[int(len(times) * 0.99)] * 1000:.2f} ms")


if __name__ == "__main__":
    main()
