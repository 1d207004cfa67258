"""GraphQL benchmark: latency of POST /graphql through the local runner for a simple query (one record by id) and a
3-level nested query (companies → contacts → company), sequential and from a few threads, next to the same record
read through the REST API and the emulator's own GetItem (raw HTTP through the same client, and boto3 when the
Python running this has it).

    python bench/graphql.py --demo local/.state/demo.json --emulator http://127.0.0.1:4566 --table hubble-data

Creates its data in the demo tenant with GraphQL mutations (--companies companies with --contacts contacts each),
then measures. Prints one JSON document (bench/graphql.sh writes it next to the other results). Any non-200 answer
or GraphQL `errors` entry stops the run with the request and the answer.
"""

import argparse
import json
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

GRAPHQL_ACCEPT = "application/graphql-response+json"


class BenchError(RuntimeError):
    pass


def summary(latencies_ms, wall_s):
    s = sorted(latencies_ms)
    pick = lambda p: round(s[min(len(s) - 1, int(round((len(s) - 1) * p)))], 2)  # noqa: E731
    return {"requests": len(s), "per_second": round(len(s) / wall_s, 1), "p50_ms": pick(0.5), "p95_ms": pick(0.95),
            "p99_ms": pick(0.99), "mean_ms": round(statistics.fmean(s), 2)}


def graphql(session, url, key, query, variables=None):
    """One GraphQL request; raises with the query and the answer on a non-200 status or an `errors` entry."""
    body = {"query": query}
    if variables:
        body["variables"] = variables
    r = session.post(url, json=body, headers={"Authorization": f"Bearer {key}", "Accept": GRAPHQL_ACCEPT}, timeout=60)
    if r.status_code != 200:
        raise BenchError(f"POST {url} answered {r.status_code}: {r.text[:500]}\nquery: {query}")
    try:
        doc = r.json()
    except ValueError:
        raise BenchError(f"POST {url}: not JSON: {r.text[:500]}\nquery: {query}") from None
    if doc.get("errors"):
        raise BenchError(f"POST {url}: GraphQL errors: {json.dumps(doc['errors'])[:1000]}\nquery: {query}")
    if doc.get("data") is None:
        raise BenchError(f"POST {url}: no data: {r.text[:500]}\nquery: {query}")
    return doc["data"]


def measure(op, total, concurrency):
    """`op(session)` `total` times from `concurrency` threads (one keep-alive session each), after a warm-up."""
    local = threading.local()

    def one(_):
        if not hasattr(local, "s"):
            local.s = requests.Session()
        t = time.perf_counter()
        op(local.s)
        return (time.perf_counter() - t) * 1000

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(min(total, max(20, 5 * concurrency)))))  # warm-up: every thread's session or client
        started = time.perf_counter()
        latencies = list(pool.map(one, range(total)))
        return summary(latencies, time.perf_counter() - started)


def seed(url, key, companies, contacts, log):
    """Creates the companies and contacts through GraphQL mutations; returns {company id: [contact ids]}."""
    s = requests.Session()
    run = uuid.uuid4().hex[:8]
    out = {}
    started = time.perf_counter()
    mutation_ms = []
    for c in range(companies):
        t = time.perf_counter()
        company = graphql(s, url, key, "mutation($input: CompanyCreateInput!) { createCompany(input: $input) { id } }",
                          {"input": {"name": f"Bench {run} company {c:03d}", "industry": "software", "employees": 10 + c}})["createCompany"]["id"]
        mutation_ms.append((time.perf_counter() - t) * 1000)
        out[company] = []
        for p in range(contacts):
            t = time.perf_counter()
            contact = graphql(s, url, key, "mutation($input: ContactCreateInput!) { createContact(input: $input) { id } }",
                              {"input": {"email": f"bench-{run}-{c:03d}-{p:03d}@example.com", "first_name": f"First{p}",
                                         "last_name": f"Last{c}", "age": 20 + p, "company": company}})["createContact"]["id"]
            mutation_ms.append((time.perf_counter() - t) * 1000)
            out[company].append(contact)
    log(f"seeded {companies} companies x {contacts} contacts in {time.perf_counter() - started:.1f}s")
    return out, summary(mutation_ms, sum(mutation_ms) / 1000)


def nested_query(first, contacts):
    return f"{{ companies(first: {first}) {{ nodes {{ name contacts(first: {contacts}) {{ nodes {{ email company {{ name }} }} }} }} }} }}"


def check_nested(data, first, contacts):
    nodes = data["companies"]["nodes"]
    if len(nodes) != first:
        raise BenchError(f"nested query: {len(nodes)} companies, expected {first}")
    for n in nodes:
        got = n["contacts"]["nodes"]
        if len(got) != contacts or any(c["company"]["name"] != n["name"] for c in got):
            raise BenchError(f"nested query: company {n['name']!r} came back with {json.dumps(got)[:300]}")


def dynamo_raw(endpoint, table, key):
    """GetItem as a plain HTTP request (the emulator does not check signatures), through a `requests` session like
    the runner's calls, so client overhead is the same on both sides."""
    auth = ("AWS4-HMAC-SHA256 Credential=test/20261126/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64)
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.GetItem",
               "X-Amz-Date": "20261126T120000Z", "Authorization": auth}
    body = json.dumps({"TableName": table, "Key": key, "ConsistentRead": True})

    def op(s):
        r = s.post(endpoint + "/", data=body, headers=headers, timeout=60)
        if r.status_code != 200 or b'"Item"' not in r.content:
            raise BenchError(f"GetItem {table} {key}: {r.status_code} {r.text[:300]}")

    return op


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--demo", required=True, help="the runner's state-dir demo.json")
    p.add_argument("--emulator", help="emulator endpoint, for the raw GetItem rows")
    p.add_argument("--table", help="the data table's physical name (<prefix>-data)")
    p.add_argument("--requests", type=int, default=300, help="requests per measurement")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--companies", type=int, default=20)
    p.add_argument("--contacts", type=int, default=10)
    a = p.parse_args()
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    demo = json.load(open(a.demo))
    base, key, tenant = demo["base_url"].rstrip("/"), demo["api_key"], demo["tenant"]
    url = f"{base}/graphql"

    s = requests.Session()
    types = graphql(s, url, key, "{ __schema { queryType { fields { name } } mutationType { fields { name } } } }")["__schema"]
    for needed, kind in (("contact", "queryType"), ("companies", "queryType"), ("createCompany", "mutationType"), ("createContact", "mutationType")):
        if needed not in {f["name"] for f in types[kind]["fields"]}:
            raise BenchError(f"the schema has no {kind} field {needed!r}; the demo models changed?")

    data, mutations = seed(url, key, a.companies, a.contacts, log)
    contact_ids = [c for cs in data.values() for c in cs]
    target = contact_ids[len(contact_ids) // 2]
    out = {"requests": a.requests, "concurrency": a.concurrency, "companies": a.companies, "contacts_per_company": a.contacts,
           "seed_mutation": mutations}

    simple = f'{{ contact(id: "{target}") {{ id email first_name }} }}'
    got = graphql(s, url, key, simple)["contact"]
    if not got or got["id"] != target:
        raise BenchError(f"simple query: {got}")
    nested = nested_query(a.companies, a.contacts)
    check_nested(graphql(s, url, key, nested), a.companies, a.contacts)
    nested5 = nested_query(5, a.contacts)
    check_nested(graphql(s, url, key, nested5), 5, a.contacts)
    out["queries"] = {"simple": simple, "nested": nested, "nested_5": nested5}

    rest_headers = {"Authorization": f"Bearer {key}", "Accept": "application/vnd.api+json"}

    def rest(session):
        r = session.get(f"{base}/v1/data/contact/{target}", headers=rest_headers, timeout=60)
        if r.status_code != 200:
            raise BenchError(f"GET /v1/data/contact/{target}: {r.status_code} {r.text[:300]}")

    phases = [
        ("graphql_simple", lambda s: graphql(s, url, key, simple)),
        ("graphql_nested_20", lambda s: graphql(s, url, key, nested)),
        ("graphql_nested_5", lambda s: graphql(s, url, key, nested5)),
        ("rest_get_contact", rest),
    ]
    record_key = {"pk": {"S": f"T#{tenant}#E#contact"}, "sk": {"S": f"R#{target}"}}
    if a.emulator and a.table:
        phases.append(("emulator_getitem_raw_http", dynamo_raw(a.emulator.rstrip("/"), a.table, record_key)))
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            out["emulator_getitem_boto3"] = "skipped: boto3 is not installed in this Python (local/requirements-test.txt)"
        else:
            clients = threading.local()

            def boto(_session):
                if not hasattr(clients, "c"):
                    clients.c = boto3.client("dynamodb", endpoint_url=a.emulator, region_name="us-east-1", aws_access_key_id="test",
                                             aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
                if "Item" not in clients.c.get_item(TableName=a.table, Key=record_key, ConsistentRead=True):
                    raise BenchError(f"boto3 GetItem {record_key}: no item")

            phases.append(("emulator_getitem_boto3", boto))

    for name, op in phases:
        for mode, threads in (("sequential", 1), (f"concurrent_{a.concurrency}", a.concurrency)):
            log(f"{name} {mode}: {a.requests} requests")
            out.setdefault(name, {})[mode] = measure(op, a.requests, threads)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
