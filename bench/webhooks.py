#!/usr/bin/env python3
"""Webhook delivery on the local stack: event-to-first-attempt latency, and how retries recover from a receiver
that fails at random. Everything goes through the runner's REST API; the webhooks travel the whole local path
(record write → event bus → webhook-fanout queue → fan-out → deliveries queue → dispatcher → HTTP).

A receiver runs inside this script (aiohttp, on its own thread and event loop) and logs every request: arrival time,
`webhook-id`, the record id of the body (`data.id`), whether the Standard Webhooks signature verifies with the
endpoint's secret, and the status it answered.

  latency    a fresh tenant (hubble-admin) with a `company` model and one endpoint (record.created) whose receiver
             answers 204 at once; --sequential creates one after another, then --bursts × --burst-size creates at
             once. Latency = arrival of the record's first webhook − the moment its create request was sent.
  recovery   another fresh tenant whose endpoint's receiver answers 500 to --fail-rate of the requests at random
             (else 204); --recovery-events creates (--recovery-clients at a time); then wait until no delivery is
             pending (or --settle-timeout). Of the deliveries whose first attempt failed, the share delivered in the
             end is the recovery rate. Retry policy: exponential, 8 attempts, 1 s initial, 4 s at most.

Checks (exit 1 when any fails, after writing the result): every event's webhook arrived (latency phase); every
delivery settled and accounted for (recovery phase); every signature verified; no request for a webhook-id after
one of its requests was answered 2xx (no duplicate after success). Exit 2 when the stack has no webhooks API.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import hashlib
import hmac
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import urljoin

import aiohttp
from aiohttp import web

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import conclude, emit  # noqa: E402
from rest import Cpu  # noqa: E402  -- CPU of client, runner and emulator over a phase

log = lambda m: print(f"[webhooks {time.strftime('%H:%M:%S')}] {m}", file=sys.stderr, flush=True)  # noqa: E731

RETRY_POLICY = {"strategy": "exponential", "max_attempts": 8, "initial_delay_seconds": 1, "max_delay_seconds": 4}


class NoWebhooksApi(Exception):
    pass


# ---------------------------------------------------------------------------------------------------- statistics


def pct(values, p):
    """Nearest-rank percentile."""
    if not values:
        return None
    s = sorted(values)
    return s[max(1, -(-len(s) * p // 100)) - 1]


def summary(values):
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95), "p99": pct(values, 99),
            "max": max(values), "min": min(values), "mean": statistics.fmean(values)}


# ------------------------------------------------------------------------------------------------------ receiver


def verify(secret: str | None, msg_id: str, timestamp: str, body: bytes, header: str) -> bool:
    """Standard Webhooks: any `v1,<base64 HMAC-SHA256(key, id.timestamp.body)>` of the header matches."""
    if not (secret and msg_id and timestamp and header):
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
    return any(part.startswith("v1,") and hmac.compare_digest(part[3:], expected) for part in header.split())


class Receiver:
    """POST /hooks/<name>: `ok` answers 204; `flaky` answers 500 to `fail_rate` of the requests at random."""

    def __init__(self, fail_rate: float, seed: int):
        self.fail_rate = fail_rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.entries: list[dict] = []
        self.secrets: dict[str, str] = {}

    async def handle(self, request):
        t = time.time()
        name = request.match_info["name"]
        body = await request.read()
        h = request.headers
        wid = h.get("webhook-id", "")
        try:
            record_id = json.loads(body)["data"]["id"]
        except (ValueError, KeyError, TypeError):
            record_id = None
        with self.lock:
            status = 500 if name == "flaky" and self.rng.random() < self.fail_rate else 204
            secret = self.secrets.get(name)
        ok = verify(secret, wid, h.get("webhook-timestamp", ""), body, h.get("webhook-signature", ""))
        with self.lock:
            self.entries.append({"name": name, "t": t, "webhook_id": wid, "record_id": record_id, "status": status, "verified": ok})
        return web.Response(status=status)

    def start(self) -> str:
        ready = threading.Event()

        def serve():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            app = web.Application()
            app.router.add_post("/hooks/{name}", self.handle)
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()

        threading.Thread(target=serve, name="receiver", daemon=True).start()
        ready.wait(10)
        return f"http://127.0.0.1:{self.port}"

    def log(self, name):
        with self.lock:
            return [e for e in self.entries if e["name"] == name]


# -------------------------------------------------------------------------------------------------------- stack


class Stack:
    def __init__(self, args, session):
        self.args, self.s = args, session

    async def call(self, method, path, key, body=None):
        jsonapi = path.startswith("/v1/data/")
        ctype = "application/vnd.api+json" if jsonapi else "application/json"
        headers = {"Authorization": f"Bearer {key}", "Accept": ctype}
        data = None
        if body is not None:
            headers["Content-Type"] = ctype
            data = json.dumps(body)
        url = path if path.startswith("http") else self.args.base_url + path
        async with self.s.request(method, url, data=data, headers=headers) as r:
            raw = await r.read()
            try:
                return r.status, json.loads(raw) if raw else None
            except ValueError:
                return r.status, raw[:300]

    def tenant(self, label):
        """A fresh tenant, made by hubble-admin directly in the control table; returns its admin key."""
        tid = f"bench-wh-{label}-{uuid.uuid4().hex[:6]}"
        env = dict(os.environ, AWS_ENDPOINT_URL=self.args.endpoint, AWS_REGION="us-east-1",
                   AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
        out = subprocess.run([self.args.admin_bin, "--prefix", self.args.prefix, "tenant", "create", tid, "--name", f"bench {label}"],
                             env=env, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"hubble-admin tenant create: {out.stderr.strip()}")
        return tid, json.loads(out.stdout)["api_key"]["secret"]

    async def setup_tenant(self, label, url):
        tid, key = self.tenant(label)
        status, body = await self.call("POST", "/v1/models", key, {"name": "company", "label": "Company", "fields": [{"name": "name", "type": "string"}]})
        if status != 201:
            raise RuntimeError(f"POST /v1/models: {status} {body}")
        status, body = await self.call("POST", "/v1/webhooks", key, {"url": url, "event_types": ["record.created"], "retry_policy": RETRY_POLICY})
        if status in (404, 405):
            raise NoWebhooksApi(f"POST /v1/webhooks answered {status}: this stack has no webhooks API")
        if status != 201:
            raise RuntimeError(f"POST /v1/webhooks: {status} {body}")
        return tid, key, body["id"], body["secret"]

    async def create(self, key, name):
        """(record id, time the request was sent, time the 201 arrived)."""
        t0 = time.time()
        status, body = await self.call("POST", "/v1/data/company", key, {"data": {"type": "company", "attributes": {"name": name}}})
        t1 = time.time()
        if status != 201:
            raise RuntimeError(f"POST /v1/data/company: {status} {body}")
        return body["data"]["id"], t0, t1

    async def deliveries(self, key, endpoint, status=None, stop_at_first=False):
        """Every delivery of the endpoint (following links.next), or only up to the first non-empty page."""
        q = "page[size]=100" + (f"&status={status}" if status else "")
        url = f"/v1/webhooks/{endpoint}/deliveries?{q}"
        out = []
        while url:
            code, body = await self.call("GET", url, key)
            if code != 200:
                raise RuntimeError(f"GET {url}: {code} {body}")
            out.extend(body.get("data") or [])
            if stop_at_first and out:
                break
            nxt = (body.get("links") or {}).get("next")
            url = urljoin(self.args.base_url + "/", nxt) if nxt else None
        return out


# ------------------------------------------------------------------------------------------------------- phases


def receptions_by_id(entries):
    by = collections.defaultdict(list)
    for e in sorted(entries, key=lambda e: e["t"]):
        by[e["webhook_id"]].append(e)
    return by


def after_success(by_id):
    """Requests for a webhook-id that came after one of its requests was answered 2xx."""
    n = 0
    for es in by_id.values():
        first_ok = next((i for i, e in enumerate(es) if 200 <= e["status"] < 300), None)
        if first_ok is not None:
            n += len(es) - first_ok - 1
    return n


async def wait_until(pred, timeout, step=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        await asyncio.sleep(step)
    return pred()


async def latency(args, st, rx, base, pids):
    tid, key, ep, secret = await st.setup_tenant("latency", f"{base}/hooks/ok")
    rx.secrets["ok"] = secret
    log(f"latency: tenant {tid}, endpoint {ep}; {args.sequential} creates one after another, then {args.bursts} × {args.burst_size} at once")
    sent = {}  # record id -> (t_send, t_201, mode)
    with Cpu(pids) as cpu:
        for i in range(args.sequential):
            rid, t0, t1 = await st.create(key, f"latency seq {i:05d}")
            sent[rid] = (t0, t1, "sequential")
            if args.gap_ms:
                await asyncio.sleep(args.gap_ms / 1000)
        for b in range(args.bursts):
            for rid, t0, t1 in await asyncio.gather(*(st.create(key, f"latency burst {b:03d}-{j:02d}") for j in range(args.burst_size))):
                sent[rid] = (t0, t1, "burst")
            await asyncio.sleep(args.burst_gap_ms / 1000)
        creates_done = time.time()

        def arrived():
            return {e["record_id"] for e in rx.log("ok")} >= set(sent)

        complete = await wait_until(arrived, args.latency_timeout)
    entries = rx.log("ok")
    first = {}
    for e in entries:
        if e["record_id"] in sent and (e["record_id"] not in first or e["t"] < first[e["record_id"]]):
            first[e["record_id"]] = e["t"]
    lat = {"all": [], "sequential": [], "burst": []}
    from_201 = {"all": [], "sequential": [], "burst": []}
    create_ms = {"all": [], "sequential": [], "burst": []}
    for rid, (t0, t1, mode) in sent.items():
        for k in ("all", mode):
            create_ms[k].append((t1 - t0) * 1000)
            if rid in first:
                lat[k].append((first[rid] - t0) * 1000)
                from_201[k].append((first[rid] - t1) * 1000)
    by_id = receptions_by_id(entries)
    missing = len(set(sent) - set(first))
    res = {
        "tenant": tid, "events": len(sent), "arrived": len(first), "missing": missing, "complete": complete,
        "latency_ms": {k: summary(v) for k, v in lat.items()},
        "latency_from_201_ms": {k: summary(v) for k, v in from_201.items()},
        "create_ms": {k: summary(v) for k, v in create_ms.items()},
        "wait_after_last_create_s": time.time() - creates_done,
        "requests": len(entries), "unverified": sum(not e["verified"] for e in entries),
        "non_2xx": sum(not 200 <= e["status"] < 300 for e in entries),
        "after_2xx": after_success(by_id),
        "cpu": cpu.result,
    }
    s = res["latency_ms"]["all"]
    log(f"  {res['arrived']}/{res['events']} arrived; latency p50 {s.get('p50', 0):.0f} ms, p95 {s.get('p95', 0):.0f} ms, max {s.get('max', 0):.0f} ms")
    return res


async def recovery(args, st, rx, base, pids):
    tid, key, ep, secret = await st.setup_tenant("recovery", f"{base}/hooks/flaky")
    rx.secrets["flaky"] = secret
    n = args.recovery_events
    log(f"recovery: tenant {tid}, endpoint {ep}; {n} creates ({args.recovery_clients} at a time), receiver fails {args.fail_rate:.0%} at random")
    sent = {}
    it = iter(range(n))

    async def client():
        for i in it:
            rid, t0, _ = await st.create(key, f"recovery {i:05d}")
            sent[rid] = t0

    t_start = time.time()
    with Cpu(pids) as cpu:
        await asyncio.gather(*(client() for _ in range(args.recovery_clients)))
        creates_s = time.time() - t_start
        log(f"  {len(sent)} records created in {creates_s:.1f} s; waiting for every delivery to settle (≤ {args.settle_timeout} s)")
        deadline = time.monotonic() + args.settle_timeout
        settled, ds, polls = False, [], 0
        while time.monotonic() < deadline:
            await asyncio.sleep(args.poll_s)
            polls += 1
            if len({e["record_id"] for e in rx.log("flaky")} & set(sent)) < n:
                continue  # some events have not reached the receiver once yet
            if await st.deliveries(key, ep, status="pending", stop_at_first=True):
                continue
            ds = await st.deliveries(key, ep)
            if len(ds) >= n:
                settled = True
                break
        settle_s = time.time() - t_start
        if not settled:
            ds = await st.deliveries(key, ep)
    entries = [e for e in rx.log("flaky") if e["record_id"] in sent]
    by_id = receptions_by_id(entries)
    status = collections.Counter(d["status"] for d in ds)
    attempts_hist = collections.Counter(int(d.get("attempts") or 0) for d in ds)
    first_failed = [d for d in ds if int(d.get("attempts") or 0) > 1 or d["status"] == "failed"]
    recovered = [d for d in first_failed if d["status"] == "delivered"]
    rx_first_failed = sum(1 for es in by_id.values() if es and not 200 <= es[0]["status"] < 300)
    mismatched = sum(1 for d in ds if len(by_id.get(d["id"], [])) != int(d.get("attempts") or 0))
    # time from the create request to the 2xx, for deliveries that needed retries
    record_of = {wid: es[0]["record_id"] for wid, es in by_id.items() if es}
    to_success = []
    for d in recovered:
        ok = next((e for e in by_id.get(d["id"], []) if 200 <= e["status"] < 300), None)
        if ok and record_of.get(d["id"]) in sent:
            to_success.append(ok["t"] - sent[record_of[d["id"]]])
    # the wait between attempt k and k+1 as the receiver saw it, next to the policy's (jitter ±10 %)
    gaps = collections.defaultdict(list)
    for es in by_id.values():
        for k in range(1, len(es)):
            gaps[k].append(es[k]["t"] - es[k - 1]["t"])
    policy_s = lambda k: min(RETRY_POLICY["initial_delay_seconds"] * 2 ** (k - 1), RETRY_POLICY["max_delay_seconds"])  # noqa: E731
    res = {
        "tenant": tid, "events": n, "fail_rate": args.fail_rate, "retry_policy": RETRY_POLICY,
        "retry_gaps_s": {f"{k}->{k + 1}": dict(summary(v), policy=policy_s(k)) for k, v in sorted(gaps.items())},
        "settled": settled, "settle_s": settle_s, "creates_s": creates_s, "polls": polls,
        "deliveries": len(ds), "status": dict(status),
        "delivered_pct": 100 * status.get("delivered", 0) / n,
        "first_attempt_failed": len(first_failed),
        "first_attempt_failed_receiver": rx_first_failed,
        "recovered": len(recovered),
        "recovery_rate_pct": 100 * len(recovered) / len(first_failed) if first_failed else None,
        "attempts_histogram": {str(k): v for k, v in sorted(attempts_hist.items())},
        "requests": len(entries),
        "answered_500": sum(e["status"] == 500 for e in entries),
        "observed_fail_rate": sum(e["status"] == 500 for e in entries) / len(entries) if entries else None,
        "unverified": sum(not e["verified"] for e in entries),
        "after_2xx": after_success(by_id),
        "attempt_count_mismatches": mismatched,
        "first_failed_to_success_s": summary(to_success),
        "cpu": cpu.result,
    }
    log(f"  settled {settled} in {settle_s:.0f} s: {dict(status)}; first attempts failed {len(first_failed)}, recovered {len(recovered)} "
        f"({res['recovery_rate_pct'] or 0:.1f} %); attempts {res['attempts_histogram']}; after 2xx {res['after_2xx']}")
    return res


def checks(r):
    problems = []
    la = r.get("latency")
    if la:
        if la["missing"]:
            problems.append(f"latency: {la['missing']} of {la['events']} events never reached the receiver")
        if la["unverified"]:
            problems.append(f"latency: {la['unverified']} requests failed signature verification")
        if la["after_2xx"]:
            problems.append(f"latency: {la['after_2xx']} requests after a 2xx for the same webhook-id")
    re_ = r.get("recovery")
    if re_:
        if not re_["settled"]:
            problems.append(f"recovery: deliveries not settled within the timeout ({re_['status']})")
        if re_["deliveries"] != re_["events"]:
            problems.append(f"recovery: {re_['deliveries']} deliveries for {re_['events']} events")
        if re_["unverified"]:
            problems.append(f"recovery: {re_['unverified']} requests failed signature verification")
        if re_["after_2xx"]:
            problems.append(f"recovery: {re_['after_2xx']} requests after a 2xx for the same webhook-id")
    return problems


async def main_async(args):
    rx = Receiver(args.fail_rate, args.seed)
    base = rx.start()
    pids = {"runner": args.runner_pid, "emulator": args.emulator_pid}
    result = {"aiohttp": aiohttp.__version__, "receiver": base, "seed": args.seed,
              "loadavg_start": open("/proc/loadavg").read().split()[:3]}
    conn = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=args.timeout)) as session:
        st = Stack(args, session)
        if not args.skip_latency:
            result["latency"] = await latency(args, st, rx, base, pids)
        if not args.skip_recovery:
            result["recovery"] = await recovery(args, st, rx, base, pids)
    result["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", required=True, help="the local runner")
    ap.add_argument("--endpoint", required=True, help="the emulator (for hubble-admin)")
    ap.add_argument("--prefix", required=True, help="the runner's resource prefix")
    ap.add_argument("--admin-bin", required=True, help="hubble-admin, to create the tenants")
    ap.add_argument("--sequential", type=int, default=200, help="latency: creates one after another")
    ap.add_argument("--gap-ms", type=float, default=0, help="latency: pause between sequential creates")
    ap.add_argument("--bursts", type=int, default=10, help="latency: groups of creates sent at once")
    ap.add_argument("--burst-size", type=int, default=5)
    ap.add_argument("--burst-gap-ms", type=float, default=500, help="latency: pause after each burst")
    ap.add_argument("--latency-timeout", type=float, default=120, help="latency: wait this long for the last webhooks")
    ap.add_argument("--recovery-events", type=int, default=300)
    ap.add_argument("--recovery-clients", type=int, default=5, help="recovery: creates in flight at once")
    ap.add_argument("--fail-rate", type=float, default=0.30)
    ap.add_argument("--seed", type=int, help="the flaky receiver's random generator (default: a new one per run, recorded in the result)")
    ap.add_argument("--settle-timeout", type=float, default=600)
    ap.add_argument("--poll-s", type=float, default=3.0, help="recovery: how often to ask whether anything is pending")
    ap.add_argument("--timeout", type=float, default=60.0, help="per HTTP request")
    ap.add_argument("--runner-pid", type=int)
    ap.add_argument("--emulator-pid", type=int)
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-recovery", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    args.base_url = args.base_url.rstrip("/")
    args.endpoint = args.endpoint.rstrip("/")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(2**31)
    started = time.time()
    try:
        result = asyncio.run(main_async(args))
    except NoWebhooksApi as e:
        log(str(e))
        emit({"error": str(e), "problems": [str(e)]}, args.out)
        sys.exit(2)
    conclude(result, started, checks(result), args.out, log,
             "every event arrived, every delivery settled, signatures verified, nothing sent again after a 2xx")


if __name__ == "__main__":
    main()
