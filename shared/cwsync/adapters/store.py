"""The sync's memory: one DynamoDB table, single-table design (docs/ARCHITECTURE.md).

| item                | PK                          | SK          |
|---------------------|-----------------------------|-------------|
| task                | TASK#<taskId>               | TASK        |  + GSI1PK/GSI1SK
| applied operation   | TASK#<taskId>               | OP#<opKey>  |  + ttl
| customer link       | CUSTOMER#<mpCustomerId>     | LINK        |
| product link        | PRODUCT#<mpn>               | LINK        |
| subscription link   | SUBSCRIPTION#<subscription> | AGREEMENT   |
| approval            | APPROVAL#<approvalId>       | APPROVAL    |  + ttl
| orders watermark    | WATERMARK                   | ORDERS      |

GSI1 (projection ALL): GSI1PK = `STATUS#<status>`, GSI1SK = `<updatedAt>#<taskId>`.
Every check that must hold under concurrency (task created once, approval decided once,
watermark never moves back, an operation recorded once) is a DynamoDB condition, so two
Lambdas racing each other cannot both win.

Times are stored as ISO 8601 UTC strings of one fixed width (`2026-01-31T10:00:00.000Z`)
so that string order is time order; money is Decimal (DynamoDB Number).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Iterable, Iterator, Mapping

from botocore.config import Config
from botocore.exceptions import ClientError

from cwsync.adapters.dynamo_values import (GSI1, GSI1PK, GSI1SK, KEY_ATTRIBUTES, PK, SK, TTL_ATTRIBUTE,  # noqa: F401
                                          Attr, ConditionBase, Key, Update, Written, conditional_write,
                                          expression_request, format_time, from_attribute_values, parse_time,
                                          to_attribute_values, to_dynamo, to_plain, utc_now, without_keys)
from cwsync.adapters.store_approvals import ApprovalItems
from cwsync.adapters.store_batch import get_many
from cwsync.adapters.store_check import CheckStateItems
from cwsync.adapters.store_links import LinkItems
from cwsync.adapters.store_items import AppliedOperation, CustomerLink, ProductLink, SubscriptionLink, TaskItem
from cwsync.errors import ItemRejected, TaskNotFound
from cwsync.vocabulary import ApprovalStatus, TaskStatus

logger = logging.getLogger(__name__)

TASK_SK = "TASK"
OP_PREFIX = "OP#"
LINK_SK = "LINK"
AGREEMENT_SK = "AGREEMENT"
APPROVAL_SK = "APPROVAL"
WATERMARK_KEY = {PK: "WATERMARK", SK: "ORDERS"}

# Statuses list_tasks() walks when no status is given (GSI1 is partitioned by status).
TASK_STATUSES = tuple(TaskStatus)
APPROVAL_PENDING = ApprovalStatus.PENDING
APPROVAL_DECIDED = ApprovalStatus.DECIDED
APPROVAL_EXPIRED = ApprovalStatus.EXPIRED

APPLIED_TTL = timedelta(days=90)  # long enough for any retry of a task
APPROVAL_TTL_GRACE = timedelta(days=30)  # an expired link still says "expired" for a while

_INTERNAL = KEY_ATTRIBUTES
_serialize, _deserialize = to_attribute_values, from_attribute_values
_public, _now = without_keys, utc_now


def _task_key(task_id: str) -> dict:
    return {PK: f"TASK#{task_id}", SK: TASK_SK}


def _gsi1(status: str, updated_at: str, task_id: str) -> dict:
    return {GSI1PK: f"STATUS#{status}", GSI1SK: f"{updated_at}#{task_id}"}


# --- table ------------------------------------------------------------------------------

def table_definition(name: str) -> dict:
    """`CreateTable` arguments: the same schema infra/template.yaml declares."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": PK, "AttributeType": "S"},
            {"AttributeName": SK, "AttributeType": "S"},
            {"AttributeName": GSI1PK, "AttributeType": "S"},
            {"AttributeName": GSI1SK, "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": PK, "KeyType": "HASH"}, {"AttributeName": SK, "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": GSI1,
            "KeySchema": [{"AttributeName": GSI1PK, "KeyType": "HASH"},
                          {"AttributeName": GSI1SK, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
    }


def create_table(client, name: str) -> None:
    """Create the table (tests, the embedded runtime) with TTL on `ttl`; waits until active."""
    client.create_table(**table_definition(name))
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    client.update_time_to_live(TableName=name,
                               TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE})


# --- store ------------------------------------------------------------------------------

class Store(CheckStateItems, ApprovalItems, LinkItems):
    """All reads and writes of the cwsync table. Thread-safe when given its own client per thread."""

    def __init__(self, table_name: str, *, client=None, resource=None):
        if client is None and resource is not None:
            client = resource.meta.client
        if client is None:
            import boto3  # the one place the store builds its client
            client = boto3.client("dynamodb", config=Config(connect_timeout=3, read_timeout=10,
                                                             retries={"mode": "standard", "max_attempts": 5},
                                                             max_pool_connections=32))
        self.table_name = table_name
        self.client = client

    # -- low level --
    def _get(self, key: Mapping[str, str], *, consistent: bool = True) -> dict | None:
        answer = self.client.get_item(TableName=self.table_name, Key=_serialize(key), ConsistentRead=consistent)
        item = answer.get("Item")
        return _deserialize(item) if item else None

    def _put_new(self, item: Mapping[str, Any]) -> bool:
        """Put only if no item has this key; False when one exists. ItemRejected when the
        table refuses the item itself (too big, or a value DynamoDB cannot hold)."""
        try:
            return conditional_write(self.client.put_item, TableName=self.table_name, Item=_serialize(item),
                                     **expression_request(condition=Attr(PK).not_exists())).applied
        except (TypeError, ValueError) as error:
            raise ItemRejected(f"The item cannot be stored: {error}") from None
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ValidationException":
                raise ItemRejected(f"DynamoDB refused the item: {error.response['Error'].get('Message', '')}") \
                    from None
            raise

    def _put(self, item: Mapping[str, Any]) -> None:
        self.client.put_item(TableName=self.table_name, Item=_serialize(item))

    def _update(self, key: Mapping[str, str], update: Update, *, when: ConditionBase | None = None,
                returns: str = "NONE") -> Written:
        """Apply `update` to the item at `key` if `when` holds (always, without `when`)."""
        return conditional_write(self.client.update_item, TableName=self.table_name, Key=_serialize(key),
                                 ReturnValues=returns, **expression_request(update=update, condition=when))

    def _query(self, key: ConditionBase, **kwargs) -> Iterator[dict]:
        """Every item of a Query on the key condition `key` (boto3's `Key(...)`), page after page."""
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(TableName=self.table_name, **expression_request(key=key), **kwargs):
            for item in page.get("Items", []):
                yield _deserialize(item)

    # -- tasks --
    def create_task(self, task: Mapping[str, Any], *, now: datetime | None = None) -> bool:
        """Store a new task (`taskId` required; status defaults to `new`). False when it exists."""
        task_id = str(task["taskId"])
        at = format_time(now or _now())
        status = str(task.get("status") or TaskStatus.NEW)
        item = dict(task)
        item.update(taskId=task_id, status=status, createdAt=at, updatedAt=at,
                    history=[{"status": status, "at": at, "reason": task.get("reason")}])
        item.update(_task_key(task_id))
        item.update(_gsi1(status, at, task_id))
        return self._put_new(item)

    def get_task(self, task_id: str) -> TaskItem | None:
        item = self._get(_task_key(task_id))
        return _public(item) if item else None

    def update_task(self, task_id: str, status: str, reason: str | None = None, *,
                    expected_status: str | Iterable[str] | None = None, now: datetime | None = None,
                    **attrs: Any) -> TaskItem | None:
        """Move a task to `status`, append {status, at, reason} to its history, set `attrs`.

        Returns the updated task. With `expected_status`, the update happens only while the
        task is in (one of) those statuses and None is returned otherwise (someone else
        moved it). Raises TaskNotFound when there is no such task.
        """
        status = str(status)
        at = format_time(now or _now())
        _check_settable(attrs, "update_task", ("taskId", "status", "history", "updatedAt", "reason"))
        update = Update().set({"status": status, "updatedAt": at, "reason": reason, **_gsi1(status, at, task_id),
                               **attrs}).append("history", [{"status": status, "at": at, "reason": reason}])
        when = Attr(PK).exists()
        if expected_status is not None:
            expected = [expected_status] if isinstance(expected_status, str) else list(expected_status)
            when &= Attr("status").is_in([str(value) for value in expected])
        written = self._update(_task_key(task_id), update, when=when, returns="ALL_NEW")
        if written.applied:
            return _public(written.item)
        if expected_status is not None and self.get_task(task_id) is not None:
            return None
        raise TaskNotFound(f"Task {task_id} does not exist")

    def set_task_attributes(self, task_id: str, **attrs: Any) -> None:
        """Set attributes of an existing task without a status change (no history entry)."""
        if not attrs:
            return
        _check_settable(attrs, "set_task_attributes", ("taskId", "status", "history", "updatedAt"))
        self._update_task(task_id, Update().set(attrs))

    def begin_apply(self, task_id: str, *, now: datetime | None = None) -> bool:
        """Record, before an apply attempt's first ConnectWise write, that applying has begun:
        `applyStartedAt` (this plan's writes began; "Sync again" clears it) and `applyBegunAt` (the
        task's first apply attempt ever; kept, never cleared). True only for the one call that found
        neither: the task's first apply attempt, before which nothing of it can be in ConnectWise.
        One atomic update: of two executions racing, one gets True."""
        at = format_time(now or _now())
        never = Attr("applyBegunAt").not_exists() & (Attr("applyStartedAt").not_exists()
                                                      | Attr("applyStartedAt").attribute_type("NULL"))
        if self._update(_task_key(task_id), Update().set({"applyStartedAt": at, "applyBegunAt": at}),
                        when=Attr(PK).exists() & never).applied:
            return True
        self._update_task(task_id, Update().set({"applyStartedAt": at}).set_missing({"applyBegunAt": at}))
        return False

    def _update_task(self, task_id: str, update: Update, *, returns: str = "NONE") -> dict:
        """Apply `update` to an existing task; TaskNotFound when there is none."""
        written = self._update(_task_key(task_id), update, when=Attr(PK).exists(), returns=returns)
        if not written.applied:
            raise TaskNotFound(f"Task {task_id} does not exist")
        return written.item

    def list_tasks(self, status: str | None = None, *, limit: int | None = None) -> list[TaskItem]:
        """Tasks newest first (by last update); one status via GSI1, else every status merged."""
        statuses = [str(status)] if status else list(TASK_STATUSES)
        found: list[dict] = []
        for one in statuses:
            query = self._query(Key(GSI1PK).eq(f"STATUS#{one}"), IndexName=GSI1, ScanIndexForward=False, **({"Limit": min(limit, 1000)} if limit else {}))
            for count, item in enumerate(query, 1):
                found.append(item)
                if limit and count >= limit:
                    break
        found.sort(key=lambda item: item.get(GSI1SK, ""), reverse=True)
        if limit:
            found = found[:limit]
        return [_public(item) for item in found]

    def known_tasks(self, task_ids: Iterable[str]) -> dict[str, dict]:
        """Which of these tasks exist: {taskId: {status, workflowStartedAt?}} via BatchGetItem."""
        keys = [(_task_key(t)[PK], TASK_SK) for t in dict.fromkeys(str(t) for t in task_ids)]
        found = get_many(self, keys, attributes=("taskId", "status", "workflowStartedAt"))
        return {str(task["taskId"]): task for task in found.values()}

    # -- links (remembered decisions) --
    def get_customer_link(self, customer_id: str) -> CustomerLink | None:
        item = self._get({PK: f"CUSTOMER#{customer_id}", SK: LINK_SK})
        return _public(item) if item else None

    def put_customer_link(self, customer_id: str, company_id: str | int, company_name: str | None = None,
                          **attrs: Any) -> dict:
        item = {**attrs, "customerId": str(customer_id), "companyId": str(company_id),
                "companyName": company_name, "linkedAt": format_time(_now())}
        self._put_link({PK: f"CUSTOMER#{customer_id}", SK: LINK_SK, **item})
        return item

    def get_product_link(self, mpn: str) -> ProductLink | None:
        item = self._get({PK: f"PRODUCT#{mpn}", SK: LINK_SK})
        return _public(item) if item else None

    def put_product_link(self, mpn: str, catalog_item_id: str | int, identifier: str | None = None,
                         **attrs: Any) -> dict:
        item = {**attrs, "mpn": mpn, "catalogItemId": str(catalog_item_id), "identifier": identifier,
                "linkedAt": format_time(_now())}
        self._put_link({PK: f"PRODUCT#{mpn}", SK: LINK_SK, **item})
        return item

    def get_subscription_link(self, subscription_id: str) -> SubscriptionLink | None:
        item = self._get({PK: f"SUBSCRIPTION#{subscription_id}", SK: AGREEMENT_SK})
        return _public(item) if item else None

    def put_subscription_link(self, subscription_id: str, agreement_id: str | int, **attrs: Any) -> dict:
        item = {**attrs, "subscriptionId": str(subscription_id), "agreementId": str(agreement_id),
                "linkedAt": format_time(_now())}
        self._put_link({PK: f"SUBSCRIPTION#{subscription_id}", SK: AGREEMENT_SK, **item})
        return item

    # -- orders watermark --
    def get_watermark(self) -> datetime | None:
        """Creation time of the newest order stored so far (None before the first run)."""
        item = self._get(WATERMARK_KEY)
        return parse_time(item["value"]) if item and item.get("value") else None

    def advance_watermark(self, ts: datetime) -> bool:
        """Move the watermark forward to `ts`; never back (False when it is already at or past)."""
        value = format_time(ts)
        return self._update(WATERMARK_KEY, Update().set({"value": value, "updatedAt": format_time(_now())}),
                            when=Attr("value").not_exists() | Attr("value").lt(value)).applied

    # -- applied operations (idempotent writes to ConnectWise) --
    def get_applied(self, task_id: str, key: str) -> AppliedOperation | None:
        """The record of an applied operation: {taskId, key, result, appliedAt}, or None."""
        item = self._get({PK: f"TASK#{task_id}", SK: f"{OP_PREFIX}{key}"})
        return _public(item) if item else None

    def record_applied(self, task_id: str, key: str, result: Mapping[str, Any] | None = None, *,
                       now: datetime | None = None) -> bool:
        """Record that an operation was applied; the first record wins (False for a second one)."""
        at = now or _now()
        return self._put_new({PK: f"TASK#{task_id}", SK: f"{OP_PREFIX}{key}", "taskId": str(task_id),
                              "key": key, "result": result or {}, "appliedAt": format_time(at),
                              TTL_ATTRIBUTE: int((at + APPLIED_TTL).timestamp())})

    def list_applied(self, task_id: str) -> list[AppliedOperation]:
        """Every applied-operation record of a task, by key."""
        return [_public(item) for item in self._query(
            Key(PK).eq(f"TASK#{task_id}") & Key(SK).begins_with(OP_PREFIX), ConsistentRead=True)]

    # -- check runs and approvals per task (the operator's dashboard) --
    def record_check(self, at: datetime, source: str, summary: str, counts: Mapping[str, Any],
                     digest: list[str] | None = None) -> None:
        """The latest check (and the latest scheduled one): when, started how, what it found, and
        the tasks its digest listed."""
        item = {"at": format_time(at), "source": source, "summary": summary, "counts": dict(counts),
                "digest": list(digest or [])}
        self._put({PK: "CHECK", SK: "LAST", **item})
        if source == "schedule":
            self._put({PK: "CHECK", SK: "LAST_SCHEDULED", **item})

    def last_checks(self) -> dict[str, dict]:
        """{"last": {...}, "lastScheduled": {...}} (keys absent before the first check)."""
        found = {}
        for key, sk in (("last", "LAST"), ("lastScheduled", "LAST_SCHEDULED")):
            item = self._get({PK: "CHECK", SK: sk})
            if item:
                found[key] = _public(item)
        return found

    def add_task_notification(self, task_id: str, entry: Mapping[str, Any]) -> None:
        """Append {at, subject} to the task's `notifications` (what its page lists as sent)."""
        self._update_task(task_id, Update().append("notifications", [dict(entry)]))

    # -- attempts (a task's execution started again; re-bound approvals: store_approvals) --
    def next_attempt(self, task_id: str) -> int:
        """Count one more attempt at syncing the task (the first is 1); returns the new number."""
        counted = self._update_task(task_id, Update().increment("attempt", missing=1), returns="UPDATED_NEW")
        return int(counted["attempt"])


def _check_settable(attrs: Mapping[str, Any], method: str, own: tuple[str, ...]) -> None:
    """Table keys and the fields a method sets itself cannot be passed as attributes."""
    for name in attrs:
        if name in _INTERNAL or name in own:
            raise ValueError(f"{method} cannot set {name!r} directly")
