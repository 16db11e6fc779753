"""What the item benchmarks share: a timed JSON request to a running node, and the active model's dimension."""
import json
import time
import urllib.error
import urllib.request


def send(base, method, path, body=None):
    """Sends the request (a JSON body when given) and answers (milliseconds taken, the answer's bytes)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request) as response:
        answer = response.read()
    return (time.perf_counter() - start) * 1000, answer


def active_dimension(base):
    """The dimension an item's embedding must have: the active model version's."""
    models = json.loads(send(base, "GET", "/models")[1])
    return next(m for m in models["models"] if m["version"] == models["active"])["dimension"]


def exchange(base, method, path, body=None, headers=None):
    """Sends the request with extra headers and answers (milliseconds taken, status, ETag, the answer's bytes); a 304
    or a 412 is an answer, not an error."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request) as response:
            answer = response.read()
            status, tag = response.status, response.headers.get("ETag")
    except urllib.error.HTTPError as error:
        if error.code not in (304, 412):
            raise
        answer, status, tag = error.read(), error.code, error.headers.get("ETag")
    return (time.perf_counter() - start) * 1000, status, tag, answer
