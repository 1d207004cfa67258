#!/usr/bin/env python3
"""Markdown summary of one bench/run.sh results directory.

  summarize.py bench/results/<stamp>
"""

from __future__ import annotations

import json
import os
import sys

GOAL_INIT_MS = 25.0
GOAL_WEBHOOK_P95_MS = 1000.0  # event to first attempt; the product promise is 5 s
PROMISE_WEBHOOK_P95_MS = 5000.0
PROMISE_RECOVERY_PCT = 85.0


def load(d, name):
    p = os.path.join(d, name)
    return json.load(open(p)) if os.path.exists(p) else None


def status(we):
    """HTTP status of an API Gateway response, or `ok` for a response without one (SQS batch response)."""
    if not we:
        return "–"
    if we.get("last_response_status") is not None:
        return str(we["last_response_status"])
    return "ok: `" + we.get("last_response_excerpt", "")[:60] + "`"


def ms(v):
    return "–" if v is None else (f"{v:.1f}" if v >= 10 else f"{v:.2f}")


def mib(b):
    return f"{b / 1048576:.2f} MiB"


def main():
    d = sys.argv[1]
    meta = load(d, "meta.json") or {}
    out = []
    w = out.append
    w(f"# HubbleWave benchmarks — {meta.get('date_utc', '?')}")
    w("")
    w(
        f"commit `{meta.get('commit')}`{' (dirty tree)' if meta.get('dirty') else ''}; {meta.get('cpus')} CPUs "
        f"({meta.get('cpu_model')}); {meta.get('rustc')}; moto {meta.get('moto')}; total {meta.get('total_s')} s"
    )
    w("")

    sizes = load(d, "sizes.json") or []
    w("## 1. Release binary size")
    w("")
    w("| build | function | arch | size | zipped (deploy package) | needs |")
    w("|---|---|---|---:|---:|---|")
    for r in sizes:
        w(f"| {r['build']} | {r['function']} | {r['arch']} | {r['bytes']:,} B ({mib(r['bytes'])}) | {r['zip_bytes']:,} B ({mib(r['zip_bytes'])}) | {r['needs'] or 'static'} |")
    w("")
    w(f"cargo lambda: {meta.get('cargo_lambda', '?')}")
    w("")

    w(f"## 2. Cold start (process start → first `GET …/invocation/next`), goal ≤ {GOAL_INIT_MS:.0f} ms")
    w("")
    w("| function | runs | init min | init p50 | init p95 | goal met (p95) | init CPU p50 | first invocation p50 / p95 | status | network during init |")
    w("|---|---:|---:|---:|---:|---|---:|---|---|---|")
    floor = None
    for f, label in (("api", "api"), ("outbox-relay", "outbox-relay"), ("api-empty-cert-dir", "api, empty `SSL_CERT_DIR`")):
        c = load(d, f"coldstart-{f}.json")
        if not c:
            if "cert" not in f:
                w(f"| {label} | – | – | – | – | not measured | | | | |")
            continue
        i = c["init_only"]["init_ms"]
        we = c.get("with_event", {})
        inv = we.get("first_invoke_ms", {})
        net = c["network_during_init"]
        net_s = (
            "not checked (" + net.get("reason", "") + ")"
            if not net.get("checked")
            else ("none" if net["ok"] else f"**{len(net['network_calls_besides_runtime_api'])} connection(s)**: {net['network_calls_besides_runtime_api'][:3]}")
        )
        fails = c["init_only"]["failures"] + we.get("failures", [])
        w(
            f"| {label} | {i.get('n', 0)} | {ms(i.get('min'))} | {ms(i.get('p50'))} | {ms(i.get('p95'))} | "
            f"{'yes' if i.get('p95', 1e9) <= GOAL_INIT_MS else '**no**'} | {ms(c['init_only'].get('init_cpu_ms', {}).get('p50'))} | {ms(inv.get('p50'))} / {ms(inv.get('p95'))} ms | "
            f"{status(we)}{' (' + str(len(fails)) + ' failed runs)' if fails else ''} | {net_s} |"
        )
        floor = c.get("spawn_floor_ms")
    if floor:
        w("")
        w(f"Harness floor (spawn and reap `/bin/true`): p50 {ms(floor['p50'])} ms, p95 {ms(floor['p95'])} ms — included in the init figures. "
          "Init CPU: CPU time of all the process's threads when it first asks for an event.")
    w("")

    r = load(d, "records.json")
    w("## 3. Records latency")
    w("")
    if not r:
        w("not measured")
    else:
        w(f"{r['concurrency']} concurrent clients; {r['creates']} creates then {r['ops']} gets through the runner; {r['ops']} PutItem then {r['ops']} GetItem directly against the emulator. Latencies in ms.")
        w("")
        w("| what | n | errors | p50 | p95 | p99 | throughput /s | p50 first → last tenth |")
        w("|---|---:|---:|---:|---:|---:|---:|---|")
        rows = [
            ("runner: POST /v1/data/company", r["runner"]["create"]),
            ("runner: GET /v1/data/company/{id}", r["runner"]["get"]),
            ("emulator (boto3): PutItem", r["emulator"]["put"]),
            ("emulator (boto3): GetItem", r["emulator"]["get"]),
        ]
        if "emulator_raw" in r:
            rows += [("emulator (raw HTTP): PutItem", r["emulator_raw"]["put"]), ("emulator (raw HTTP): GetItem", r["emulator_raw"]["get"])]
        for name, s in rows:
            growth = f"{ms(s.get('p50_first_tenth'))} → {ms(s.get('p50_last_tenth'))}" if "p50_first_tenth" in s else ""
            w(f"| {name} | {s['n']} | {s['errors']} | {ms(s.get('p50'))} | {ms(s.get('p95'))} | {ms(s.get('p99'))} | {ms(s.get('throughput_per_s'))} | {growth} |")
        w("")
        ra = r["ratio"]
        w("**Tracked ratio (runner / emulator via boto3):** "
          f"create/PutItem p50 **{ra['create_p50']:.1f}×**, p95 {ra['create_p95']:.1f}×; "
          f"get/GetItem p50 **{ra['get_p50']:.1f}×**, p95 {ra['get_p95']:.1f}×")
        if "ratio_raw" in r:
            rr = r["ratio_raw"]
            w("")
            w("Same-client ratio (runner / emulator via raw HTTP, identical client on both sides): "
              f"create p50 {rr['create_p50']:.1f}×, p95 {rr['create_p95']:.1f}×; get p50 {rr['get_p50']:.1f}×, p95 {rr['get_p95']:.1f}×")
        w("")
        w(f"Emulator errors during the run: {meta.get('emulator_http_500', '?')} HTTP 500 answers "
          f"({meta.get('emulator_dict_changed_errors', '?')} of them moto's `dictionary changed size during iteration` in TransactWriteItems). "
          f"Emulator memory: peak RSS {meta.get('emulator_peak_rss_mb', '?')} MiB.")
        w("")
        client = {n: s.get("client_cpu_ms_per_op") for n, s in rows}
        w("Client CPU per operation (ms): " + ", ".join(f"{n.split(':')[0]} {n.split(': ')[1]} {ms(v)}" for n, v in client.items()))
        p = r.get("profile")
        if p:
            w("")
            w(f"### Where a request's time goes (sequential, {p['requests']} requests each, 1 client)")
            w("")
            w("| request | emulator calls per request | runner latency p50 | those emulator calls replayed alone (Σ calls × p50) | runner's own share |")
            w("|---|---|---:|---:|---:|")
            for op in ("create", "get"):
                q = p[op]
                calls = ", ".join(f"{k.split('.')[-1]} ×{v:g}" for k, v in q["calls_per_request"].items())
                per = "; ".join(f"{k.split('.')[-1]} {ms(v['p50'])}" for k, v in q["emulator_calls_ms"].items())
                w(f"| {op} | {calls} | {ms(q['runner_ms']['p50'])} | {ms(q['emulator_ms_per_request'])} ({per}) | {ms(q['runner_own_ms'])} |")
            w("")
            w("Background emulator calls while idle (per second): " + ", ".join(f"{k} {v:g}" for k, v in p["background_calls_per_s"].items()))
    w("")
    rest(d, meta, w)
    webhooks(d, meta, w)
    imports(d, meta, w)
    print("\n".join(out))


def rest(d, meta, w):
    r = load(d, "rest.json")
    w("## 4. REST API under load")
    w("")
    if not r:
        w("not measured" + (" (the REST benchmark failed before writing rest.json; see its log)" if (meta.get("rest") or {}).get("exit") else ""))
        return
    w(f"Load average at start / end of the whole run: {meta.get('loadavg_start', '?')} / {meta.get('loadavg_end', '?')}. aiohttp {r.get('aiohttp')}.")
    w("")
    if r.get("company_records_at_end") is not None:
        w(f"Company records in the tenant at the end: {r['company_records_at_end']} (moto's Query reads the whole partition before it applies Limit).")
        w("")
    w("Emulator calls per request (recorded): get = " + ", ".join(r["calls"]["get"]) + "; list = " + ", ".join(r["calls"]["list"]) + ".")
    w("")

    def cores(c, k):
        v = c.get(k)
        return "–" if v is None else f"{v:.2f}"

    c = r.get("closed")
    if c:
        w(f"### Closed loop, {r['clients']} concurrent clients, {r['ops']} requests per row (ms)")
        w("")
        w("| what | n | errors | p50 | p95 | p99 | throughput /s | client CPU (cores) | runner | emulator | machine |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        names = {
            "runner.get": "runner: `GET /v1/data/company/{id}`",
            "emulator.get": "emulator: GetItem (same record item)",
            "runner.list": "runner: `GET /v1/data/company?page[size]=25`",
            "emulator.query": "emulator: Query, Limit 25 (same partition)",
            "emulator.get_replay": "emulator: all calls of one get, replayed in sequence",
            "emulator.list_replay": "emulator: all calls of one list, replayed in sequence",
        }
        for k, label in names.items():
            s = c.get(k)
            if not s:
                continue
            cp = s["cpu"]
            w(f"| {label} | {s['n']} | {s['errors']} | {ms(s.get('p50'))} | {ms(s.get('p95'))} | {ms(s.get('p99'))} | {ms(s['throughput_per_s'])} | "
              f"{cores(cp, 'client_cores')} | {cores(cp, 'runner_cores')} | {cores(cp, 'emulator_cores')} | {cores(cp, 'machine_cores')} |")
        w("")
        for op, emu, rep in (("get", "emulator.get", "emulator.get_replay"), ("list", "emulator.query", "emulator.list_replay")):
            a, b, e = c.get(f"runner.{op}"), c.get(emu), c.get(rep)
            if a and b and a.get("p95") and b.get("p95"):
                line = f"**Overhead at p95, {op}: runner − emulator = {a['p95'] - b['p95']:.1f} ms** (goal ≤ 2 ms: {'met' if a['p95'] - b['p95'] <= 2 else '**not met**'})"
                if e and e.get("p95"):
                    line += f"; runner − the same emulator calls without the runner = {a['p95'] - e['p95']:.1f} ms (p50 {a['p50'] - e['p50']:.1f} ms)"
                w(line + ".")
                w("")
    s = r.get("sequential")
    if s:
        w(f"### One client at a time ({r['seq_ops']} requests each, ms)")
        w("")
        w("| what | p50 | p95 |")
        w("|---|---:|---:|")
        for k in ("runner.get", "emulator.get", "runner.list", "emulator.query"):
            if k in s:
                w(f"| {k} | {ms(s[k].get('p50'))} | {ms(s[k].get('p95'))} |")
        w("")
        for op in ("get", "list"):
            rows = s.get("per_call", {}).get(op, [])
            total = sum(x["p50"] or 0 for x in rows)
            w(f"{op}: " + "; ".join(f"{x['call']} {ms(x['p50'])}" for x in rows) + f" — Σ p50 {ms(total)} ms; runner p50 {ms(s['runner.' + op].get('p50'))} ms")
            w("")
        for op, emu in (("get", "emulator.get"), ("list", "emulator.query")):
            a, b = s.get("runner." + op), s.get(emu)
            if a and b:
                w(f"Overhead at p95, one client, {op}: {a['p95'] - b['p95']:.1f} ms (p50 {a['p50'] - b['p50']:.1f} ms).")
        w("")
    p = r.get("paced")
    if p:
        w(f"### Paced: {p['offered_rpm']:,} requests/min offered ({p['offered_per_s']:.1f}/s) for {p['seconds']} s, one tenant, key limit {r.get('paced_key_limit_per_minute')}/min")
        w("")
        w(f"Offered {p['offered']}, sent {p['sent']}, not sent (≥ {p['max_inflight']} outstanding) {p['dropped']}; answered OK {p['ok']}; "
          f"**achieved {p['achieved_ok_per_s']:.1f} OK/s ({p['achieved_ok_per_s'] * 60:,.0f}/min)**; "
          f"429: {p['status_429']}; **5xx: {p['status_5xx']}**; no answer: {p['no_answer']}. Statuses: {p['statuses']}. "
          f"RateLimit-Limit seen: {p['ratelimit_limit_seen']}, lowest RateLimit-Remaining: {p['ratelimit_min_remaining']}.")
        w("")
        ls, sv = p["latency_from_schedule"], p["latency_service"]
        w(f"Latency from scheduled arrival p50 / p95 / p99: {ms(ls.get('p50'))} / {ms(ls.get('p95'))} / {ms(ls.get('p99'))} ms; "
          f"from send: {ms(sv.get('p50'))} / {ms(sv.get('p95'))} / {ms(sv.get('p99'))} ms. "
          f"CPU (cores): client {cores(p['cpu'], 'client_cores')}, runner {cores(p['cpu'], 'runner_cores')}, emulator {cores(p['cpu'], 'emulator_cores')}, machine {cores(p['cpu'], 'machine_cores')}.")
        w("")
        w("| seconds | sent | not sent | OK | 429 | 5xx | p50 | p95 | p99 | max |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for b in p["buckets"]:
            w(f"| {b['from_s']}–{b['from_s'] + 10} | {b['sent']} | {b['dropped']} | {b['ok']} | {b['status_429']} | {b['status_5xx']} | {ms(b.get('p50'))} | {ms(b.get('p95'))} | {ms(b.get('p99'))} | {ms(b.get('max'))} |")
        w("")
        w("By kind (from schedule, p50 / p95): " + "; ".join(f"{k} {ms(v['scheduled'].get('p50'))} / {ms(v['scheduled'].get('p95'))} (n {v['scheduled'].get('n')})" for k, v in p["by_kind"].items()))
        w("")
    o = r.get("overlimit")
    if o:
        w(f"### Over the limit: key limited to {o['key_limit_per_minute']}/min, {o['requests']} gets at once")
        w("")
        w(f"200: {o['status_200']}, 429: {o['status_429']} (Retry-After values {o['retry_after_values']}, missing on {o['retry_after_missing']}; "
          f"RateLimit-* headers on {o['ratelimit_headers_on_429']}), 5xx: {o['status_5xx']}.")
        w("")
    w("Checks: " + ("**all passed** (no 5xx, every request answered, 429s with Retry-After over the limit)" if not r.get("problems") else "**FAILED**: " + "; ".join(r["problems"])))
    w("")


def webhooks(d, meta, w):
    r = load(d, "webhooks.json")
    wm = meta.get("webhooks") or {}
    w("## 5. Webhooks on the local stack")
    w("")
    if wm.get("skipped"):
        w("skipped (--skip-webhooks / --rest-only / BENCH_SKIP_WEBHOOKS=1)")
        w("")
        return
    if not r:
        w("not measured" + (" (bench/webhooks.py failed before writing webhooks.json; see its log)" if wm.get("exit") else ""))
        w("")
        return
    if r.get("error"):
        w(f"not measured: {r['error']}")
        w("")
        return
    w(f"Load average at start / end of this benchmark: {' '.join(r.get('loadavg_start', []))} / {' '.join(r.get('loadavg_end', []))}. "
      "The in-process dispatcher figure (deliveries/s, 1,000 in flight) is `cargo bench -p hw-webhooks --bench dispatch`, not part of this run.")
    w("")
    la = r.get("latency")
    if la:
        a = la["latency_ms"]["all"]
        met = a.get("p95") is not None and a["p95"] < GOAL_WEBHOOK_P95_MS
        promise = a.get("p95") is not None and a["p95"] < PROMISE_WEBHOOK_P95_MS
        w(f"### Event to first attempt (create request sent → webhook arrives), {la['events']} events, receiver answers 204")
        w("")
        w("| events | n | p50 | p95 | p99 | max | mean | create request p50 / p95 | 201 → webhook p50 / p95 |")
        w("|---|---:|---:|---:|---:|---:|---:|---|---|")
        for k, label in (("all", "all"), ("sequential", "one after another"), ("burst", "in bursts of 5")):
            x = la["latency_ms"].get(k) or {}
            c = la["create_ms"].get(k) or {}
            f = la["latency_from_201_ms"].get(k) or {}
            if x.get("n"):
                w(f"| {label} | {x['n']} | {ms(x['p50'])} | {ms(x['p95'])} | {ms(x['p99'])} | {ms(x['max'])} | {ms(x['mean'])} | "
                  f"{ms(c.get('p50'))} / {ms(c.get('p95'))} | {ms(f.get('p50'))} / {ms(f.get('p95'))} |")
        w("")
        w(f"**p95 {ms(a.get('p95'))} ms: goal < 1 s {'met' if met else '**not met**'}; product promise < 5 s {'met' if promise else '**not met**'}.** "
          f"Arrived {la['arrived']} of {la['events']}. "
          f"Signature failures {la['unverified']}, requests after a 2xx {la['after_2xx']}. "
          f"CPU (cores): runner {fmt_cores(la['cpu'], 'runner_cores')}, emulator {fmt_cores(la['cpu'], 'emulator_cores')}, machine {fmt_cores(la['cpu'], 'machine_cores')}.")
        w("")
    re_ = r.get("recovery")
    if re_:
        rate = re_.get("recovery_rate_pct")
        w(f"### Retries against a receiver failing {re_['fail_rate']:.0%} of requests at random (seed {r.get('seed')}), {re_['events']} events")
        w("")
        rp = re_["retry_policy"]
        w(f"Retry policy: {rp['strategy']}, {rp['max_attempts']} attempts, first retry after {rp['initial_delay_seconds']} s, "
          f"at most {rp['max_delay_seconds']} s between attempts. Settled: {'yes' if re_['settled'] else '**no**'} after {re_['settle_s']:.0f} s "
          f"(creates took {re_['creates_s']:.0f} s). Deliveries {re_['deliveries']}: {re_['status']}.")
        w("")
        w("| first attempt failed | of those delivered in the end | recovery rate | promise > 85 % | delivered overall | requests | answered 500 | requests after a 2xx | signature failures |")
        w("|---:|---:|---:|---|---:|---:|---:|---:|---:|")
        w(f"| {re_['first_attempt_failed']} | {re_['recovered']} | {'–' if rate is None else f'{rate:.1f} %'} | "
          f"{'–' if rate is None else ('met' if rate > PROMISE_RECOVERY_PCT else '**not met**')} | {re_['delivered_pct']:.1f} % | "
          f"{re_['requests']} | {re_['answered_500']} ({100 * (re_['observed_fail_rate'] or 0):.1f} %) | {re_['after_2xx']} | {re_['unverified']} |")
        w("")
        w("Attempts per delivery: " + ", ".join(f"{k}: {v}" for k, v in re_["attempts_histogram"].items())
          + f". Receptions per webhook-id that differ from the delivery's attempt count: {re_['attempt_count_mismatches']}. "
          f"First attempt failed, as the receiver saw it: {re_['first_attempt_failed_receiver']}.")
        g = re_.get("retry_gaps_s") or {}
        if g:
            w("")
            w("Wait between attempts as the receiver saw it (s), next to the policy's: " + "; ".join(
                f"{k}: policy {v['policy']} ± 10 %, p50 {v['p50']:.2f}, p95 {v['p95']:.2f}, max {v['max']:.2f} (n {v['n']})" for k, v in g.items()) + ".")
        t = re_.get("first_failed_to_success_s") or {}
        if t.get("n"):
            w("")
            w(f"Create → successful retry, for the recovered deliveries: p50 {t['p50']:.1f} s, p95 {t['p95']:.1f} s, max {t['max']:.1f} s.")
        w("")
    w("Checks: " + ("**all passed** (every event arrived, every delivery settled, signatures verified, nothing sent again after a 2xx)" if not r.get("problems") else "**FAILED**: " + "; ".join(r["problems"])))
    w("")


def imports(d, meta, w):
    r = load(d, "imports.json")
    im = meta.get("imports") or {}
    w("## 6. Imports")
    w("")
    if im.get("skipped"):
        w("skipped (--skip-imports / --rest-only / --webhooks-only / BENCH_SKIP_IMPORTS=1)")
        w("")
        return
    if not r:
        w("not measured" + (" (bench/imports.py failed before writing imports.json; see its log)" if im.get("exit") else ""))
        w("")
        return
    st = r.get("stack") or {}
    if st:
        w(f"### {r['rows']:,}-row imports end to end on the local stack (product promise < 5 min; goal < 60 s)")
        w("")
        w("| file | bytes | chunks | upload s | planning s | run s (start → completed) | rows/s (run) | end to end s | status | ok / failed | fan-out done after completed |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|")
        for fmt in ("csv", "xlsx"):
            x = st.get(fmt)
            if x:
                c = x.get("counts") or {}
                w(f"| {fmt.upper()} | {x['bytes']:,} | {x.get('chunks')} | {x['upload_s']:.1f} | {x['planning_s']:.1f} | {x['run_s']:.1f} | "
                  f"{x['rows_per_s_run']:,.0f} | {x['end_to_end_s']:.1f} | {x['status']} | {c.get('ok')} / {c.get('failed')} | "
                  f"{'%.0f s' % x['fanout_drained_after_s'] if x.get('fanout_drained_after_s') is not None else 'not within the timeout'} |")
        w("")
        w("Same rows written straight to the emulator (BatchWriteItem, 25 items a call, record-shaped items):")
        w("")
        w("| clients | items | seconds | items/s |")
        w("|---:|---:|---:|---:|")
        for k in ("raw_batch_write_1", "raw_batch_write_8"):
            x = st.get(k)
            if x:
                w(f"| {x['clients']} | {x['items']:,} | {x['seconds']:.1f} | {x['items_per_s']:,.0f} |")
        w("")
    ip = r.get("inprocess")
    if ip:
        w(f"### In process, one {r['rows']:,}-row CSV ({ip['bytes']:,} bytes), best / median of the repeats")
        w("")
        w("| reader | rows/s best | rows/s median |")
        w("|---|---:|---:|")
        for k, label in (("hubblewave_1_thread", "HubbleWave import path, 1 thread (parse, map, rules, convert, validate)"),
                         ("duckdb_1_thread", f"DuckDB {ip.get('duckdb_version')} read_csv_auto → table, threads=1"),
                         ("duckdb_all_threads", "DuckDB read_csv_auto → table, all cores")):
            x = ip.get(k)
            if x:
                w(f"| {label} | {x['best_rows_per_s']:,.0f} | {x['median_rows_per_s']:,.0f} |")
        w("")
    m = r.get("memory")
    if m:
        dry, ins = m["dry_run"]["chunk_heap_peak_mib"], m["insert"]["chunk_heap_peak_mib"]
        w(f"### Chunk processor memory on a {m['file_bytes'] / 1e6:.0f} MB CSV ({m['chunks']} chunks, {m['rows']:,} rows, {m['ok']:,} ok)")
        w("")
        w("| run | heap high-water mark above a chunk's start, max | median |")
        w("|---|---:|---:|")
        w(f"| dry run (the processor's own working set) | {dry['max']:.1f} MiB | {dry['median']:.1f} MiB |")
        w(f"| import (plus an in-memory copy of the chunk's records and events) | {ins['max']:.1f} MiB | {ins['median']:.1f} MiB |")
        w("")
        start = m.get("process_rss_mib_at_start")
        w((f"Process RSS {start:.1f} MiB before any work; " if start is not None else "")
          + f"peak {m['process_peak_rss_mib']:.0f} MiB ({m['process_peak_rss_mib_after_planning']:.0f} MiB after planning, "
          f"which held the whole file in memory). {m['rows'] / m['processing_s']:,.0f} rows/s through the processor on in-memory adapters.")
        w("")
    if r.get("problems"):
        w("Problems: " + "; ".join(r["problems"]))
        w("")


def fmt_cores(c, k):
    v = (c or {}).get(k)
    return "–" if v is None else f"{v:.2f}"


if __name__ == "__main__":
    main()
