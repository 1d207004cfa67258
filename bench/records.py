#!/usr/bin/env python3
"""Records latency through the local runner, and the emulator's own latency for comparison.

Concurrent phases (--concurrency client threads, one keep-alive connection or SDK client per thread):
  runner.create     POST /v1/data/company            (distinct names: company.name is unique)
  runner.get        GET  /v1/data/company/{id}       (cycling over the ids just created)
  emulator.put      boto3 PutItem on a scratch table in the emulator (same key shape as a record item)
  emulator.get      boto3 GetItem (ConsistentRead) of those items
  emulator_raw.put  the same PutItem as a raw HTTP request through the same stdlib client as the runner phases
  emulator_raw.get  the same GetItem, likewise
Sequential breakdown (--profile; needs MOTO_RECORDER_FILEPATH to point somewhere harmless, bench/run.sh arranges it):
  profile           with moto's request recorder on, a few creates and gets: which emulator calls one request makes;
                    then, recorder off, the same number of creates and gets timed one at a time, and the recorded
                    emulator calls replayed one at a time (fresh ids) and timed per call: runner latency minus the
                    sum of its emulator calls is what the runner itself adds.

The figure tracked is runner latency / emulator latency (p50 and p95), with boto3 as the emulator client.

Needs boto3 (bench/requirements.txt); the HTTP client is the standard library's http.client.
"""

from __future__ import annotations

import argparse
import base64
import collections
import http.client
import json
import math
import random
import re
import statistics
import sys
import threading
import time
import urllib.parse
import uuid

from report import emit


# ---------------------------------------------------------------------------------------------------------- stats


def pct(values, p):
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))]


def summary(lat_ms, wall_s, cpu_s, errors, statuses):
    if not lat_ms:
        return {"n": 0, "errors": errors, "statuses": statuses}
    return {
        "n": len(lat_ms),
        "errors": errors,
        "statuses": statuses,
        "min": min(lat_ms),
        "p50": statistics.median(lat_ms),
        "p95": pct(lat_ms, 95),
        "p99": pct(lat_ms, 99),
        "max": max(lat_ms),
        "mean": statistics.fmean(lat_ms),
        "throughput_per_s": len(lat_ms) / wall_s if wall_s else None,
        "wall_s": wall_s,
        "client_cpu_ms_per_op": cpu_s * 1000 / (len(lat_ms) + errors) if lat_ms else None,
    }


def run_concurrent(n_ops, concurrency, make_worker_state, op):
    """Runs op(state, i) for i in range(n_ops) on `concurrency` threads. op returns (ok, status, value).
    Each thread's state (connection, SDK client) is made before the clock starts: creating a boto3 client costs
    ~100 ms of CPU under the GIL and would otherwise stall the other threads' requests.
    Returns (summary, values by index)."""
    lock = threading.Lock()
    counter = iter(range(n_ops))
    lat, values, statuses = [], [None] * n_ops, collections.Counter()
    errors = [0]
    first_errors = []

    states = [make_worker_state() for _ in range(concurrency)]

    def worker(state):
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            t0 = time.perf_counter_ns()
            try:
                ok, status, value = op(state, i)
            except Exception as e:  # noqa: BLE001 -- a benchmark counts failures, it does not stop on them
                ok, status, value = False, type(e).__name__, None
                state = make_worker_state()
            dt = (time.perf_counter_ns() - t0) / 1e6
            with lock:
                statuses[str(status)] += 1
                if ok:
                    lat.append(dt)
                    values[i] = value
                else:
                    errors[0] += 1
                    if len(first_errors) < 3:
                        first_errors.append(f"op {i}: {status} {str(value)[:300]}")

    threads = [threading.Thread(target=worker, args=(st,)) for st in states]
    cpu0, t0 = time.process_time(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    s = summary(lat, wall, cpu, errors[0], dict(statuses))
    tenth = len(lat) // 10
    if tenth >= 5:
        s["p50_first_tenth"] = statistics.median(lat[:tenth])
        s["p50_last_tenth"] = statistics.median(lat[-tenth:])
    if first_errors:
        s["first_errors"] = first_errors
    return s, values


# -------------------------------------------------------------------------------------------------- HTTP client


class Http:
    """One keep-alive connection per client thread."""

    def __init__(self, base_url):
        u = urllib.parse.urlsplit(base_url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)

    def request(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        data = r.read()
        return r.status, data


def runner_phases(args, log):
    headers = {"Authorization": f"Bearer {args.api_key}", "Accept": "application/vnd.api+json"}
    post_headers = dict(headers, **{"Content-Type": "application/vnd.api+json"})
    run_id = uuid.uuid4().hex[:8]

    def create(prefix):
        def op(h, i):
            body = json.dumps({"data": {"type": "company", "attributes": {"name": f"{prefix} {run_id} {i:05d}"}}})
            status, data = h.request("POST", "/v1/data/company", body, post_headers)
            if status != 201:
                return False, status, data
            return True, status, json.loads(data)["data"]["id"]

        return op

    def get(ids):
        def op(h, i):
            status, data = h.request("GET", f"/v1/data/company/{ids[i]}", None, headers)
            return status == 200, status, None if status == 200 else data

        return op

    new = lambda: Http(args.base_url)  # noqa: E731
    out = {}
    log(f"runner: {args.warmup} warm-up creates and gets")
    _, warm_ids = run_concurrent(args.warmup, args.concurrency, new, create("bench-warmup"))
    warm_ids = [x for x in warm_ids if x]
    run_concurrent(len(warm_ids), args.concurrency, new, get(warm_ids))
    log(f"runner: {args.creates} creates, {args.concurrency} concurrent clients")
    out["create"], ids = run_concurrent(args.creates, args.concurrency, new, create("bench"))
    ids = [x for x in ids if x]
    log(f"runner: {args.ops} gets of those {len(ids)} records")
    out["get"], _ = run_concurrent(args.ops, args.concurrency, new, get([ids[i % len(ids)] for i in range(args.ops)]))
    return out


# --------------------------------------------------------------------------------------------- emulator direct


def item(i, run_id):
    """An item shaped like a record item in the data table (same key layout, similar size)."""
    rid = f"{run_id}{i:018d}"
    now = "2026-11-25T12:00:00.000Z"
    return {
        "pk": {"S": "T#bench#E#company"},
        "sk": {"S": f"R#{rid}"},
        "id": {"S": rid},
        "entity": {"S": "company"},
        "version": {"N": "1"},
        "attrs": {"M": {"name": {"S": f"bench {run_id} {i:05d}"}}},
        "claims": {"M": {"name": {"S": uuid.uuid4().hex * 2}}},
        "created_at": {"S": now},
        "updated_at": {"S": now},
        "created_by": {"S": "apikey:key_01BENCHBENCHBENCHBENCHBENCH"},
        "updated_by": {"S": "apikey:key_01BENCHBENCHBENCHBENCHBENCH"},
    }


def emulator_phases(args, table, log):
    import boto3
    from botocore.config import Config

    cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=4)

    def client():
        return boto3.session.Session().client(
            "dynamodb",
            endpoint_url=args.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=cfg,
        )

    out = {}
    run_id = uuid.uuid4().hex[:8]

    def put(h, i):
        h.put_item(TableName=table, Item=item(i, run_id), ConditionExpression="attribute_not_exists(pk)")
        return True, 200, None

    def get(h, i):
        r = h.get_item(TableName=table, Key={"pk": {"S": "T#bench#E#company"}, "sk": item(i, run_id)["sk"]}, ConsistentRead=True)
        return "Item" in r, 200 if "Item" in r else 404, None

    log(f"emulator (boto3): {args.warmup} warm-up puts and gets")
    run_concurrent(args.warmup, args.concurrency, client, lambda h, i: put(h, i + 10_000_000))
    log(f"emulator (boto3): {args.ops} PutItem, {args.concurrency} concurrent clients")
    out["put"], _ = run_concurrent(args.ops, args.concurrency, client, put)
    log(f"emulator (boto3): {args.ops} GetItem")
    out["get"], _ = run_concurrent(args.ops, args.concurrency, client, get)
    return out


def emulator_raw_phases(args, table, log):
    """The same PutItem/GetItem as raw HTTP through the runner phases' client, so client overhead is equal."""
    run_id = uuid.uuid4().hex[:8]
    auth = (
        "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64
    )

    def call(h, target, payload):
        status, data = h.request(
            "POST",
            "/",
            json.dumps(payload),
            {
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": f"DynamoDB_20120810.{target}",
                "X-Amz-Date": "20261125T120000Z",
                "Authorization": auth,
            },
        )
        return status, data

    def put(h, i):
        status, data = call(h, "PutItem", {"TableName": table, "Item": item(i, run_id), "ConditionExpression": "attribute_not_exists(pk)"})
        return status == 200, status, None if status == 200 else data

    def get(h, i):
        status, data = call(h, "GetItem", {"TableName": table, "Key": {"pk": {"S": "T#bench#E#company"}, "sk": item(i, run_id)["sk"]}, "ConsistentRead": True})
        ok = status == 200 and b'"Item"' in data
        return ok, status, None if ok else data

    new = lambda: Http(args.endpoint)  # noqa: E731
    out = {}
    log(f"emulator (raw HTTP): {args.ops} PutItem and GetItem")
    run_concurrent(args.warmup, args.concurrency, new, lambda h, i: put(h, i + 10_000_000))
    out["put"], _ = run_concurrent(args.ops, args.concurrency, new, put)
    out["get"], _ = run_concurrent(args.ops, args.concurrency, new, get)
    return out


def scratch_table(args, name, create):
    import boto3

    c = boto3.client("dynamodb", endpoint_url=args.endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    if create:
        c.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
        )
        c.get_waiter("table_exists").wait(TableName=name)
    else:
        c.delete_table(TableName=name)


# ------------------------------------------------------------------------------------------------------ profile


def recording(args, action):
    h = Http(args.endpoint)
    status, data = h.request("POST" if action != "download-recording" else "GET", f"/moto-api/recorder/{action}")
    if status != 200:
        raise RuntimeError(f"recorder {action}: HTTP {status} {data[:200]!r}")
    return data


def recorded(args):
    """The recorded requests as (target, method, url, headers, body)."""
    out = []
    for line in recording(args, "download-recording").decode().splitlines():
        if not line.strip():
            continue
        e = json.loads(line)
        headers = {k: v for k, v in e["headers"].items() if k.lower() not in ("host", "content-length", "connection")}
        body = e.get("body") or ""
        if e.get("body_encoded"):
            body = base64.b64decode(body).decode("utf-8", "replace")
        target = next((v for k, v in headers.items() if k.lower() == "x-amz-target"), None)
        if not target:  # query-protocol services put the action in the body or the URL; REST ones (Scheduler) in the path
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(e["url"]).query)
            if "=" in body and not body.lstrip().startswith("{"):
                q.update(urllib.parse.parse_qs(body))
            target = (q.get("Action") or [f"{e['method']} {urllib.parse.urlsplit(e['url']).path}"])[0]
        out.append((target, e["method"], e["url"], headers, body))
    return out


ULID = re.compile(r"\b01[0-9A-HJKMNP-TV-Z]{24}\b")
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")
REPLAYED = ("DynamoDB_", "AWSEvents.")  # what a request itself calls; SQS polling and the schedule loop are background


def fresh(body, mapping):
    """The same body with every ULID and 64-hex token (record, event and claim ids) replaced by a new one."""

    def sub(m, make):
        return mapping.setdefault(m.group(0), make())

    body = ULID.sub(lambda m: sub(m, lambda: "01" + "".join(random.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(24))), body)
    return HEX64.sub(lambda m: sub(m, lambda: uuid.uuid4().hex + uuid.uuid4().hex), body)


def profile(args, log):
    """Sequential breakdown of one create and one get: which emulator calls they make (recorder on), how long they
    take through the runner (recorder off), and how long those same emulator calls take on their own (replayed)."""
    headers = {"Authorization": f"Bearer {args.api_key}", "Accept": "application/vnd.api+json"}
    post_headers = dict(headers, **{"Content-Type": "application/vnd.api+json"})
    n = args.profile_ops
    h = Http(args.base_url)
    run_id = uuid.uuid4().hex[:8]
    out = {"requests": n}

    def window(fn):
        recording(args, "reset-recording")
        recording(args, "start-recording")
        t0 = time.perf_counter()
        try:
            fn()
        finally:
            recording(args, "stop-recording")
        secs = time.perf_counter() - t0
        return recorded(args), secs

    def creates(tag, lat=None):
        ids = []
        for i in range(n):
            body = json.dumps({"data": {"type": "company", "attributes": {"name": f"profile {tag} {run_id} {i}"}}})
            t0 = time.perf_counter_ns()
            status, data = h.request("POST", "/v1/data/company", body, post_headers)
            if lat is not None:
                lat.append((time.perf_counter_ns() - t0) / 1e6)
            if status != 201:
                raise RuntimeError(f"profile create: HTTP {status} {data[:300]!r}")
            ids.append(json.loads(data)["data"]["id"])
        return ids

    def gets(ids, lat=None):
        for i in ids:
            t0 = time.perf_counter_ns()
            status, data = h.request("GET", f"/v1/data/company/{i}", None, headers)
            if lat is not None:
                lat.append((time.perf_counter_ns() - t0) / 1e6)
            if status != 200:
                raise RuntimeError(f"profile get: HTTP {status} {data[:300]!r}")

    log(f"profile: emulator calls of {n} creates and {n} gets (recorder on)")
    ids = []
    create_calls, _ = window(lambda: ids.extend(creates("rec")))
    get_calls, _ = window(lambda: gets(ids))
    idle_calls, idle_s = window(lambda: time.sleep(3.0))
    recording(args, "reset-recording")
    for name, calls in (("create", create_calls), ("get", get_calls)):
        counts = collections.Counter(c[0] for c in calls if c[0].startswith(REPLAYED))
        out[name] = {"calls_per_request": {k: round(v / n, 2) for k, v in sorted(counts.items())}}
    out["background_calls_per_s"] = {k: round(v / idle_s, 2) for k, v in sorted(collections.Counter(c[0] for c in idle_calls).items())}

    log(f"profile: {n} creates and {n} gets one at a time (recorder off)")
    lat_c, lat_g = [], []
    gets(creates("seq", lat_c), lat_g)

    log("profile: replaying the recorded emulator calls one at a time")
    emu = Http(args.endpoint)
    mapping = {}
    for name, calls, lat in (("create", create_calls, lat_c), ("get", get_calls, lat_g)):
        per_call = collections.defaultdict(list)
        for target, method, url, hdrs, body in calls:
            if not target.startswith(REPLAYED):
                continue
            if name == "create" and not target.endswith("GetItem"):
                body = fresh(body, mapping)  # writes need unused keys, or their conditions fail
            path = urllib.parse.urlsplit(url)
            t0 = time.perf_counter_ns()
            status, data = emu.request(method, path.path + (f"?{path.query}" if path.query else ""), body.encode(), hdrs)
            per_call[target].append((time.perf_counter_ns() - t0) / 1e6)
            if status != 200:
                raise RuntimeError(f"replay {target}: HTTP {status} {data[:300]!r}")
        # Medians, not means: the emulator also serves the runner's pollers, and one stall would skew a mean of 20.
        per_request = {k: len(v) / n for k, v in per_call.items()}
        emulator_ms = sum(per_request[k] * statistics.median(v) for k, v in per_call.items())
        out[name].update(
            {
                "runner_ms": {"mean": statistics.fmean(lat), "p50": statistics.median(lat), "min": min(lat)},
                "emulator_calls_ms": {k: {"n": len(v), "mean": statistics.fmean(v), "p50": statistics.median(v)} for k, v in sorted(per_call.items())},
                "emulator_ms_per_request": emulator_ms,
                "runner_own_ms": statistics.median(lat) - emulator_ms,
            }
        )
    return out


# --------------------------------------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", required=True, help="the local runner, e.g. http://127.0.0.1:8080")
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--endpoint", required=True, help="the emulator, e.g. http://127.0.0.1:4566")
    ap.add_argument("--scratch-table", required=True, help="name of a table to create (and delete) in the emulator")
    ap.add_argument("--ops", type=int, default=2000, help="gets through the runner; puts and gets against the emulator")
    ap.add_argument("--creates", type=int, default=500, help="creates through the runner (see docs/BENCHMARKS.md: moto's "
                    "TransactWriteItems copies the whole table, so creates get slower as the table grows)")
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--no-raw", action="store_true", help="skip the raw-HTTP emulator phases")
    ap.add_argument("--profile", action="store_true", help="count emulator calls per request with moto's recorder")
    ap.add_argument("--profile-ops", type=int, default=20)
    ap.add_argument("--out")
    args = ap.parse_args()
    log = lambda m: print(f"[records] {m}", file=sys.stderr, flush=True)  # noqa: E731

    result = {"ops": args.ops, "creates": args.creates, "concurrency": args.concurrency, "warmup": args.warmup}
    result["runner"] = runner_phases(args, log)
    scratch_table(args, args.scratch_table, create=True)
    try:
        result["emulator"] = emulator_phases(args, args.scratch_table, log)
        if not args.no_raw:
            result["emulator_raw"] = emulator_raw_phases(args, args.scratch_table, log)
    finally:
        scratch_table(args, args.scratch_table, create=False)
    if args.profile:
        result["profile"] = profile(args, log)

    def ratio(a, b, k):
        return a[k] / b[k] if a.get(k) and b.get(k) else None

    r, e = result["runner"], result["emulator"]
    result["ratio"] = {
        f"{op}_{k}": ratio(r[op], e[eop], k) for op, eop in (("create", "put"), ("get", "get")) for k in ("p50", "p95")
    }
    if "emulator_raw" in result:
        er = result["emulator_raw"]
        result["ratio_raw"] = {
            f"{op}_{k}": ratio(r[op], er[eop], k) for op, eop in (("create", "put"), ("get", "get")) for k in ("p50", "p95")
        }
    emit(result, args.out)
    failed = [f"{section}.{name}: {p['errors']}" for section in ("runner", "emulator", "emulator_raw") for name, p in result.get(section, {}).items() if p.get("errors")]
    if failed:  # reported, not fatal: see docs/BENCHMARKS.md on the emulator's errors under concurrent transactions
        log("requests that failed: " + ", ".join(failed))


if __name__ == "__main__":
    main()
