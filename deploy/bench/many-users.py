#!/usr/bin/env python3
"""Users' lists read in one POST /users/recommendations against the same lists read one GET each.

    python3 deploy/bench/many-users.py --url http://localhost:5000 --users 1-610 --rounds 10 --threads 8 --query k=10

Every user is read once first (so each interest vector is cached), then the two ways alternate round after round,
the first of each round alternating; each round reads every user once. The GETs go out from --threads client
threads, each over one kept-alive connection, as a client library sends them. Prints users a second for each way.
"""
import argparse
import concurrent.futures
import http.client
import json
import threading
import time
import urllib.parse

parser = argparse.ArgumentParser()
parser.add_argument('--url', default='http://localhost:5000')
parser.add_argument('--users', default='1-610', help='a range FIRST-LAST of numeric user ids')
parser.add_argument('--rounds', type=int, default=10)
parser.add_argument('--threads', type=int, default=8)
parser.add_argument('--query', default='k=10')
args = parser.parse_args()
url = urllib.parse.urlparse(args.url)
first, last = (int(x) for x in args.users.split('-'))
users = [str(u) for u in range(first, last + 1)]
local = threading.local()


def connection():
    if getattr(local, 'connection', None) is None:
        local.connection = http.client.HTTPConnection(url.hostname, url.port or 80)
    return local.connection


def read_one(user):
    c = connection()
    c.request('GET', f'/users/{urllib.parse.quote(user, safe="")}/recommendations?{args.query}')
    response = c.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f'GET for user {user}: {response.status}')


def one_each():
    with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(read_one, users))


def all_at_once():
    for chunk in (users[i:i + 1000] for i in range(0, len(users), 1000)):
        c = connection()
        c.request('POST', f'/users/recommendations?{args.query}', json.dumps({'users': chunk}), {'Content-Type': 'application/json'})
        response = c.getresponse()
        body = response.read()
        if response.status != 200 or len(json.loads(body)['users']) != len(chunk):
            raise SystemExit(f'POST /users/recommendations: {response.status} {body[:300]!r}')


one_each()
all_at_once()
rates = {'one GET each': [], 'one POST': []}
for round_ in range(args.rounds):
    ways = [('one GET each', one_each), ('one POST', all_at_once)]
    for name, way in (ways if round_ % 2 == 0 else ways[::-1]):
        started = time.perf_counter()
        way()
        rates[name].append(len(users) / (time.perf_counter() - started))
for name, values in rates.items():
    print(f'{name}: ' + ' '.join(f'{v:.0f}' for v in values) + f' users/s, mean {sum(values) / len(values):.0f}')
print(f"one POST against one GET each: {sum(rates['one POST']) / sum(rates['one GET each']):.2f}x")
