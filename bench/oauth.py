"""OAuth benchmark: the token endpoint (client_credentials) under load, HubbleWave next to node-oidc-provider on the
same machine; the full authorization-code flow (sign-in and consent forms, code, token) with PKCE; and a REST API
call with an access token next to the same call with an API key (what token checks add per request).

    python bench/oauth.py --demo local/.state/demo.json [--oidc-provider http://127.0.0.1:3999] [--requests 2000]

Prints one JSON document (bench/oauth.sh writes it next to the other results).
"""

import argparse
import base64
import hashlib
import json
import re
import secrets
import statistics
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import requests


def summary(latencies_ms, wall_s):
    s = sorted(latencies_ms)
    pick = lambda p: round(s[min(len(s) - 1, int(round((len(s) - 1) * p)))], 2)
    return {"requests": len(s), "per_second": round(len(s) / wall_s, 1), "p50_ms": pick(0.5), "p95_ms": pick(0.95),
            "p99_ms": pick(0.99), "mean_ms": round(statistics.fmean(s), 2)}


def load(url, auth, data, total, concurrency):
    local = threading.local()

    def one(_):
        if not hasattr(local, "s"):
            local.s = requests.Session()
        t = time.perf_counter()
        r = local.s.post(url, auth=auth, data=data, timeout=30)
        elapsed = (time.perf_counter() - t) * 1000
        if r.status_code != 200:
            raise RuntimeError(f"{url}: {r.status_code} {r.text[:200]}")
        return elapsed

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(min(50, total))))  # warm-up
        started = time.perf_counter()
        latencies = list(pool.map(one, range(total)))
        return summary(latencies, time.perf_counter() - started)


def hidden(html):
    return {m.group(1): m.group(2).replace("&amp;", "&") for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)}


def action(html):
    return re.search(r'<form method="post" action="([^"]+)">', html).group(1)


def code_flow(oauth):
    """One full authorization-code flow with PKCE in a fresh browser: authorize, sign in, consent (first time only),
    code, token. Returns seconds."""
    issuer = oauth["issuer"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect = oauth["public_client"]["redirect_uri"].replace("127.0.0.1", "127.0.0.1:51234", 1)
    browser = requests.Session()
    started = time.perf_counter()
    page = browser.get(f"{issuer}/authorize", params={"response_type": "code", "client_id": oauth["public_client"]["id"], "redirect_uri": redirect,
                                                      "scope": "openid data:read", "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"}, timeout=30)
    fields = hidden(page.text)
    fields.update({"username": oauth["user"]["username"], "password": oauth["user"]["password"]})
    r = browser.post(action(page.text), data=fields, allow_redirects=False, timeout=30)
    if r.status_code == 200:
        fields = hidden(r.text)
        fields["decision"] = "allow"
        r = browser.post(action(r.text), data=fields, allow_redirects=False, timeout=30)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["location"]).query)["code"][0]
    token = requests.post(f"{issuer}/token", data={"grant_type": "authorization_code", "code": code, "client_id": oauth["public_client"]["id"],
                                                   "redirect_uri": redirect, "code_verifier": verifier}, timeout=30)
    token.raise_for_status()
    return time.perf_counter() - started


def api_calls(base, credential, total):
    s = requests.Session()
    latencies = []
    for _ in range(20):
        s.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {credential}"}, timeout=30)
    started = time.perf_counter()
    for _ in range(total):
        t = time.perf_counter()
        r = s.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {credential}"}, timeout=30)
        latencies.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{r.status_code} {r.text[:200]}")
    return summary(latencies, time.perf_counter() - started)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--demo", required=True)
    p.add_argument("--oidc-provider")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--flows", type=int, default=20)
    a = p.parse_args()
    demo = json.load(open(a.demo))
    oauth = demo["oauth"]
    conf = oauth["confidential_client"]
    out = {"concurrency": a.concurrency}
    out["hubblewave_client_credentials"] = load(f"{oauth['issuer']}/token", (conf["id"], conf["secret"]),
                                                {"grant_type": "client_credentials", "scope": "data:read"}, a.requests, a.concurrency)
    if a.oidc_provider:
        out["oidc_provider_client_credentials"] = load(f"{a.oidc_provider}/token", ("bench", "bench-secret-bench-secret-bench-secret"),
                                                       {"grant_type": "client_credentials", "scope": "data:read"}, a.requests, a.concurrency)
    flows = sorted(code_flow(oauth) for _ in range(a.flows))
    out["authorization_code_flow_seconds"] = {"runs": len(flows), "p50": round(flows[len(flows) // 2], 3), "max": round(flows[-1], 3)}
    token = requests.post(f"{oauth['issuer']}/token", auth=(conf["id"], conf["secret"]), data={"grant_type": "client_credentials", "scope": "data:read"}, timeout=30).json()["access_token"]
    out["rest_get_models_with_api_key"] = api_calls(demo["base_url"], demo["api_key"], 300)
    out["rest_get_models_with_access_token"] = api_calls(demo["base_url"], token, 300)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
