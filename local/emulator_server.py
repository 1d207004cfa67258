"""The local AWS emulator: moto's server, started as `moto_server` starts it, with two changes to DynamoDB.

1. moto serves requests on many threads and its DynamoDB backend does not lock: two TransactWriteItems racing on
   the same key can both pass their conditions and both commit, which real DynamoDB never allows (it serialises
   conflicting transactions). The platform relies on that guarantee for unique values, versions and single-use
   items, and its tests prove it, so DynamoDB requests are served one at a time here. Other services keep their
   threads (SQS long polls must not block everything else).
2. Before each TransactWriteItems, moto deep-copies every table the transaction touches (once per action), to roll
   back on failure. That makes each write cost as much as the table is large: creates slowed to seconds and memory
   grew by gigabytes after a few hundred records. Here the transaction instead snapshots only the items it touches
   and restores those on failure, which is the same rollback at the cost of the transaction's own size.

Both changes are covered by the end-to-end tests (concurrent unique creates, rejected transactions that must leave
nothing behind). moto is pinned in requirements.txt; the patch checks the version it was written for.
"""

import argparse
import json
import copy
import os
import signal
import sys
import threading

import moto
import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

PATCHED_FOR = "5.2.5"


class _CopyWithoutTables:
    """Stands in for the `copy` module inside moto's DynamoDB backend: tables are not copied, all else is."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _touched_items(backend, transact_items):
    """(table, key, attributes before or None) of every item a transaction may change."""
    touched = []
    for action in transact_items:
        op_type, op = next(iter(action.items()))
        table_name = op.get("TableName")
        if op_type == "ConditionCheck" or table_name not in backend.tables:
            continue
        table = backend.tables[table_name]
        if op_type == "Put":
            attrs = op.get("Item", {})
            key = {k: attrs[k] for k in (table.hash_key_attr, table.range_key_attr) if k and k in attrs}
        else:
            key = op.get("Key")
        if not key:
            continue
        try:
            current = backend.get_item(table_name, key)
        except Exception:  # a malformed key: moto reports it while running the transaction
            continue
        touched.append((table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
    return touched


def patch_transactions():
    if moto.__version__ != PATCHED_FOR:
        sys.exit(f"emulator_server.py patches moto {PATCHED_FOR}, found {moto.__version__}: review the patch")
    dynamodb_models.copy = _CopyWithoutTables()
    original = dynamodb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        before = _touched_items(self, transact_items)
        try:
            return original(self, transact_items)
        except Exception:
            for table_name, key, attrs in reversed(before):
                if attrs is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attrs)
            raise

    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items


def patch_sqs_clock():
    """moto's SQS asks the time through datetime arithmetic for every message it looks at (each send and receive
    walks the whole queue to count visible messages), which dominates the emulator's CPU once a queue holds a few
    thousand events (a large import's record events on their way to webhook fan-out). The same clock, from
    time.time()."""
    import time

    from moto.sqs import models as sqs_models

    original, original_millis = sqs_models.unix_time, sqs_models.unix_time_millis

    def unix_time(dt=None):
        return time.time() if dt is None else original(dt)

    def unix_time_millis(dt=None):
        return time.time() * 1000.0 if dt is None else original_millis(dt)

    sqs_models.unix_time = unix_time
    sqs_models.unix_time_millis = unix_time_millis

    # Every send and receive reads one static attribute (ContentBasedDeduplication, MessageRetentionPeriod — the
    # latter once per message received) through `Queue.attributes`, which counts the queue's messages each time:
    # quadratic work per receive. The counts are computed only when someone asks for them.
    from collections.abc import Mapping

    from moto.core.utils import camelcase_to_underscores

    class LazyAttributes(Mapping):
        def __init__(self, queue):
            self.queue = queue
            self.names = list(queue.BASE_ATTRIBUTES)
            if queue.fifo_queue:
                self.names += queue.FIFO_ATTRIBUTES
            if queue.kms_master_key_id:
                self.names += queue.KMS_ATTRIBUTES
            self.extra = {}
            if queue.policy:
                self.extra["Policy"] = queue.policy
            if queue.redrive_policy:
                self.extra["RedrivePolicy"] = json.dumps(queue.redrive_policy)

        def __getitem__(self, name):
            if name in self.extra:
                return self.extra[name]
            if name not in self.names:
                raise KeyError(name)
            value = getattr(self.queue, camelcase_to_underscores(name))
            return str(value).lower() if isinstance(value, bool) else value

        def __iter__(self):
            return iter(self.names + list(self.extra))

        def __len__(self):
            return len(self.names) + len(self.extra)

    sqs_models.Queue.attributes = property(LazyAttributes)


def patch_event_paths():
    """moto's EventBridge builds a JSONPath parser (a PLY grammar) for every path of every event it sends to a rule
    target; the paths are the same few each time, so each is parsed once."""
    import functools

    import jsonpath_ng.ext

    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


def patch_sqs_deletes():
    """moto's SQS deletes a message by walking the whole queue twice, building a list of every message's receipt
    handles at each step, and DeleteMessageBatch does that once per entry: under a large import the fan-out queue
    holds thousands of events, and deleting each batch of ten cost more than anything else the emulator did. Here a
    batch walks the queue once, comparing handles without building lists. The answers are the ones the entries
    would get deleted one after another: a handle already deleted succeeds, a handle some message in the queue ever
    had deletes that message (and retires all its handles), any other handle is invalid."""
    from moto.sqs import models as sqs_models
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    def delete_messages(queue, handles):
        """Deletes as `delete_message` would for each handle in turn; the set of handles that were invalid."""
        wanted = {h for h in handles if h not in queue.deleted_messages}
        owners = {}
        if wanted:
            for message in queue._messages:
                if message.receipt_handle in wanted or (
                    message._old_receipt_handles and not wanted.isdisjoint(message._old_receipt_handles)
                ):
                    for h in message.all_receipt_handles:
                        if h in wanted:
                            owners[h] = message
        invalid = set()
        removed = set()
        for h in handles:
            if h in queue.deleted_messages:
                continue
            message = owners.get(h)
            if message is None:
                invalid.add(h)
                continue
            queue.pending_messages.discard(message)
            queue.deleted_messages.update(message.all_receipt_handles)
            removed.add(id(message))
        if removed:
            queue._messages = [m for m in queue._messages if id(m) not in removed]
        return invalid

    def delete_message(self, receipt_handle):
        if delete_messages(self, [receipt_handle]):
            raise ReceiptHandleIsInvalid()

    def delete_message_batch(self, queue_name, receipts):
        invalid = delete_messages(self.get_queue(queue_name), [r["ReceiptHandle"] for r in receipts])
        success, errors = [], []
        for r in receipts:
            if r["ReceiptHandle"] not in invalid:
                success.append(r["Id"])
            else:
                errors.append(
                    {
                        "Id": r["Id"],
                        "SenderFault": True,
                        "Code": "ReceiptHandleIsInvalid",
                        "Message": f'The input receipt handle "{r["ReceiptHandle"]}" is not a valid receipt handle.',
                    }
                )
        return success, errors

    sqs_models.Queue.delete_message = delete_message
    sqs_models.SQSBackend.delete_message_batch = delete_message_batch

    # Every receive lists the queue's visible messages, asking the clock twice per message; one reading of the
    # clock per listing decides the same.
    def messages(self):
        now = sqs_models.unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    sqs_models.Queue.messages = property(messages)


def patch_request_overhead():
    """Two costs moto pays on every request for answers that never change while it runs: the list of its service
    modules (a directory listing with a stat per entry, to recognise a host name) and the method names of the
    handler class (inspect.getmembers, to check that the action exists). Each is computed once."""
    import functools

    from moto import backends
    from moto.core import responses

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    responses.method_names_from_class = functools.lru_cache(maxsize=None)(responses.method_names_from_class)


def patch_query_order():
    """moto answers every Query by sorting all items of the table by key and then keeping those that match. The
    outbox relay queries the data table's outbox index every minute, four shards at a time, so after a large
    import each query sorted hundreds of thousands of items while every other DynamoDB request waited. The answer
    does not depend on that first order: a table query keeps one partition, whose items are then sorted by their
    unique range key, and an index query sorts what it keeps by the index keys followed by the table keys, a total
    order. So within Query the items are walked unsorted and only the matches are sorted."""
    from moto.dynamodb.models.table import Table

    local = threading.local()
    original_all_items, original_query = Table.all_items, Table.query

    def all_items(self):
        if getattr(local, "unsorted", False):
            if self.range_key_attr:
                return [item for hash_set in self.items.values() for item in hash_set.values()]
            return list(self.items.values())
        return original_all_items(self)

    def query(self, *args, **kwargs):
        local.unsorted = True
        try:
            return original_query(self, *args, **kwargs)
        finally:
            local.unsorted = False

    Table.all_items = all_items
    Table.query = query


class SerialiseDynamoDB:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                # Produce the whole response inside the lock: the work happens while it is produced.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


class KeepFormEncodedUploads:
    """S3 stores a PUT body whatever its Content-Type, but werkzeug consumes an `application/x-www-form-urlencoded`
    body as form fields before moto sees it, so `curl --data-binary @file <presigned URL>` (curl's default type)
    would store an empty object. Such uploads reach moto as `application/octet-stream` instead."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "PUT" and environ.get("CONTENT_TYPE", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            environ["CONTENT_TYPE"] = "application/octet-stream"
        return self.app(environ, start_response)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    patch_transactions()
    patch_sqs_clock()
    patch_event_paths()
    patch_sqs_deletes()
    patch_request_overhead()
    patch_query_order()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, KeepFormEncodedUploads(SerialiseDynamoDB(app)), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
