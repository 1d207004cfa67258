#!/usr/bin/env python3
"""Create every resource declared in shared/resources/resources.json in LocalStack (or any AWS-compatible
emulator such as moto), idempotently: running it again converges the resources and creates nothing twice.

  tables   DynamoDB, on-demand, partition/sort keys, GSIs, TTL
  bus      the custom EventBridge bus
  keys     KMS keys (rotation on) and their aliases alias/<prefix>-<alias>
  queues   SQS queues with <name>-dlq dead-letter queues, redrive policy, visibility timeout, DLQ retention
  roles    IAM role <prefix>-scheduler that EventBridge Scheduler assumes to send to the queues (those of the
           manifest's schedules and the functions' scheduler_targets; in AWS CDK gives each function with
           scheduler_targets a role of its own)
  schedules EventBridge Scheduler schedules targeting the queues with the JSON input
  rules    EventBridge rules on the bus, each sending matching events to its queue
  buckets  S3 buckets <prefix>-<name> with their lifecycle rules (expirations, multipart abort), the CORS rule of
           presigned browser uploads, and s3:ObjectCreated:* notifications (prefix filter) to their queues, whose
           policy lets s3.amazonaws.com send for the bucket (as the CDK app deploys it)

Physical names are <prefix>-<name>, as the CDK app (infra/cdk) deploys them; buckets too (in AWS CloudFormation
generates bucket names, which are global; locally the name is <prefix>-<name>, as local/runner creates it).

Configuration (flags win over environment variables):
  --prefix     HUBBLE_RESOURCE_PREFIX    default "hubble"
  --endpoint   AWS_ENDPOINT_URL          default http://localhost:4566
  --region     AWS_REGION / AWS_DEFAULT_REGION, default us-east-1
  --resources  HUBBLE_RESOURCES_FILE     default /etc/localstack/hubble/resources.json inside the LocalStack
                                         container, else ../../shared/resources/resources.json next to this script
  --account    HUBBLE_ACCOUNT_ID         account of the scheduler role ARN, default 000000000000 (LocalStack's)
  --print-env  print `export NAME=value` lines for the variables CDK sets on the functions

Only boto3 is needed (the LocalStack image ships it). Exit status 0 on success, 1 on any error.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

CONTAINER_RESOURCES = Path("/etc/localstack/hubble/resources.json")
REPO_RESOURCES = Path(__file__).resolve().parent.parent.parent / "shared" / "resources" / "resources.json"


def log(message: str) -> None:
    print(f"[hubble-bootstrap] {message}", file=sys.stderr, flush=True)


def error_code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def physical(prefix: str, name: str) -> str:
    return f"{prefix}-{name}"


def default_resources_file() -> Path:
    env = os.environ.get("HUBBLE_RESOURCES_FILE")
    if env:
        return Path(env)
    return CONTAINER_RESOURCES if CONTAINER_RESOURCES.exists() else REPO_RESOURCES


# ---------------------------------------------------------------------------------------------------- bucket shapes
# Shared with check_bootstrap.py; the same shapes as local/runner (bootstrap.rs) and the CDK app (lib/storage.ts).

ABORT_MULTIPART_RULE_ID = "abort-incomplete-multipart"

# presigned browser uploads (one PUT per part) and downloads from any origin; completing a multipart upload needs
# each part's ETag, which the browser may only read when it is exposed
CORS_RULE: Dict[str, Any] = {
    "AllowedMethods": ["PUT", "GET"],
    "AllowedOrigins": ["*"],
    "AllowedHeaders": ["*"],
    "ExposeHeaders": ["ETag"],
    "MaxAgeSeconds": 3600,
}


def lifecycle_rules(spec: Dict[str, Any]) -> List[Dict[str, Any]]:
    rules: List[Dict[str, Any]] = [
        {
            "ID": f"expire-{e['prefix'].rstrip('/')}",
            "Status": "Enabled",
            "Filter": {"Prefix": e["prefix"]},
            "Expiration": {"Days": e["days"]},
        }
        for e in spec.get("expiration", [])
    ]
    rules.append({
        "ID": ABORT_MULTIPART_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": spec["abort_incomplete_multipart_days"]},
    })
    return rules


def queue_configuration(n: Dict[str, Any], queue_arn: str) -> Dict[str, Any]:
    return {
        "Id": f"{n['prefix'].rstrip('/')}-to-{n['target_queue']}",
        "QueueArn": queue_arn,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": n["prefix"]}]}},
    }


def s3_queue_policy(queue_arn: str, buckets: List[str]) -> Dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "s3-notifications",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
            "Resource": queue_arn,
            "Condition": {"ArnLike": {"aws:SourceArn": [f"arn:aws:s3:::{b}" for b in buckets]}},
        }],
    }


class Bootstrap:
    def __init__(self, resources: Dict[str, Any], prefix: str, endpoint: str, region: str, account: str):
        self.res = resources
        self.prefix = prefix
        self.account = account
        session = boto3.session.Session(
            # the emulators accept any credentials; fixed ones keep LocalStack on its default account
            aws_access_key_id=os.environ.get("HUBBLE_BOOTSTRAP_ACCESS_KEY_ID", "test"),
            aws_secret_access_key=os.environ.get("HUBBLE_BOOTSTRAP_SECRET_ACCESS_KEY", "test"),
            region_name=region,
        )
        cfg = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30)

        def client(service: str, config: Config = cfg) -> Any:
            return session.client(service, endpoint_url=endpoint, config=config)

        self.dynamodb = client("dynamodb")
        self.events = client("events")
        self.kms = client("kms")
        self.sqs = client("sqs")
        self.iam = client("iam")
        self.scheduler = client("scheduler")
        # path-style: emulators on localhost or an IP do not resolve <bucket>.<host>
        self.s3 = client("s3", cfg.merge(Config(s3={"addressing_style": "path"})))
        self.region = region
        self.queue_urls: Dict[str, str] = {}
        self.dlq_urls: Dict[str, str] = {}
        self.queue_arns: Dict[str, str] = {}
        self.key_arns: Dict[str, str] = {}
        self.errors: List[str] = []

    # ------------------------------------------------------------------------------------------------ helpers

    def wait_for_endpoint(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.sqs.list_queues(MaxResults=1)
                return
            except (EndpointConnectionError, ClientError) as e:
                if isinstance(e, ClientError) and error_code(e) not in ("ServiceUnavailable", "503", "502"):
                    return  # the endpoint answers
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def step(self, what: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report every failure, go on with the other resources
            self.errors.append(f"{what}: {e}")
            log(f"ERROR {what}: {e}")

    # ------------------------------------------------------------------------------------------------ tables

    def table(self, spec: Dict[str, Any]) -> None:
        name = physical(self.prefix, spec["name"])
        pk, sk = spec["partition_key"], spec.get("sort_key")
        gsis = spec.get("global_secondary_indexes", [])
        attrs: Dict[str, str] = {}
        for k in [pk, sk] + [x for g in gsis for x in (g["partition_key"], g.get("sort_key"))]:
            if k:
                attrs[k["name"]] = k["type"]

        def key_schema(p: Dict[str, str], s: Optional[Dict[str, str]]) -> List[Dict[str, str]]:
            return [{"AttributeName": p["name"], "KeyType": "HASH"}] + (
                [{"AttributeName": s["name"], "KeyType": "RANGE"}] if s else []
            )

        def gsi(g: Dict[str, Any]) -> Dict[str, Any]:
            return {
                "IndexName": g["name"],
                "KeySchema": key_schema(g["partition_key"], g.get("sort_key")),
                "Projection": {"ProjectionType": g["projection"]},
            }

        try:
            current = self.dynamodb.describe_table(TableName=name)["Table"]
        except ClientError as e:
            if error_code(e) != "ResourceNotFoundException":
                raise
            current = None

        if current is None:
            args: Dict[str, Any] = {
                "TableName": name,
                "KeySchema": key_schema(pk, sk),
                "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attrs.items()],
                "BillingMode": "PAY_PER_REQUEST",
            }
            if gsis:
                args["GlobalSecondaryIndexes"] = [gsi(g) for g in gsis]
            try:
                self.dynamodb.create_table(**args)
                log(f"table {name}: created")
            except ClientError as e:
                if error_code(e) != "ResourceInUseException":  # created concurrently
                    raise
        else:
            if current["KeySchema"] != key_schema(pk, sk):
                raise ClientError(
                    {"Error": {"Code": "KeySchemaMismatch", "Message": f"existing table {name} has key schema "
                               f"{current['KeySchema']}; delete it to recreate it"}}, "DescribeTable")
            existing = {g["IndexName"] for g in current.get("GlobalSecondaryIndexes", [])}
            for g in gsis:
                if g["name"] in existing:
                    continue
                self.wait_table(name)
                self.dynamodb.update_table(
                    TableName=name,
                    AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in attrs.items()],
                    GlobalSecondaryIndexUpdates=[{"Create": gsi(g)}],
                )
                log(f"table {name}: added index {g['name']}")
            log(f"table {name}: exists")

        self.wait_table(name)
        ttl = spec.get("ttl_attribute")
        if ttl:
            desc = self.dynamodb.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
            if desc.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING") or desc.get("AttributeName") != ttl:
                self.dynamodb.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
                )
                log(f"table {name}: TTL on {ttl}")

    def wait_table(self, name: str) -> None:
        self.dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})

    # ------------------------------------------------------------------------------------------------ bus

    def bus(self) -> None:
        name = physical(self.prefix, self.res["event_bus"]["name"])
        try:
            self.events.create_event_bus(Name=name)
            log(f"event bus {name}: created")
        except ClientError as e:
            if error_code(e) != "ResourceAlreadyExistsException":
                raise
            log(f"event bus {name}: exists")

    # ------------------------------------------------------------------------------------------------ kms

    def aliases(self) -> Dict[str, Dict[str, Any]]:
        out: Dict[str, Dict[str, Any]] = {}
        for page in self.kms.get_paginator("list_aliases").paginate():
            for a in page.get("Aliases", []):
                out[a["AliasName"]] = a
        return out

    def key(self, key_id: str, spec: Dict[str, Any]) -> None:
        alias = f"alias/{physical(self.prefix, spec['alias'])}"
        existing = self.aliases().get(alias)
        if existing and existing.get("TargetKeyId"):
            target = existing["TargetKeyId"]
            log(f"kms key {alias}: exists")
        else:
            created = self.kms.create_key(
                Description=spec.get("description", f"{self.prefix} {key_id} key"),
                KeyUsage="ENCRYPT_DECRYPT",
                KeySpec="SYMMETRIC_DEFAULT",
                Tags=[{"TagKey": "hubble:alias", "TagValue": alias}],
            )["KeyMetadata"]
            target = created["KeyId"]
            try:
                self.kms.create_alias(AliasName=alias, TargetKeyId=target)
            except ClientError as e:
                if error_code(e) != "AlreadyExistsException":
                    raise
                # lost a race: keep the key the alias points at, retire ours
                self.kms.schedule_key_deletion(KeyId=target, PendingWindowInDays=7)
                target = self.aliases()[alias]["TargetKeyId"]
            log(f"kms key {alias}: created")
        try:
            if not self.kms.get_key_rotation_status(KeyId=target).get("KeyRotationEnabled"):
                self.kms.enable_key_rotation(KeyId=target)
        except ClientError as e:  # rotation is cosmetic locally
            log(f"kms key {alias}: rotation not enabled ({error_code(e)})")
        self.key_arns[key_id] = self.kms.describe_key(KeyId=target)["KeyMetadata"]["Arn"]

    # ------------------------------------------------------------------------------------------------ sqs

    def ensure_queue(self, name: str, attributes: Dict[str, str]) -> str:
        try:
            url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
            self.sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
            log(f"queue {name}: exists (attributes converged)")
        except ClientError as e:
            if error_code(e) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
                raise
            url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            log(f"queue {name}: created")
        return url

    def queue_arn(self, url: str) -> str:
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def queue(self, key: str, spec: Dict[str, Any]) -> None:
        dlq_url = self.ensure_queue(
            physical(self.prefix, f"{spec['name']}-dlq"),
            {"MessageRetentionPeriod": str(spec["dlq_retention_seconds"]), "SqsManagedSseEnabled": "true"},
        )
        redrive = {"deadLetterTargetArn": self.queue_arn(dlq_url), "maxReceiveCount": str(spec["max_receive_count"])}
        url = self.ensure_queue(
            physical(self.prefix, spec["name"]),
            {
                "VisibilityTimeout": str(spec["visibility_timeout_seconds"]),
                "RedrivePolicy": json.dumps(redrive),
                "SqsManagedSseEnabled": "true",
            },
        )
        self.queue_urls[key] = url
        self.dlq_urls[key] = dlq_url
        self.queue_arns[key] = self.queue_arn(url)

    # ------------------------------------------------------------------------------------------------ scheduler

    def scheduler_role_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/{physical(self.prefix, 'scheduler')}"

    def scheduler_target_queues(self) -> List[str]:
        """Queues schedules send to: the manifest's schedules' and those functions schedule at run time."""
        queues = {s["target_queue"] for s in self.res["schedules"].values()}
        for f in self.res.get("functions", {}).values():
            queues.update(f.get("scheduler_targets", []))
        return sorted(queues)

    def functions_schedule(self) -> bool:
        return any(f.get("scheduler_targets") for f in self.res.get("functions", {}).values())

    def scheduler_role(self) -> None:
        """The role the schedules name. Emulators do not enforce IAM; it exists so the ARN is not dangling."""
        name = physical(self.prefix, "scheduler")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        try:
            self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                                 Description="EventBridge Scheduler -> SQS (local)")
            log(f"iam role {name}: created")
        except ClientError as e:
            if error_code(e) != "EntityAlreadyExists":
                raise
            log(f"iam role {name}: exists")
        targets = sorted({self.queue_arns[q] for q in self.scheduler_target_queues() if q in self.queue_arns})
        if targets:
            policy = {"Version": "2012-10-17",
                      "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": targets}]}
            self.iam.put_role_policy(RoleName=name, PolicyName="send-to-schedule-targets",
                                     PolicyDocument=json.dumps(policy))

    def schedule(self, key: str, spec: Dict[str, Any]) -> None:
        name = physical(self.prefix, key)
        if spec["target_queue"] not in self.queue_arns:
            raise ClientError({"Error": {"Code": "MissingTarget",
                                         "Message": f"queue {spec['target_queue']} was not created"}}, "CreateSchedule")
        args = {
            "Name": name,
            "ScheduleExpression": spec["expression"],
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Target": {
                "Arn": self.queue_arns[spec["target_queue"]],
                "RoleArn": self.scheduler_role_arn(),
                "Input": json.dumps(spec["input"], separators=(",", ":")),
            },
        }
        if spec.get("description"):
            args["Description"] = spec["description"]
        try:
            self.scheduler.get_schedule(Name=name)
            exists = True
        except ClientError as e:
            if error_code(e) != "ResourceNotFoundException":
                raise
            exists = False
        if exists:
            self.scheduler.update_schedule(**args)
            log(f"schedule {name}: exists (updated)")
        else:
            try:
                self.scheduler.create_schedule(**args)
                log(f"schedule {name}: created")
            except ClientError as e:
                if error_code(e) != "ConflictException":
                    raise
                self.scheduler.update_schedule(**args)

    # ------------------------------------------------------------------------------------------------ rules

    def rule(self, key: str, spec: Dict[str, Any]) -> None:
        """put_rule and put_targets are upserts: running again converges."""
        name = physical(self.prefix, key)
        bus = physical(self.prefix, self.res["event_bus"]["name"])
        if spec["target_queue"] not in self.queue_arns:
            raise ClientError({"Error": {"Code": "MissingTarget",
                                         "Message": f"queue {spec['target_queue']} was not created"}}, "PutRule")
        args = {"Name": name, "EventBusName": bus, "EventPattern": json.dumps(spec["pattern"]), "State": "ENABLED"}
        if spec.get("description"):
            args["Description"] = spec["description"]
        self.events.put_rule(**args)
        self.events.put_targets(Rule=name, EventBusName=bus,
                                Targets=[{"Id": spec["target_queue"], "Arn": self.queue_arns[spec["target_queue"]]}])
        log(f"rule {name}: put")

    # ------------------------------------------------------------------------------------------------ s3

    def ensure_bucket(self, name: str) -> None:
        try:
            self.s3.head_bucket(Bucket=name)
            log(f"bucket {name}: exists")
            return
        except ClientError as e:
            if error_code(e) not in ("404", "NoSuchBucket", "NotFound"):
                raise
        args: Dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.s3.create_bucket(**args)
            log(f"bucket {name}: created")
        except ClientError as e:
            if error_code(e) != "BucketAlreadyOwnedByYou":  # created concurrently
                raise

    def bucket(self, key: str, spec: Dict[str, Any]) -> None:
        """The bucket, its lifecycle rules, CORS rule and notifications, with the rule ids local/runner uses. Each put
        replaces the whole configuration, so running again converges instead of piling up."""
        name = physical(self.prefix, spec["name"])
        notifications = spec.get("notifications", [])
        for n in notifications:
            if n["target_queue"] not in self.queue_arns:
                raise ClientError({"Error": {"Code": "MissingTarget",
                                             "Message": f"queue {n['target_queue']} was not created"}}, "CreateBucket")
        self.ensure_bucket(name)
        self.s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": lifecycle_rules(spec)})
        self.s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [CORS_RULE]})
        # S3 checks that it may send to each queue before it accepts the configuration: the queue policies first
        for queue in sorted({n["target_queue"] for n in notifications}):
            self.queue_policy(queue)
        self.s3.put_bucket_notification_configuration(
            Bucket=name,
            NotificationConfiguration={"QueueConfigurations": [
                queue_configuration(n, self.queue_arns[n["target_queue"]]) for n in notifications
            ]},
        )
        log(f"bucket {name}: lifecycle ({len(spec.get('expiration', []))} expirations, multipart abort), CORS, "
            f"{len(notifications)} notification(s)")

    def queue_policy(self, queue: str) -> None:
        """What the CDK app's S3 notifications add to a queue's policy: s3.amazonaws.com may send, for the buckets
        that notify the queue. The policy is set as a whole from resources.json (idempotent)."""
        buckets = sorted(physical(self.prefix, b["name"]) for b in self.res.get("buckets", {}).values()
                         if any(n["target_queue"] == queue for n in b.get("notifications", [])))
        self.sqs.set_queue_attributes(QueueUrl=self.queue_urls[queue],
                                      Attributes={"Policy": json.dumps(s3_queue_policy(self.queue_arns[queue], buckets))})

    # ------------------------------------------------------------------------------------------------ run

    def run(self) -> None:
        for spec in self.res["tables"].values():
            self.step(f"table {spec['name']}", lambda spec=spec: self.table(spec))
        self.step("event bus", self.bus)
        for key, spec in self.res["kms_keys"].items():
            self.step(f"kms key {key}", lambda key=key, spec=spec: self.key(key, spec))
        for key, spec in self.res["queues"].items():
            self.step(f"queue {key}", lambda key=key, spec=spec: self.queue(key, spec))
        if self.res["schedules"] or self.functions_schedule():
            self.step("scheduler role", self.scheduler_role)
        for key, spec in self.res["schedules"].items():
            self.step(f"schedule {key}", lambda key=key, spec=spec: self.schedule(key, spec))
        for key, spec in self.res.get("rules", {}).items():
            self.step(f"rule {key}", lambda key=key, spec=spec: self.rule(key, spec))
        for key, spec in self.res.get("buckets", {}).items():
            self.step(f"bucket {key}", lambda key=key, spec=spec: self.bucket(key, spec))

    def environment(self) -> Dict[str, str]:
        """What CDK puts in a function's environment, for every resource (a function gets a subset)."""
        env = {
            "HUBBLE_RESOURCE_PREFIX": self.prefix,
            self.res["event_bus"]["env"]: physical(self.prefix, self.res["event_bus"]["name"]),
            "HUBBLE_EVENT_SOURCE": self.res["event_bus"]["source"],
        }
        for t in self.res["tables"].values():
            env[t["env"]] = physical(self.prefix, t["name"])
        for b in self.res.get("buckets", {}).values():
            env[b["env"]] = physical(self.prefix, b["name"])
        for key, k in self.res["kms_keys"].items():
            if key in self.key_arns:
                env[k["env"]] = self.key_arns[key]
        for key, q in self.res["queues"].items():
            if key in self.queue_urls:
                env[q["env"]] = self.queue_urls[key]
            if q.get("dlq_env") and key in self.dlq_urls:
                env[q["dlq_env"]] = self.dlq_urls[key]
            # the ARN of a queue functions schedule messages to (functions listing it in scheduler_targets)
            if q.get("arn_env") and key in self.queue_arns:
                env[q["arn_env"]] = self.queue_arns[key]
        if self.functions_schedule():
            # functions with scheduler_targets hand this role to the schedules they create
            env["HUBBLE_SCHEDULER_ROLE_ARN"] = self.scheduler_role_arn()
        return env


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prefix", default=os.environ.get("HUBBLE_RESOURCE_PREFIX") or "hubble")
    p.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL") or "http://localhost:4566")
    p.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")
    p.add_argument("--resources", type=Path, default=None)
    p.add_argument("--account", default=os.environ.get("HUBBLE_ACCOUNT_ID") or "000000000000")
    p.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the endpoint (default 30)")
    p.add_argument("--print-env", action="store_true")
    return p.parse_args(argv)


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    resources_file = args.resources or default_resources_file()
    resources = json.loads(resources_file.read_text(encoding="utf-8"))
    log(f"resources {resources_file}, prefix {args.prefix!r}, endpoint {args.endpoint}, region {args.region}")
    b = Bootstrap(resources, args.prefix, args.endpoint, args.region, args.account)
    try:
        b.wait_for_endpoint(args.wait)
    except Exception as e:  # noqa: BLE001 - report any connection failure plainly
        log(f"ERROR endpoint {args.endpoint} is not reachable: {e}")
        return 1
    b.run()
    if args.print_env:
        for k, v in sorted(b.environment().items()):
            print(f"export {k}={v}")
    if b.errors:
        log(f"failed: {len(b.errors)} error(s)")
        return 1
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
