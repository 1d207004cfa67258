"""A webhook receiver for the end-to-end tests: it verifies every delivery with the `standardwebhooks` reference
library (not with the platform's own code), misbehaves on request, and tells the tests what it saw.

    python receiver.py --port 8099

Receivers live under /hooks/<key>/<behaviour>; a test registers the secrets of <key> first:

    PUT /_keys/<key>        {"secrets": ["whsec_..."]}   verifying succeeds if any of them verifies
    GET /_log/<key>         every request for <key>, oldest first

Behaviours:
    ok                       200
    status/<code>            always <code>
    fail-first/<n>           500 for the first n requests of each webhook-id at this URL, then 200
    retry-after/<n>/<secs>   429 with Retry-After: <secs> for the first n requests of each webhook-id at this URL,
                             then 200
    hang/<secs>              answers 200 after <secs> (past the endpoint's timeout)
    drop                     closes the connection without answering
    flaky/<percent>          500 with that probability, else 200
"""

import argparse
import json
import random
import sys
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LOCK = threading.Lock()
SECRETS = {}  # key -> [secret]
LOG = defaultdict(list)  # key -> [entry]
SEEN = defaultdict(int)  # (path, webhook-id) -> requests so far: each endpoint counts its own


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the tests read /_log
        pass

    def _reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status, value):
        self._reply(status, json.dumps(value).encode(), {"Content-Type": "application/json"})

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_PUT(self):
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "_keys":
            secrets = json.loads(self._body() or b"{}").get("secrets", [])
            with LOCK:
                SECRETS[parts[1]] = secrets
            return self._json(200, {"key": parts[1], "secrets": len(secrets)})
        self._json(404, {"error": "unknown control path"})

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "_log":
            with LOCK:
                entries = list(LOG.get(parts[1], []))
            return self._json(200, entries)
        if parts == ["_health"]:
            return self._json(200, {"ok": True})
        self._json(404, {"error": "unknown control path"})

    def do_POST(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) < 3 or parts[0] != "hooks":
            return self._json(404, {"error": "POST to /hooks/<key>/<behaviour>"})
        key, behaviour, args = parts[1], parts[2], parts[3:]
        body = self._body()
        headers = {k: v for k, v in self.headers.items()}
        with LOCK:
            secrets = list(SECRETS.get(key, []))
        verified, error, payload = False, None, None
        for secret in secrets:
            try:
                payload = Webhook(secret).verify(body.decode(), headers)
                verified, error = True, None
                break
            except WebhookVerificationError as e:
                error = str(e)
        if not secrets:
            error = "no secret registered for this key"
        msg_id = headers.get("webhook-id") or headers.get("Webhook-Id")
        with LOCK:
            path = self.path.split("?")[0]
            SEEN[(path, msg_id)] += 1
            nth = SEEN[(path, msg_id)]
        entry = {
            "received_at": time.time(),
            "webhook_id": msg_id,
            "timestamp": headers.get("webhook-timestamp") or headers.get("Webhook-Timestamp"),
            "signature": headers.get("webhook-signature") or headers.get("Webhook-Signature"),
            "headers": {k.lower(): v for k, v in headers.items()},
            "verified": verified,
            "error": error,
            "body": payload if verified else body.decode(errors="replace"),
            "behaviour": "/".join([behaviour] + args),
            "nth": nth,
        }

        def answer(status, extra=None):
            entry["answered"] = status
            with LOCK:
                LOG[key].append(entry)
            self._reply(status, b'{"received": true}', {"Content-Type": "application/json", **(extra or {})})

        if behaviour == "ok":
            return answer(200)
        if behaviour == "status":
            return answer(int(args[0]))
        if behaviour == "fail-first":
            return answer(500 if nth <= int(args[0]) else 200)
        if behaviour == "retry-after":
            if nth <= int(args[0]):
                return answer(429, {"Retry-After": args[1]})
            return answer(200)
        if behaviour == "hang":
            entry["answered"] = "hung"
            with LOCK:
                LOG[key].append(entry)
            time.sleep(float(args[0]))
            try:
                self._reply(200)
            except OSError:
                pass
            return None
        if behaviour == "drop":
            entry["answered"] = "dropped"
            with LOCK:
                LOG[key].append(entry)
            self.close_connection = True
            self.connection.shutdown(2)
            return None
        if behaviour == "flaky":
            return answer(500 if random.random() * 100 < float(args[0]) else 200)
        return answer(404)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=8099)
    p.add_argument("--bind", default="127.0.0.1")
    a = p.parse_args()
    server = ThreadingHTTPServer((a.bind, a.port), Handler)
    server.daemon_threads = True
    print(f"webhook receiver on http://{a.bind}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
