#!/usr/bin/env python3
"""Verify bootstrap.py against a running emulator (LocalStack, or the moto server in CI).

Runs bootstrap.py twice (idempotency), then checks with boto3 that every resource of resources.json exists with the
declared shape, and that the second run created nothing new. Exits 0 when everything matches, 1 otherwise.

  python3 check_bootstrap.py --endpoint http://127.0.0.1:4599 [--prefix hubble] [--skip-bootstrap]

Defaults: --endpoint from AWS_ENDPOINT_URL (else http://localhost:4566), --prefix from HUBBLE_RESOURCE_PREFIX (else
"hubble"), --resources as bootstrap.py. Needs only boto3.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bootstrap  # noqa: E402  (same folder)


class Checker:
    def __init__(self, endpoint: str, region: str, prefix: str, account: str, resources: Dict[str, Any]):
        session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=region)
        cfg = Config(retries={"max_attempts": 3, "mode": "standard"})
        self.c = {s: session.client(s, endpoint_url=endpoint, config=cfg)
                  for s in ("dynamodb", "events", "kms", "sqs", "scheduler", "iam")}
        self.c["s3"] = session.client("s3", endpoint_url=endpoint,
                                      config=cfg.merge(Config(s3={"addressing_style": "path"})))
        self.prefix = prefix
        self.account = account
        self.res = resources
        self.failures: List[str] = []
        self.passed = 0

    def name(self, n: str) -> str:
        return f"{self.prefix}-{n}"

    def expect(self, what: str, actual: Any, expected: Any) -> None:
        if actual == expected:
            self.passed += 1
        else:
            self.failures.append(f"{what}: expected {expected!r}, got {actual!r}")

    def guarded(self, what: str, fn) -> None:
        try:
            fn()
        except ClientError as e:
            self.failures.append(f"{what}: {e}")

    # ---------------------------------------------------------------------------------------------- inventory

    def inventory(self) -> Dict[str, Any]:
        """Counts of what exists under the prefix, to compare before/after a re-run."""
        p = f"{self.prefix}-"
        tables = [t for page in self.c["dynamodb"].get_paginator("list_tables").paginate()
                  for t in page.get("TableNames", []) if t.startswith(p)]
        queues = [u for u in self.c["sqs"].list_queues(QueueNamePrefix=p).get("QueueUrls", [])]
        aliases = [a for page in self.c["kms"].get_paginator("list_aliases").paginate()
                   for a in page.get("Aliases", []) if a["AliasName"].startswith(f"alias/{p}")]
        keys = [k["KeyId"] for page in self.c["kms"].get_paginator("list_keys").paginate() for k in page.get("Keys", [])]
        buses = [b["Name"] for b in self.c["events"].list_event_buses(NamePrefix=p).get("EventBuses", [])]
        schedules = [s["Name"] for page in self.c["scheduler"].get_paginator("list_schedules").paginate(NamePrefix=p)
                     for s in page.get("Schedules", [])]
        buckets = [b["Name"] for b in self.c["s3"].list_buckets().get("Buckets", []) if b["Name"].startswith(p)]
        return {
            "tables": sorted(tables),
            "queues": sorted(queues),
            "aliases": sorted(a["AliasName"] for a in aliases),
            "kms key count": len(keys),
            "buses": sorted(buses),
            "schedules": sorted(schedules),
            "buckets": sorted(buckets),
        }

    # ---------------------------------------------------------------------------------------------- shapes

    def tables(self) -> None:
        for key, t in self.res["tables"].items():
            n = self.name(t["name"])

            def check(t=t, n=n) -> None:
                d = self.c["dynamodb"].describe_table(TableName=n)["Table"]
                ks = [{"AttributeName": t["partition_key"]["name"], "KeyType": "HASH"}]
                if t.get("sort_key"):
                    ks.append({"AttributeName": t["sort_key"]["name"], "KeyType": "RANGE"})
                self.expect(f"table {n} KeySchema", d["KeySchema"], ks)
                attrs = {}
                for k in [t["partition_key"], t.get("sort_key")] + [
                    x for g in t["global_secondary_indexes"] for x in (g["partition_key"], g.get("sort_key"))
                ]:
                    if k:
                        attrs[k["name"]] = k["type"]
                self.expect(f"table {n} AttributeDefinitions",
                            sorted((a["AttributeName"], a["AttributeType"]) for a in d["AttributeDefinitions"]),
                            sorted(attrs.items()))
                want_gsis = []
                for g in t["global_secondary_indexes"]:
                    gks = [{"AttributeName": g["partition_key"]["name"], "KeyType": "HASH"}]
                    if g.get("sort_key"):
                        gks.append({"AttributeName": g["sort_key"]["name"], "KeyType": "RANGE"})
                    want_gsis.append((g["name"], json.dumps(gks), g["projection"]))
                have_gsis = [(g["IndexName"], json.dumps(g["KeySchema"]), g["Projection"]["ProjectionType"])
                             for g in d.get("GlobalSecondaryIndexes", [])]
                self.expect(f"table {n} GlobalSecondaryIndexes", sorted(have_gsis), sorted(want_gsis))
                self.expect(f"table {n} billing mode",
                            d.get("BillingModeSummary", {}).get("BillingMode"), "PAY_PER_REQUEST")
                ttl = self.c["dynamodb"].describe_time_to_live(TableName=n)["TimeToLiveDescription"]
                if t.get("ttl_attribute"):
                    self.expect(f"table {n} TTL", (ttl.get("TimeToLiveStatus"), ttl.get("AttributeName")),
                                ("ENABLED", t["ttl_attribute"]))
                else:
                    self.expect(f"table {n} TTL", ttl.get("TimeToLiveStatus"), "DISABLED")

            self.guarded(f"table {key}", check)

    def bus(self) -> None:
        n = self.name(self.res["event_bus"]["name"])
        self.guarded("event bus", lambda: self.expect(
            "event bus name", self.c["events"].describe_event_bus(Name=n)["Name"], n))

    def keys(self) -> None:
        aliases = {a["AliasName"]: a for page in self.c["kms"].get_paginator("list_aliases").paginate()
                   for a in page.get("Aliases", [])}
        for key, k in self.res["kms_keys"].items():
            alias = f"alias/{self.name(k['alias'])}"

            def check(alias=alias) -> None:
                a = aliases.get(alias)
                if not a or not a.get("TargetKeyId"):
                    self.failures.append(f"kms alias {alias}: missing")
                    return
                meta = self.c["kms"].describe_key(KeyId=alias)["KeyMetadata"]
                self.expect(f"kms alias {alias} target enabled", meta.get("Enabled"), True)
                self.expect(f"kms alias {alias} target", meta["KeyId"], a["TargetKeyId"])
                # the key works through its alias, as the functions use it
                blob = self.c["kms"].encrypt(KeyId=alias, Plaintext=b"hubble")["CiphertextBlob"]
                self.expect(f"kms alias {alias} round trip", self.c["kms"].decrypt(CiphertextBlob=blob)["Plaintext"],
                            b"hubble")

            self.guarded(f"kms key {key}", check)

    def queue_attrs(self, name: str) -> Dict[str, str]:
        url = self.c["sqs"].get_queue_url(QueueName=name)["QueueUrl"]
        return self.c["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    def queues(self) -> Dict[str, str]:
        arns: Dict[str, str] = {}
        for key, q in self.res["queues"].items():
            n, dn = self.name(q["name"]), self.name(f"{q['name']}-dlq")

            def check(key=key, q=q, n=n, dn=dn) -> None:
                main, dlq = self.queue_attrs(n), self.queue_attrs(dn)
                arns[key] = main["QueueArn"]
                self.expect(f"queue {n} VisibilityTimeout", int(main["VisibilityTimeout"]),
                            q["visibility_timeout_seconds"])
                redrive = json.loads(main.get("RedrivePolicy", "{}"))
                self.expect(f"queue {n} redrive target", redrive.get("deadLetterTargetArn"), dlq["QueueArn"])
                self.expect(f"queue {n} maxReceiveCount", int(redrive.get("maxReceiveCount", -1)),
                            q["max_receive_count"])
                self.expect(f"queue {dn} MessageRetentionPeriod", int(dlq["MessageRetentionPeriod"]),
                            q["dlq_retention_seconds"])

            self.guarded(f"queue {key}", check)
        return arns

    def schedules(self, queue_arns: Dict[str, str]) -> None:
        role = f"arn:aws:iam::{self.account}:role/{self.name('scheduler')}"
        for key, s in self.res["schedules"].items():
            n = self.name(key)

            def check(s=s, n=n) -> None:
                d = self.c["scheduler"].get_schedule(Name=n)
                self.expect(f"schedule {n} expression", d["ScheduleExpression"], s["expression"])
                self.expect(f"schedule {n} flexible window", d["FlexibleTimeWindow"].get("Mode"), "OFF")
                self.expect(f"schedule {n} state", d.get("State"), "ENABLED")
                self.expect(f"schedule {n} target", d["Target"]["Arn"], queue_arns.get(s["target_queue"]))
                self.expect(f"schedule {n} role", d["Target"]["RoleArn"], role)
                self.expect(f"schedule {n} input", json.loads(d["Target"].get("Input", "null")), s["input"])

            self.guarded(f"schedule {key}", check)
        if self.res["schedules"] or any(f.get("scheduler_targets") for f in self.res.get("functions", {}).values()):
            self.guarded("scheduler role", lambda: self.expect(
                "scheduler role exists",
                self.c["iam"].get_role(RoleName=self.name("scheduler"))["Role"]["RoleName"], self.name("scheduler")))

    def rules(self, queue_arns: Dict[str, str]) -> None:
        bus = self.name(self.res["event_bus"]["name"])
        for key, r in self.res.get("rules", {}).items():
            n = self.name(key)

            def check(r=r, n=n) -> None:
                d = self.c["events"].describe_rule(Name=n, EventBusName=bus)
                self.expect(f"rule {n} pattern", json.loads(d["EventPattern"]), r["pattern"])
                self.expect(f"rule {n} state", d.get("State"), "ENABLED")
                targets = self.c["events"].list_targets_by_rule(Rule=n, EventBusName=bus)["Targets"]
                self.expect(f"rule {n} targets", [t["Arn"] for t in targets], [queue_arns.get(r["target_queue"])])

            self.guarded(f"rule {key}", check)

    def buckets(self, queue_arns: Dict[str, str]) -> None:
        s3 = self.c["s3"]
        for key, b in self.res.get("buckets", {}).items():
            n = self.name(b["name"])

            def check(b=b, n=n) -> None:
                s3.head_bucket(Bucket=n)
                self.passed += 1
                # lifecycle: compared by rule id, with whatever the emulator adds (empty filters, ...) left out
                def rule(r: Dict[str, Any]) -> Dict[str, Any]:
                    prefix = r.get("Filter", {}).get("Prefix", r.get("Prefix", ""))
                    return {"ID": r.get("ID"), "Status": r.get("Status"), "Prefix": prefix,
                            "Days": r.get("Expiration", {}).get("Days"),
                            "Abort": r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation")}
                have = sorted((rule(r) for r in s3.get_bucket_lifecycle_configuration(Bucket=n)["Rules"]),
                              key=lambda r: str(r["ID"]))
                want = sorted((rule(r) for r in bootstrap.lifecycle_rules(b)), key=lambda r: str(r["ID"]))
                self.expect(f"bucket {n} lifecycle rules", have, want)

                cors = s3.get_bucket_cors(Bucket=n)["CORSRules"]
                self.expect(f"bucket {n} CORS", [
                    {"methods": sorted(c.get("AllowedMethods", [])), "origins": c.get("AllowedOrigins"),
                     "headers": c.get("AllowedHeaders"), "expose": c.get("ExposeHeaders")} for c in cors
                ], [{"methods": ["GET", "PUT"], "origins": ["*"], "headers": ["*"], "expose": ["ETag"]}])

                config = s3.get_bucket_notification_configuration(Bucket=n)

                def notification(q: Dict[str, Any]) -> Dict[str, Any]:
                    rules = q.get("Filter", {}).get("Key", {}).get("FilterRules", [])
                    return {"queue": q.get("QueueArn"), "events": sorted(q.get("Events", [])),
                            "filter": sorted((r["Name"].lower(), r["Value"]) for r in rules)}
                want_n = sorted((notification(bootstrap.queue_configuration(x, queue_arns.get(x["target_queue"], "?")))
                                 for x in b.get("notifications", [])), key=json.dumps)
                have_n = sorted((notification(q) for q in config.get("QueueConfigurations", [])), key=json.dumps)
                self.expect(f"bucket {n} queue notifications", have_n, want_n)
                self.expect(f"bucket {n} other notifications",
                            [k for k in ("TopicConfigurations", "LambdaFunctionConfigurations") if config.get(k)], [])

                # the queues' policies let S3 send for this bucket
                for target in sorted({x["target_queue"] for x in b.get("notifications", [])}):
                    qn = self.name(self.res["queues"][target]["name"])
                    policy = json.loads(self.queue_attrs(qn).get("Policy", "{}"))
                    allowed = [st for st in policy.get("Statement", [])
                               if st.get("Effect") == "Allow"
                               and st.get("Principal", {}).get("Service") == "s3.amazonaws.com"
                               and f"arn:aws:s3:::{n}" in str(st.get("Condition", {}).get("ArnLike", {}))]
                    self.expect(f"queue {qn} policy lets s3.amazonaws.com send for bucket {n}", len(allowed), 1)

            self.guarded(f"bucket {key}", check)

    def shapes(self) -> None:
        self.tables()
        self.bus()
        self.keys()
        arns = self.queues()
        self.schedules(arns)
        self.rules(arns)
        self.buckets(arns)


def run_bootstrap(args: argparse.Namespace, run: int) -> bool:
    cmd = [sys.executable, str(HERE / "bootstrap.py"), "--endpoint", args.endpoint, "--prefix", args.prefix,
           "--region", args.region, "--account", args.account]
    if args.resources:
        cmd += ["--resources", str(args.resources)]
    print(f"--- bootstrap run {run}: {' '.join(cmd)}", flush=True)
    return subprocess.run(cmd).returncode == 0


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL") or "http://localhost:4566")
    p.add_argument("--prefix", default=os.environ.get("HUBBLE_RESOURCE_PREFIX") or "hubble")
    p.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")
    p.add_argument("--account", default=os.environ.get("HUBBLE_ACCOUNT_ID") or "000000000000")
    p.add_argument("--resources", type=Path, default=None)
    p.add_argument("--skip-bootstrap", action="store_true", help="only verify what exists")
    args = p.parse_args(argv)

    resources_file = args.resources or bootstrap.default_resources_file()
    resources = json.loads(resources_file.read_text(encoding="utf-8"))
    checker = Checker(args.endpoint, args.region, args.prefix, args.account, resources)

    if not args.skip_bootstrap:
        if not run_bootstrap(args, 1):
            print("FAIL: first bootstrap run failed", file=sys.stderr)
            return 1
        before = checker.inventory()
        if not run_bootstrap(args, 2):
            print("FAIL: second bootstrap run failed (not idempotent)", file=sys.stderr)
            return 1
        after = checker.inventory()
        checker.expect("inventory after the second run (idempotency)", after, before)
        expected_counts = {
            "tables": len(resources["tables"]),
            "queues": 2 * len(resources["queues"]),
            "aliases": len(resources["kms_keys"]),
            "buses": 1,
            "schedules": len(resources["schedules"]),
            "buckets": len(resources.get("buckets", {})),
        }
        checker.expect("resource counts under the prefix", {k: len(after[k]) for k in expected_counts},
                       expected_counts)

    checker.shapes()
    for f in checker.failures:
        print(f"FAIL: {f}", file=sys.stderr)
    print(f"{checker.passed} checks passed, {len(checker.failures)} failed "
          f"(endpoint {args.endpoint}, prefix {args.prefix!r})")
    return 1 if checker.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
