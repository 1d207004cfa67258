#!/usr/bin/env python3
"""Cold-start benchmark: a fake Lambda Runtime API plus a harness that starts a function binary N times.

For every run it records
  init_ms   process spawn -> first `GET /2018-06-01/runtime/invocation/next` (what Lambda reports as Init Duration)
  init_cpu_ms  CPU time all of the process's threads had used by then (/proc/<pid>/task/*/schedstat)
  invoke_ms event handed out on that `next` -> `POST /2018-06-01/runtime/invocation/{id}/response` (first invocation,
            optional: only when an event file is given)
and then kills the process. A separate pass runs the binary once under `strace -f -e trace=connect` without handing
out an event, to verify that init opens no network connection other than the one to the Runtime API.

Standard library only (the harness must not perturb what it measures with imports of its own).

  coldstart.py --bin PATH --function NAME [--manifest resources.json --prefix P] [--event FILE] [--runs 30]
               [--env K=V ...] [--out FILE.json]

With --manifest and --prefix, the function's resource variables (tables, event bus, KMS keys, queues) are set the way
CDK sets them, from shared/resources/resources.json, with physical names `<prefix>-<name>` as the local runner
creates them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from report import emit

NEXT = "/2018-06-01/runtime/invocation/next"


class Run:
    """State of one process lifetime as seen by the fake Runtime API."""

    def __init__(self, event: bytes | None, request_id: str):
        self.event = event
        self.request_id = request_id
        self.first_next_ns: int | None = None
        self.pid: int | None = None
        self.init_cpu_ns: int | None = None
        self.event_sent_ns: int | None = None
        self.response_ns: int | None = None
        self.response_body: bytes | None = None
        self.error: str | None = None
        self.got_next = threading.Event()
        self.done = threading.Event()  # response (or error) posted
        self.release = threading.Event()  # lets held `next` requests go (they then get a 410-ish answer)
        self.lock = threading.Lock()
        self.nexts = 0


def cpu_ns(pid: int | None) -> int | None:
    """CPU time used so far by all threads of `pid` (schedstat: nanoseconds on CPU), or None."""
    if pid is None:
        return None
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real Runtime API

    def log_message(self, *args):  # quiet
        pass

    def _reply(self, code: int, body: bytes = b"", headers: dict | None = None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        now = time.perf_counter_ns()
        run: Run = self.server.run  # type: ignore[attr-defined]
        if self.path != NEXT:
            self._reply(404)
            return
        with run.lock:
            run.nexts += 1
            first = run.first_next_ns is None
            if first:
                run.first_next_ns = now
        if first:
            run.init_cpu_ns = cpu_ns(run.pid)
            run.got_next.set()
        if first and run.event is not None:
            self._reply(
                200,
                run.event,
                {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": run.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30_000),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
                    "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0",
                },
            )
            run.event_sent_ns = time.perf_counter_ns()
            return
        # No (more) events: hold the request like the real API does between invocations, until the run ends.
        run.release.wait(timeout=60)
        try:
            self._reply(500, b'{"errorMessage":"benchmark over"}', {"Content-Type": "application/json"})
        except OSError:
            pass

    def do_POST(self):
        now = time.perf_counter_ns()
        run: Run = self.server.run  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.endswith("/response"):
            run.response_ns, run.response_body = now, body
        else:  # /invocation/{id}/error or /init/error
            run.error = f"{self.path}: {body[:500]!r}"
        self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
        run.done.set()


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # killed functions reset their connections; that is expected
        pass


class FakeRuntimeApi:
    """One Runtime API per process lifetime, on its own port: a request still in flight from a killed process can
    never be mistaken for the next process's first `next`."""

    def __init__(self, event: bytes | None, request_id: str):
        self.run = Run(event, request_id)
        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.server.run = self.run  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.run.release.set()
        self.server.shutdown()
        self.server.server_close()


def lambda_env(args, port: int) -> dict[str, str]:
    """The environment Lambda gives a provided.al2023 function, plus the function's own variables."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": args.function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{args.function}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/25/[1]0123456789abcdef0123456789abcdef",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_SESSION_TOKEN": "test",
        "_HANDLER": "bootstrap",
        "LAMBDA_TASK_ROOT": os.path.dirname(os.path.abspath(args.bin)),
    }
    env.update(manifest_env(args))
    for kv in args.env:
        k, _, v = kv.partition("=")
        env[k] = v
    return env


def manifest_env(args) -> dict[str, str]:
    """The resource variables of the function, as CDK would set them (names per hw_resources::Manifest)."""
    if not args.manifest:
        return {}
    m = json.load(open(args.manifest))
    f = m["functions"][args.function]
    p = args.prefix
    env = {m["tables"][t]["env"]: f"{p}-{m['tables'][t]['name']}" for t in f.get("tables", [])}
    if f.get("event_bus"):
        env[m["event_bus"]["env"]] = f"{p}-{m['event_bus']['name']}"
    for k in f.get("kms_keys", []):
        env[m["kms_keys"][k]["env"]] = f"alias/{p}-{m['kms_keys'][k]['alias']}"
    endpoint = next((kv.partition("=")[2] for kv in args.env if kv.startswith("AWS_ENDPOINT_URL=")), "http://127.0.0.1:4566")
    for q in f.get("queues", []):
        env[m["queues"][q]["env"]] = f"{endpoint}/123456789012/{p}-{m['queues'][q]['name']}"
    return env


def spawn(cmd: list[str], env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen):
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def summary(values: list[float]) -> dict:
    if not values:
        return {}
    return {
        "n": len(values),
        "min": min(values),
        "p50": statistics.median(values),
        "p95": pct(values, 95),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def spawn_floor(runs: int) -> dict:
    """What the harness itself costs: spawn `/bin/true` and wait for it to exit."""
    true = shutil.which("true") or "/bin/true"
    times = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        subprocess.run([true], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return summary(times)


def tail(path: str, n: int = 400) -> str:
    try:
        with open(path, "rb") as f:
            return f.read()[-n:].decode("utf-8", "replace").strip()
    except OSError:
        return ""


def measure(args, event: bytes | None, log_path: str) -> dict:
    init, init_cpu, invoke, failures = [], [], [], []
    with open(log_path, "ab") as log:
        for i in range(args.warmup + args.runs):
            api = FakeRuntimeApi(event, f"bench-{i:04d}-0000-0000-0000-000000000000")
            run, env = api.run, lambda_env(args, api.port)
            t0 = time.perf_counter_ns()
            proc = spawn([args.bin], env, log)
            run.pid = proc.pid
            try:
                deadline = time.monotonic() + args.timeout
                while not run.got_next.wait(timeout=0.005) and proc.poll() is None and time.monotonic() < deadline:
                    pass
                if not run.got_next.is_set():
                    failures.append(f"run {i}: no `next` (exit code {proc.poll()}); log: {tail(log_path)}")
                    if len(failures) >= 3:
                        break
                    continue
                if event is not None:
                    if not run.done.wait(timeout=args.timeout):
                        failures.append(f"run {i}: no response within {args.timeout}s")
                        continue
                    if run.error:
                        failures.append(f"run {i}: function reported an error: {run.error}")
                        continue
            finally:
                stop(proc)
                api.close()
            if i < args.warmup:
                continue
            init.append((run.first_next_ns - t0) / 1e6)
            if run.init_cpu_ns is not None:
                init_cpu.append(run.init_cpu_ns / 1e6)
            if event is not None:
                invoke.append((run.response_ns - run.event_sent_ns) / 1e6)
    result = {"init_ms": summary(init), "init_cpu_ms": summary(init_cpu), "failures": failures, "raw_init_ms": init}
    if event is not None:
        result["first_invoke_ms"] = summary(invoke)
        result["raw_first_invoke_ms"] = invoke
        body = run.response_body or b"{}"
        try:
            result["last_response_status"] = json.loads(body).get("statusCode")
        except ValueError:
            result["last_response_status"] = None
        result["last_response_excerpt"] = body[:300].decode("utf-8", "replace")
    return result


FAMILY = re.compile(r"sa_family=(AF_\w+)")
PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
ADDR = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"|sun_path="([^"]+)"')


def verify_no_network(args) -> dict:
    """Runs the binary once under strace, hands out no event, and lists every connect() made before (and while)
    it waits on `next`. Anything other than the Runtime API is a network call during init."""
    strace = shutil.which("strace")
    if not strace:
        return {"checked": False, "reason": "strace not installed"}
    api = FakeRuntimeApi(None, "strace-run")
    run, env = api.run, lambda_env(args, api.port)
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace")
        with open(os.devnull, "wb") as log:
            proc = spawn([strace, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", trace, args.bin], env, log)
            try:
                ok = run.got_next.wait(timeout=args.timeout * 3)
                time.sleep(0.3)  # anything started concurrently with the first `next` shows up too
            finally:
                stop(proc)
                api.close()
        lines = open(trace, encoding="utf-8", errors="replace").read().splitlines()
    connects = []
    for line in lines:
        call = re.search(r"\b(connect|sendto|sendmsg)\(", line)
        if not call or ("sa_family=" not in line and call.group(1) != "connect"):
            continue  # sendto/sendmsg on an already connected socket carry no address
        family, port, addr = FAMILY.search(line), PORT.search(line), ADDR.search(line)
        if not family:
            connects.append({"raw": line.strip()})
            continue
        connects.append({
            "syscall": call.group(1),
            "family": family.group(1),
            "port": int(port.group(1)) if port else None,
            "addr": next((g for g in addr.groups() if g), None) if addr else None,
        })
    other = [
        c
        for c in connects
        if not (c.get("family") in ("AF_INET", "AF_INET6") and c.get("port") == api.port and c.get("addr") in ("127.0.0.1", "::ffff:127.0.0.1"))
    ]
    # AF_UNSPEC connects are how the resolver/kernel disconnects UDP sockets; AF_UNIX ones are local (nscd etc.)
    network = [c for c in other if c.get("family") in ("AF_INET", "AF_INET6") or "raw" in c]
    return {
        "checked": True,
        "reached_next": ok,
        "connects": connects,
        "network_calls_besides_runtime_api": network,
        "other_local_connects": [c for c in other if c not in network],
        "ok": ok and not network,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--function", required=True)
    ap.add_argument("--event", help="event JSON handed out on the first `next` of every run (measures first invocation)")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=2, help="runs not counted (page cache, first-exec effects)")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--env", action="append", default=[], metavar="K=V")
    ap.add_argument("--manifest", help="resources.json: set the function's resource variables from it")
    ap.add_argument("--prefix", default="hubble", help="physical name prefix for --manifest (default hubble)")
    ap.add_argument("--log", default=os.devnull, help="where the function's stdout/stderr go")
    ap.add_argument("--no-strace", action="store_true", help="skip the network-during-init check")
    ap.add_argument("--out")
    args = ap.parse_args()

    event = open(args.event, "rb").read() if args.event else None
    result = {
        "function": args.function,
        "binary": os.path.abspath(args.bin),
        "binary_bytes": os.path.getsize(args.bin),
        "runs": args.runs,
        "warmup": args.warmup,
        "event": args.event,
        "spawn_floor_ms": spawn_floor(args.runs),
    }
    result["init_only"] = measure(args, None, args.log)
    if event is not None:
        result["with_event"] = measure(args, event, args.log)
    result["network_during_init"] = {"checked": False, "reason": "--no-strace"} if args.no_strace else verify_no_network(args)
    emit(result, args.out)
    bad = result["init_only"]["failures"] or (event is not None and result["with_event"]["failures"])
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
