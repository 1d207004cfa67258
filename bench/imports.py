#!/usr/bin/env python3
"""Imports: end to end on the local stack, the emulator's raw write rate, in-process throughput beside DuckDB, and
the chunk processor's memory on a 100 MB file.

Phases (each can be skipped):
  files       the benchmark's customer CSV (--rows rows, written by the `throughput` example so that the Rust
              benchmarks and this script read the very same bytes) and the same rows as an XLSX (openpyxl,
              write-only; numbers as numeric cells, the rest as text)
  inprocess   `throughput run` (one thread: read, sniff, plan 1 MiB chunks, parse, map + rules, typed conversion,
              model validation) beside DuckDB's read_csv_auto materialising the same file into a table, with
              threads=1 and with every core; best and median of --repeat runs each
  memory      `chunk_memory` on a CSV of --memory-mb MB (same shape): the chunk processor's heap high-water mark
              per 1 MiB chunk and the process's peak RSS (see that example's header for what exactly is counted)
  stack       for each of CSV and XLSX: a model on the demo tenant, POST /v1/imports, PUT to the presigned URL,
              wait for `ready`, start (mapping + rules, key email, insert), wait for `completed`; upload, planning
              and run times and rows/s; then the time until the webhook fan-out has handled every record event. Then, in the same emulator, the same rows written straight to a scratch
              table with BatchWriteItem (25 items a call) by 1 and by 8 clients: the emulator's raw write rate.

Needs boto3, openpyxl and duckdb (bench/requirements.txt). Writes JSON (--out) like the other bench scripts.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid

from report import conclude

started = time.time()


def log(msg: str) -> None:
    print(f"[imports {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- files --------------------------------------------------------------------------------------------------------


def write_csv(bin_path: str, path: str, rows: int) -> None:
    subprocess.run([bin_path, "write", path, str(rows)], check=True)


def write_xlsx(csv_path: str, xlsx_path: str) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Customers")
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        ws.append(next(reader))
        for r in reader:
            # id, age: integers; score: a decimal; the rest as the CSV has them (yes/no, day-first dates, names)
            ws.append([int(r[0]), r[1], r[2], int(r[3]), float(r[4]), r[5], r[6], r[7]])
    wb.save(xlsx_path)


# --- in process ---------------------------------------------------------------------------------------------------


def rate_summary(rows: int, seconds: list[float]) -> dict:
    return {
        "rows": rows,
        "seconds": seconds,
        "best_rows_per_s": rows / min(seconds),
        "median_rows_per_s": rows / statistics.median(seconds),
    }


def inprocess(args, csv_path: str) -> dict:
    out = subprocess.run([args.throughput_bin, "run", csv_path, str(args.repeat)], check=True, capture_output=True,
                         text=True).stdout
    ours = json.loads(out)
    result = {"hubblewave_1_thread": rate_summary(ours["rows"], ours["seconds"]), "bytes": ours["bytes"]}
    import duckdb

    result["duckdb_version"] = duckdb.__version__
    for label, threads in (("duckdb_1_thread", 1), ("duckdb_all_threads", os.cpu_count() or 1)):
        seconds = []
        rows = 0
        for _ in range(args.repeat):
            con = duckdb.connect()
            con.execute(f"SET threads={threads}")
            t0 = time.perf_counter()
            con.execute("CREATE TABLE t AS SELECT * FROM read_csv_auto(?)", [csv_path])
            seconds.append(time.perf_counter() - t0)
            rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
            types = con.execute("SELECT column_name, column_type FROM (DESCRIBE t)").fetchall()
            con.close()
        result[label] = rate_summary(rows, seconds) | {"threads": threads, "types": dict(types)}
    return result


# --- stack --------------------------------------------------------------------------------------------------------


class Api:
    def __init__(self, base_url: str, api_key: str):
        u = urllib.parse.urlparse(base_url)
        self.host, self.port, self.key = u.hostname, u.port, api_key

    def call(self, method: str, path: str, body=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=120)
        headers = {"Authorization": f"Bearer {self.key}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=headers)
        r = c.getresponse()
        text = r.read()
        c.close()
        return r.status, (json.loads(text) if text else None)


def put_file(upload: dict, path: str) -> None:
    u = urllib.parse.urlparse(upload["url"])
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    with open(path, "rb") as f:
        body = f.read()
    target = u.path + ("?" + u.query if u.query else "")
    c.request(upload.get("method", "PUT"), target, body=body, headers=upload.get("headers", {}))
    r = c.getresponse()
    r.read()
    c.close()
    if r.status // 100 != 2:
        raise RuntimeError(f"upload answered {r.status}")


def model_body(name: str) -> dict:
    return {"name": name, "label": name, "fields": [
        {"name": "external_id", "type": "integer"},
        {"name": "name", "type": "string"},
        {"name": "email", "type": "email", "required": True, "unique": True},
        {"name": "age", "type": "integer"},
        {"name": "score", "type": "decimal"},
        {"name": "active", "type": "boolean"},
        {"name": "signed_up", "type": "date"},
        {"name": "country", "type": "enum", "values": ["BE", "FR", "NL", "DE", "ES"]}]}


# shared/import/benches/support/customers.rs: the mapping and rules a person would confirm for this file
START = {
    "mapping": {"id": "external_id", "name": "name", "email": "email", "age": "age", "score": "score",
                "active": "active", "signup date": "signed_up", "country": "country"},
    "rules": {"email": [{"op": "trim"}, {"op": "lowercase"}],
              "signed_up": [{"op": "date_format", "format": "%d/%m/%Y"}],
              "country": [{"op": "value_map", "ignore_case": True, "map": {
                  "belgium": "BE", "france": "FR", "netherlands": "NL", "germany": "DE", "spain": "ES"}}]},
    "mode": "insert",
    "key": ["email"],
}


def wait(api: Api, import_id: str, passing: set, timeout: float, progress=None) -> tuple[dict, list]:
    deadline = time.time() + timeout
    samples = []
    while True:
        status, job = api.call("GET", f"/v1/imports/{import_id}")
        if status != 200:
            raise RuntimeError(f"GET import: {status} {job}")
        if progress:
            samples.append({"t": time.time(), "status": job["status"], "counts": job.get("counts")})
        if job["status"] not in passing:
            return job, samples
        if time.time() > deadline:
            raise RuntimeError(f"import {import_id} still {job['status']} after {timeout:.0f} s")
        time.sleep(1 if progress else 0.25)


def stack_import(api: Api, fmt: str, path: str, rows: int, timeout: float) -> dict:
    entity = f"bench_{fmt}_{uuid.uuid4().hex[:6]}"
    status, body = api.call("POST", "/v1/models", model_body(entity))
    if status != 201:
        raise RuntimeError(f"model: {status} {body}")
    status, created = api.call("POST", "/v1/imports", {"entity": entity, "file_name": os.path.basename(path),
                                                       "size": os.path.getsize(path)})
    if status != 201:
        raise RuntimeError(f"create import: {status} {created}")
    import_id = created["id"]
    t0 = time.time()
    put_file(created["upload"], path)
    t_uploaded = time.time()
    planned, _ = wait(api, import_id, {"awaiting_upload", "planning"}, 600)
    t_ready = time.time()
    if planned["status"] != "ready":
        raise RuntimeError(f"{fmt}: planning ended {planned['status']}: {planned.get('error')}")
    status, body = api.call("POST", f"/v1/imports/{import_id}/start", START)
    if status != 202:
        raise RuntimeError(f"start: {status} {body}")
    t_start = time.time()
    done, samples = wait(api, import_id, {"running"}, timeout, progress=True)
    t_done = time.time()
    counts = done.get("counts", {})
    result = {
        "entity": entity,
        "bytes": os.path.getsize(path),
        "status": done["status"],
        "counts": counts,
        "chunks": (done.get("progress") or {}).get("chunks"),
        "upload_s": t_uploaded - t0,
        "planning_s": t_ready - t_uploaded,
        "run_s": t_done - t_start,
        "duration_ms": done.get("duration_ms"),
        "end_to_end_s": t_done - t0,
        "rows_per_s_run": counts.get("ok", 0) / (t_done - t_start),
        "rows_per_s_end_to_end": counts.get("ok", 0) / (t_done - t0),
        "progress": [{"s": round(s["t"] - t_start, 1), "ok": (s["counts"] or {}).get("ok")} for s in samples[::10]],
    }
    if done["status"] != "completed" or counts.get("ok") != rows:
        result["problem"] = f"{fmt}: ended {done['status']} with {counts} (wanted {rows} ok): {done.get('error')}"
    return result


def drain_fanout(endpoint: str, prefix: str, timeout: float) -> float | None:
    """Waits until the webhook fan-out queue is empty (every record event handled); answers the seconds it took, or
    None when it was still busy after `timeout`. Each import then starts on a quiet stack."""
    import boto3

    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    url = sqs.get_queue_url(QueueName=f"{prefix}-webhook-fanout")["QueueUrl"]
    t0 = time.time()
    quiet = 0
    while time.time() - t0 < timeout:
        a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        if int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"]) == 0:
            quiet += 1
            if quiet >= 3:
                return time.time() - t0
        else:
            quiet = 0
        time.sleep(1)
    return None


def raw_batch_write(endpoint: str, table: str, csv_path: str, clients: int) -> dict:
    import boto3

    def client():
        return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    items = []
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        run = uuid.uuid4().hex[:8]
        for r in reader:
            # the shape of a record item (shared/store/src/dynamo.rs: RecordItem): key, metadata, attribute map
            items.append({"PutRequest": {"Item": {
                "pk": {"S": f"T#bench#E#customer#{run}"}, "sk": {"S": f"R#{r[0]}"},
                "entity": {"S": "customer"}, "id": {"S": r[0]}, "version": {"N": "1"},
                "created_at": {"S": "2026-11-26T00:00:00Z"}, "updated_at": {"S": "2026-11-26T00:00:00Z"},
                "created_by": {"S": "bench"}, "updated_by": {"S": "bench"},
                "attributes": {"M": {
                    "external_id": {"N": r[0]}, "name": {"S": r[1]}, "email": {"S": r[2].strip().lower()},
                    "age": {"N": r[3]}, "score": {"N": r[4]}, "active": {"BOOL": r[5] == "yes"},
                    "signed_up": {"S": r[6]}, "country": {"S": r[7]}}}}}})
    batches = [items[i:i + 25] for i in range(0, len(items), 25)]

    def write(part):
        c = client()
        for batch in part:
            pending = {table: batch}
            while pending:
                pending = c.batch_write_item(RequestItems=pending).get("UnprocessedItems") or None

    parts = [batches[i::clients] for i in range(clients)]
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(write, parts))
    seconds = time.perf_counter() - t0
    return {"clients": clients, "items": len(items), "calls": len(batches), "seconds": seconds,
            "items_per_s": len(items) / seconds}


def scratch_table(endpoint: str, name: str) -> None:
    import boto3

    c = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id="test", aws_secret_access_key="test")
    c.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                         {"AttributeName": "sk", "AttributeType": "S"}],
                   KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workdir", required=True, help="where the generated files go")
    p.add_argument("--throughput-bin", required=True, help="shared/import's `throughput` example, built --release")
    p.add_argument("--memory-bin", help="import-chunk-processor's `chunk_memory` example, built --release")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--memory-mb", type=int, default=100)
    p.add_argument("--base-url")
    p.add_argument("--api-key")
    p.add_argument("--endpoint", help="the emulator, for the raw BatchWriteItem phase")
    p.add_argument("--prefix", default="bench")
    p.add_argument("--formats", default="csv,xlsx")
    p.add_argument("--timeout", type=float, default=1800, help="seconds an import may run")
    p.add_argument("--skip", default="", help="comma-separated phases to skip: inprocess, memory, stack")
    p.add_argument("--out")
    args = p.parse_args()
    skip = {s for s in args.skip.split(",") if s}
    os.makedirs(args.workdir, exist_ok=True)
    result: dict = {"rows": args.rows}
    problems: list[str] = []

    csv_path = os.path.join(args.workdir, "customers.csv")
    log(f"writing {args.rows} rows: {csv_path}")
    write_csv(args.throughput_bin, csv_path, args.rows)
    result["csv_bytes"] = os.path.getsize(csv_path)

    if "inprocess" not in skip:
        log("in process: throughput vs DuckDB read_csv_auto")
        result["inprocess"] = inprocess(args, csv_path)

    if "memory" not in skip and args.memory_bin:
        big = os.path.join(args.workdir, "customers-big.csv")
        bytes_per_row = (result["csv_bytes"] - 60) / args.rows
        big_rows = int(args.memory_mb * 1_000_000 / bytes_per_row)
        log(f"memory: {big_rows} rows (~{args.memory_mb} MB) through chunk_memory")
        write_csv(args.throughput_bin, big, big_rows)
        out = subprocess.run([args.memory_bin, big], check=True, capture_output=True, text=True).stdout
        result["memory"] = json.loads(out)
        os.remove(big)

    if "stack" not in skip:
        if not (args.base_url and args.api_key and args.endpoint):
            raise SystemExit("the stack phase needs --base-url, --api-key and --endpoint")
        api = Api(args.base_url, args.api_key)
        result["stack"] = {}
        formats = [f for f in args.formats.split(",") if f]
        if "xlsx" in formats:
            xlsx_path = os.path.join(args.workdir, "customers.xlsx")
            log("writing the XLSX (openpyxl)")
            write_xlsx(csv_path, xlsx_path)
        for fmt in formats:
            path = csv_path if fmt == "csv" else os.path.join(args.workdir, f"customers.{fmt}")
            log(f"stack: {args.rows}-row {fmt} import")
            r = stack_import(api, fmt, path, args.rows, args.timeout)
            # the record events the import emitted are still being fanned out (webhook-fanout): how long until
            # every one is handled, and a quiet stack for what comes next
            r["fanout_drained_after_s"] = drain_fanout(args.endpoint, args.prefix, args.timeout)
            log(f"  {r['status']} in {r['run_s']:.1f} s ({r['rows_per_s_run']:.0f} rows/s); planning {r['planning_s']:.1f} s")
            if "problem" in r:
                problems.append(r["problem"])
            result["stack"][fmt] = r
        table = f"{args.prefix}-bench-import-scratch"
        scratch_table(args.endpoint, table)
        for clients in (1, 8):
            log(f"raw BatchWriteItem, {clients} client(s)")
            result["stack"][f"raw_batch_write_{clients}"] = raw_batch_write(args.endpoint, table, csv_path, clients)

    conclude(result, started, problems, args.out, log, "imports measured")


if __name__ == "__main__":
    main()
