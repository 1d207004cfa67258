#!/usr/bin/env python3
"""REST API under load, through the local runner, next to the emulator's own latency in the same run.

Phases (one asyncio client, aiohttp, keep-alive connections; all against one tenant, the runner's demo tenant):
  setup        two API keys made through POST /v1/api-keys: a "closed" key (rate_limit_per_minute at the maximum,
               so the closed-loop phases are never limited) and a "paced" key (rate_limit_per_minute just above the
               offered rate); --records companies created through the runner.
  calls        with moto's request recorder on, one GET by id and one list: which emulator calls each makes.
  sequential   1 client: --seq-ops gets and lists through the runner; the emulator's GetItem and Query (Limit 25) on
               the same items; every recorded call of a get and of a list replayed alone (per-call cost).
  closed       --clients concurrent clients, closed loop, --ops requests each phase:
                 runner.get   GET /v1/data/company/{id}        emulator.get    GetItem of the same record item
                 runner.list  GET /v1/data/company?page[size]=25  emulator.query  Query, Limit 25, same partition
                 emulator.get_replay / emulator.list_replay: all the emulator calls of one get / list, one after the
                 other per client, without the runner (so runner − replay is what the runner itself adds)
  paced        open loop at --rpm requests per minute (constant arrival rate, latency counted from the scheduled
               arrival, so a slow answer cannot hide the requests queued behind it) for --seconds: 70 % gets,
               25 % lists, 5 % creates, with the paced key; per-10-s buckets. Arrivals while --max-inflight requests
               are outstanding are not sent and are counted as dropped (the stack could not keep up).
  overlimit    a key limited to --overlimit-rpm; 2× that many gets at once: 429s must appear, each with Retry-After.

Exit status 1 when any request got a 5xx, when a request failed without an HTTP answer, or when the over-limit phase
saw no 429 (or a 429 without Retry-After). Client, runner and emulator CPU are measured per phase (/proc).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import math
import os
import statistics
import sys
import time
import uuid

import aiohttp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import records  # noqa: E402  -- the recorder helpers (stdlib only at import)

from report import conclude

TICK = os.sysconf("SC_CLK_TCK")
AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64
)
log = lambda m: print(f"[rest {time.strftime('%H:%M:%S')}] {m}", file=sys.stderr, flush=True)  # noqa: E731


# ---------------------------------------------------------------------------------------------------- accounting


def pct(values, p):
    return records.pct(values, p) if values else None


def lat_summary(lat):
    if not lat:
        return {"n": 0}
    return {
        "n": len(lat),
        "p50": statistics.median(lat),
        "p95": pct(lat, 95),
        "p99": pct(lat, 99),
        "max": max(lat),
        "mean": statistics.fmean(lat),
    }


def proc_cpu_s(pid):
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / TICK  # utime stime cutime cstime
    except (OSError, IndexError, ValueError):
        return None


def machine_busy_s():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = f[3] + f[4]
    return (sum(f[:8]) - idle) / TICK


class Cpu:
    """CPU used by this client, the runner and the emulator (and the whole machine) over a phase, in cores."""

    def __init__(self, pids):
        self.pids = {k: v for k, v in pids.items() if v}

    def __enter__(self):
        self.t0, self.c0, self.m0 = time.perf_counter(), time.process_time(), machine_busy_s()
        self.p0 = {k: proc_cpu_s(v) for k, v in self.pids.items()}
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.t0
        self.result = {"wall_s": wall, "client_cores": (time.process_time() - self.c0) / wall, "machine_cores": (machine_busy_s() - self.m0) / wall}
        for k, pid in self.pids.items():
            now = proc_cpu_s(pid)
            self.result[f"{k}_cores"] = (now - self.p0[k]) / wall if now is not None and self.p0[k] is not None else None
        try:
            self.result["loadavg"] = open("/proc/loadavg").read().split()[:3]
        except OSError:
            pass


# ------------------------------------------------------------------------------------------------------- clients


class Clients:
    def __init__(self, args, session):
        self.args, self.s = args, session

    async def runner(self, method, path, key, body=None, want_headers=False):
        jsonapi = path.startswith("/v1/data/")
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/vnd.api+json" if jsonapi else "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/vnd.api+json" if jsonapi else "application/json"
            body = json.dumps(body)
        async with self.s.request(method, self.args.base_url + path, data=body, headers=headers) as r:
            data = await r.read()
            return r.status, data, (r.headers if want_headers else None)

    async def emulator(self, target, payload):
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": target if target.startswith("DynamoDB_") else f"DynamoDB_20120810.{target}",
            "X-Amz-Date": "20261125T120000Z",
            "Authorization": AUTH,
        }
        body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        async with self.s.post(self.args.endpoint + "/", data=body, headers=headers) as r:
            data = await r.read()
            return r.status, data


async def closed_loop(n, clients, op, pids):
    """op(i) -> (ok, status). n operations over `clients` concurrent workers."""
    it = iter(range(n))
    lat, statuses, firsts = [], collections.Counter(), []

    async def worker():
        for i in it:
            t0 = time.perf_counter_ns()
            try:
                ok, status, detail = await op(i)
            except Exception as e:  # noqa: BLE001 -- counted, not fatal here
                ok, status, detail = False, type(e).__name__, str(e)
            dt = (time.perf_counter_ns() - t0) / 1e6
            statuses[str(status)] += 1
            if ok:
                lat.append(dt)
            elif len(firsts) < 3:
                firsts.append(f"{status} {str(detail)[:200]}")

    with Cpu(pids) as cpu:
        await asyncio.gather(*(worker() for _ in range(clients)))
    s = lat_summary(lat)
    s.update({"statuses": dict(statuses), "errors": n - len(lat), "throughput_per_s": len(lat) / cpu.result["wall_s"], "cpu": cpu.result})
    if firsts:
        s["first_errors"] = firsts
    return s


# ------------------------------------------------------------------------------------------------------- phases


async def make_key(c, admin, name, limit):
    status, data, _ = await c.runner("POST", "/v1/api-keys", admin, {"name": name, "scopes": ["data:write"], "rate_limit_per_minute": limit})
    if status != 201:
        raise RuntimeError(f"POST /v1/api-keys: HTTP {status} {data[:300]!r}")
    d = json.loads(data)
    return d["secret"], d["id"]


async def seed(c, key, n, run_id):
    ids = []

    async def op(i):
        status, data, _ = await c.runner("POST", "/v1/data/company", key, {"data": {"type": "company", "attributes": {"name": f"rest {run_id} {i:06d}", "employees": i}}})
        if status == 201:
            ids.append(json.loads(data)["data"]["id"])
        return status == 201, status, data

    s = await closed_loop(n, 20, op, {})
    if len(ids) < n:
        raise RuntimeError(f"seeding: {s}")
    return ids


def dynamo_calls(calls):
    return [(t, body) for t, _m, _u, _h, body in calls if t.startswith("DynamoDB_")]


def describe(target, body):
    """Short name of a recorded DynamoDB call: operation and table (and what it is for, from the key)."""
    op = target.split(".")[-1]
    try:
        b = json.loads(body)
    except ValueError:
        return op
    table = b.get("TableName", "?").rsplit("-", 1)[-1]
    pk = json.dumps(b.get("Key", {})) + json.dumps(b.get("Item", {}).get("pk", {})) + json.dumps(b.get("ExpressionAttributeValues", {}))
    what = ""
    if "APIKEYHASH" in pk:
        what = "api key"
    elif "MODEL#" in pk:
        what = "model"
    elif "#RL" in pk:
        what = "rate limit"
    elif "#USAGE#" in pk:
        what = "usage"
    elif table == "ops" and op == "PutItem":
        what = "request log"
    elif table == "data":
        what = "record(s)"
    elif "APIKEY#" in pk:
        what = "key last-used"
    return f"{op} {table}" + (f" ({what})" if what else "")


async def record_calls(args, c, key, rid):
    """With moto's recorder on: the emulator calls of one GET by id and one list (each done twice, the second kept)."""
    out = {}
    for name, path in (("get", f"/v1/data/company/{rid}"), ("list", "/v1/data/company?page%5Bsize%5D=25")):
        await c.runner("GET", path, key)
        await asyncio.to_thread(records.recording, args, "reset-recording")
        await asyncio.to_thread(records.recording, args, "start-recording")
        try:
            status, _, _ = await c.runner("GET", path, key)
        finally:
            await asyncio.to_thread(records.recording, args, "stop-recording")
        calls = dynamo_calls(await asyncio.to_thread(records.recorded, args))
        await asyncio.to_thread(records.recording, args, "reset-recording")
        if status != 200:
            raise RuntimeError(f"recording {name}: HTTP {status}")
        out[name] = calls
    return out


async def replay(c, calls):
    for target, body in calls:
        status, data = await c.emulator(target, body)
        if status != 200:
            return False, status, data
    return True, 200, None


async def sequential(args, c, key, ids, table, calls, pids):
    n = args.seq_ops
    out = {}
    get_ = lambda i: runner_get(c, key, ids[i % len(ids)])  # noqa: E731
    out["runner.get"] = await closed_loop(n, 1, get_, pids)
    out["runner.list"] = await closed_loop(n, 1, lambda i: runner_list(c, key), pids)
    out["emulator.get"] = await closed_loop(n, 1, lambda i: emu_get(c, table, ids[i % len(ids)]), pids)
    out["emulator.query"] = await closed_loop(n, 1, lambda i: emu_query(c, table), pids)
    per_call = {}
    for name, cl in calls.items():
        rows = []
        for j, (target, body) in enumerate(cl):
            s = await closed_loop(n, 1, lambda i, t=target, b=body: replay(c, [(t, b)]), pids)
            rows.append({"call": describe(target, body), "p50": s.get("p50"), "p95": s.get("p95"), "errors": s["errors"]})
        per_call[name] = rows
    out["per_call"] = per_call
    return out


async def runner_get(c, key, rid):
    status, data, _ = await c.runner("GET", f"/v1/data/company/{rid}", key)
    return status == 200, status, data


async def runner_list(c, key):
    status, data, _ = await c.runner("GET", "/v1/data/company?page%5Bsize%5D=25", key)
    ok = status == 200 and len(json.loads(data)["data"]) == 25
    return ok, status, data


async def emu_get(c, table, rid):
    status, data = await c.emulator("GetItem", {"TableName": table, "Key": {"pk": {"S": "T#demo#E#company"}, "sk": {"S": f"R#{rid}"}}, "ConsistentRead": True})
    ok = status == 200 and b'"Item"' in data
    return ok, status, data


async def emu_query(c, table):
    status, data = await c.emulator(
        "Query",
        {
            "TableName": table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :r)",
            "ExpressionAttributeValues": {":pk": {"S": "T#demo#E#company"}, ":r": {"S": "R#"}},
            "Limit": 25,
            "ConsistentRead": True,
        },
    )
    ok = status == 200 and json.loads(data).get("Count") == 25
    return ok, status, data


async def closed(args, c, key, ids, table, calls, pids):
    n, k = args.ops, args.clients
    out = {}
    log(f"closed loop: warm-up ({args.warmup} each)")
    await closed_loop(args.warmup, k, lambda i: runner_get(c, key, ids[i % len(ids)]), {})
    await closed_loop(args.warmup, k, lambda i: emu_get(c, table, ids[i % len(ids)]), {})
    for name, op in (
        ("runner.get", lambda i: runner_get(c, key, ids[i % len(ids)])),
        ("emulator.get", lambda i: emu_get(c, table, ids[i % len(ids)])),
        ("runner.list", lambda i: runner_list(c, key)),
        ("emulator.query", lambda i: emu_query(c, table)),
        ("emulator.get_replay", lambda i: replay(c, calls["get"])),
        ("emulator.list_replay", lambda i: replay(c, calls["list"])),
    ):
        log(f"closed loop: {name}, {n} requests, {k} clients")
        out[name] = await closed_loop(n, k, op, pids)
        s = out[name]
        log(f"  p50 {s.get('p50', 0):.1f} p95 {s.get('p95', 0):.1f} ms, {s['throughput_per_s']:.0f}/s, errors {s['errors']}, client {s['cpu']['client_cores']:.2f} cores")
    return out


async def paced(args, c, key, ids, pids, run_id):
    rate = args.rpm / 60.0
    n = int(rate * args.seconds)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5
    results = []  # (bucket, kind, status, lat_sched_ms, lat_service_ms)
    dropped = collections.Counter()
    inflight = [0]
    rl = {"limit": collections.Counter(), "min_remaining": None}
    retry_after_missing = [0]
    tasks = []

    def kind(i):
        m = i % 20
        return "create" if m == 0 else ("list" if m <= 5 else "get")

    async def one(i, at):
        inflight[0] += 1
        sent = loop.time()
        k = kind(i)
        try:
            if k == "get":
                status, _, h = await c.runner("GET", f"/v1/data/company/{ids[(i * 7919) % len(ids)]}", key, want_headers=True)
            elif k == "list":
                status, _, h = await c.runner("GET", "/v1/data/company?page%5Bsize%5D=25", key, want_headers=True)
            else:
                status, _, h = await c.runner("POST", "/v1/data/company", key, {"data": {"type": "company", "attributes": {"name": f"paced {run_id} {i:07d}"}}}, want_headers=True)
            if h is not None and "ratelimit-limit" in h:
                rl["limit"][h["ratelimit-limit"]] += 1
                rem = int(h["ratelimit-remaining"])
                rl["min_remaining"] = rem if rl["min_remaining"] is None else min(rl["min_remaining"], rem)
            if status == 429 and "retry-after" not in h:
                retry_after_missing[0] += 1
        except Exception as e:  # noqa: BLE001
            status = type(e).__name__
        done = loop.time()
        inflight[0] -= 1
        results.append((int((at - start) // 10), k, status, (done - at) * 1000, (done - sent) * 1000))

    with Cpu(pids) as cpu:
        for i in range(n):
            at = start + i / rate
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if inflight[0] >= args.max_inflight:
                dropped[int((at - start) // 10)] += 1
                continue
            tasks.append(asyncio.ensure_future(one(i, at)))
        offered_s = loop.time() - start
        await asyncio.gather(*tasks)
    statuses = collections.Counter(str(r[2]) for r in results)
    buckets = []
    for b in range(int(math.ceil(args.seconds / 10))):
        rows = [r for r in results if r[0] == b]
        ok = [r for r in rows if isinstance(r[2], int) and r[2] < 400]
        lat = [r[3] for r in ok]
        buckets.append(
            {
                "from_s": b * 10,
                "sent": len(rows),
                "dropped": dropped[b],
                "ok": len(ok),
                "status_429": sum(1 for r in rows if r[2] == 429),
                "status_5xx": sum(1 for r in rows if isinstance(r[2], int) and r[2] >= 500),
                "no_answer": sum(1 for r in rows if not isinstance(r[2], int)),
                **{k: v for k, v in lat_summary(lat).items() if k in ("p50", "p95", "p99", "max")},
            }
        )
    by_kind = {}
    for k in ("get", "list", "create"):
        rows = [r for r in results if r[1] == k and isinstance(r[2], int) and r[2] < 400]
        by_kind[k] = {"scheduled": lat_summary([r[3] for r in rows]), "service": lat_summary([r[4] for r in rows])}
    ok_all = [r for r in results if isinstance(r[2], int) and r[2] < 400]
    completed_span = cpu.result["wall_s"]
    return {
        "offered_rpm": args.rpm,
        "offered_per_s": rate,
        "seconds": args.seconds,
        "offered": n,
        "sent": len(results),
        "dropped": sum(dropped.values()),
        "ok": len(ok_all),
        "achieved_ok_per_s": len(ok_all) / completed_span,
        "achieved_ok_per_s_over_offer_window": len(ok_all) / offered_s,
        "statuses": dict(statuses),
        "status_429": sum(1 for r in results if r[2] == 429),
        "status_5xx": sum(1 for r in results if isinstance(r[2], int) and r[2] >= 500),
        "no_answer": sum(1 for r in results if not isinstance(r[2], int)),
        "retry_after_missing": retry_after_missing[0],
        "ratelimit_limit_seen": dict(rl["limit"]),
        "ratelimit_min_remaining": rl["min_remaining"],
        "latency_from_schedule": lat_summary([r[3] for r in ok_all]),
        "latency_service": lat_summary([r[4] for r in ok_all]),
        "by_kind": by_kind,
        "buckets": buckets,
        "max_inflight": args.max_inflight,
        "cpu": cpu.result,
    }


async def overlimit(args, c, admin, rid, pids):
    limit = args.overlimit_rpm
    # Fixed one-minute windows: start well inside one, so all the requests count against the same window.
    into = time.time() % 60
    if into > 45:
        log(f"over-limit: waiting {60 - into:.0f} s for a fresh window")
        await asyncio.sleep(60 - into + 0.5)
    key, key_id = await make_key(c, admin, "bench over-limit", limit)
    n = 2 * limit
    rows = []

    async def op(i):
        status, _, h = await c.runner("GET", f"/v1/data/company/{rid}", key, want_headers=True)
        rows.append((status, h.get("retry-after"), h.get("ratelimit-limit"), h.get("ratelimit-remaining"), h.get("content-type")))
        return status in (200, 429), status, None

    s = await closed_loop(n, 10, op, pids)
    st = collections.Counter(r[0] for r in rows)
    limited = [r for r in rows if r[0] == 429]
    return {
        "key_limit_per_minute": limit,
        "requests": n,
        "statuses": {str(k): v for k, v in st.items()},
        "status_429": len(limited),
        "status_200": st.get(200, 0),
        "status_5xx": sum(v for k, v in st.items() if isinstance(k, int) and k >= 500),
        "retry_after_values": sorted({r[1] for r in limited}, key=lambda x: int(x) if x and x.isdigit() else -1),
        "retry_after_missing": sum(1 for r in limited if not r[1]),
        "ratelimit_headers_on_429": sum(1 for r in limited if r[2] and r[3] is not None),
        "content_type_429": sorted({str(r[4]) for r in limited}),
        "latency": {k: s.get(k) for k in ("p50", "p95", "p99")},
    }


async def main_async(args):
    demo = json.load(open(args.demo))
    admin = demo["api_key"]
    table = f"{args.prefix}-data"
    pids = {"runner": args.runner_pid, "emulator": args.emulator_pid}
    run_id = uuid.uuid4().hex[:8]
    conn = aiohttp.TCPConnector(limit=max(args.max_inflight, args.clients) + 16, limit_per_host=0, ttl_dns_cache=None, use_dns_cache=True)
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    result = {"clients": args.clients, "ops": args.ops, "seq_ops": args.seq_ops, "records": args.records, "aiohttp": aiohttp.__version__}
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as session:
        c = Clients(args, session)
        closed_key, _ = await make_key(c, admin, "bench closed loop", 100_000)
        paced_limit = int(math.ceil(args.rpm * 1.05))
        paced_key, _ = await make_key(c, admin, "bench paced", paced_limit)
        result["paced_key_limit_per_minute"] = paced_limit
        log(f"seeding {args.records} companies")
        ids = await seed(c, closed_key, args.records, run_id)

        log("recording the emulator calls of one get and one list")
        calls = await record_calls(args, c, closed_key, ids[0])
        result["calls"] = {k: [describe(t, b) for t, b in v] for k, v in calls.items()}
        log(f"  get: {result['calls']['get']}")
        log(f"  list: {result['calls']['list']}")

        if not args.skip_sequential:
            log(f"sequential: {args.seq_ops} of each, 1 client")
            result["sequential"] = await sequential(args, c, closed_key, ids, table, calls, pids)
        if not args.skip_closed:
            result["closed"] = await closed(args, c, closed_key, ids, table, calls, pids)
        if not args.skip_paced:
            log(f"paced: {args.rpm} requests/min ({args.rpm / 60:.1f}/s) for {args.seconds} s, key limit {paced_limit}/min")
            result["paced"] = await paced(args, c, paced_key, ids, pids, run_id)
            p = result["paced"]
            log(f"  achieved {p['achieved_ok_per_s']:.1f}/s ok, dropped {p['dropped']}, 429 {p['status_429']}, 5xx {p['status_5xx']}, no answer {p['no_answer']}")
        log(f"over-limit: key limited to {args.overlimit_rpm}/min, {2 * args.overlimit_rpm} gets")
        result["overlimit"] = await overlimit(args, c, admin, ids[0], pids)
        # moto's Query reads the whole partition before applying Limit, so its cost depends on how many records exist.
        status, data = await c.emulator("Query", {"TableName": table, "KeyConditionExpression": "pk = :pk AND begins_with(sk, :r)",
                                                  "ExpressionAttributeValues": {":pk": {"S": "T#demo#E#company"}, ":r": {"S": "R#"}}, "Select": "COUNT"})
        result["company_records_at_end"] = json.loads(data).get("Count") if status == 200 else None
    return result


def checks(result):
    problems = []
    for phase in ("sequential", "closed"):
        for name, s in (result.get(phase) or {}).items():
            if not isinstance(s, dict) or "statuses" not in s:
                continue
            fivexx = sum(v for k, v in s["statuses"].items() if k.isdigit() and int(k) >= 500)
            if fivexx:
                problems.append(f"{phase}.{name}: {fivexx} 5xx")
            noans = sum(v for k, v in s["statuses"].items() if not k.isdigit())
            if noans:
                problems.append(f"{phase}.{name}: {noans} requests without an HTTP answer")
    p = result.get("paced")
    if p:
        if p["status_5xx"]:
            problems.append(f"paced: {p['status_5xx']} 5xx")
        if p["no_answer"]:
            problems.append(f"paced: {p['no_answer']} requests without an HTTP answer")
    o = result["overlimit"]
    if o["status_5xx"]:
        problems.append(f"overlimit: {o['status_5xx']} 5xx")
    if not o["status_429"]:
        problems.append("overlimit: no 429")
    if o["retry_after_missing"]:
        problems.append(f"overlimit: {o['retry_after_missing']} 429s without Retry-After")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--endpoint", required=True, help="the emulator")
    ap.add_argument("--demo", required=True, help="demo.json the runner wrote (admin key of the demo tenant)")
    ap.add_argument("--prefix", required=True, help="resource prefix (tables are <prefix>-data, ...)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--ops", type=int, default=1000, help="requests per closed-loop phase")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seq-ops", type=int, default=50, help="requests per sequential (1 client) measurement")
    ap.add_argument("--records", type=int, default=300, help="companies created for the gets")
    ap.add_argument("--rpm", type=int, default=10_000, help="offered rate of the paced phase, requests per minute")
    ap.add_argument("--seconds", type=int, default=60, help="length of the paced phase")
    ap.add_argument("--max-inflight", type=int, default=256)
    ap.add_argument("--overlimit-rpm", type=int, default=30)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--runner-pid", type=int)
    ap.add_argument("--emulator-pid", type=int)
    ap.add_argument("--skip-sequential", action="store_true")
    ap.add_argument("--skip-closed", action="store_true")
    ap.add_argument("--skip-paced", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    args.base_url = args.base_url.rstrip("/")
    args.endpoint = args.endpoint.rstrip("/")
    started = time.time()
    result = asyncio.run(main_async(args))
    conclude(result, started, checks(result), args.out, log,
             "no 5xx, every request answered, 429s with Retry-After over the limit")


if __name__ == "__main__":
    main()
