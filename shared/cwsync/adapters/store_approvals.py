"""The approval items of the cwsync table (mixed into `cwsync.adapters.store.Store`).

| item     | PK                    | SK       |
|----------|-----------------------|----------|
| approval | APPROVAL#<approvalId> | APPROVAL |  + ttl = expiry + 30 days

An approval is decided once (a DynamoDB condition), and never after it expired.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from botocore.exceptions import ClientError

from cwsync.adapters.dynamo_values import (PK, SK, TTL_ATTRIBUTE, condition_failed as _condition_failed,
                                          format_time, from_attribute_values as _deserialize, parse_time,
                                          to_attribute_values as _serialize, utc_now as _now,
                                          without_keys as _public)
from cwsync.adapters.store_items import ApprovalItem
from cwsync.vocabulary import ApprovalStatus

APPROVAL_SK = "APPROVAL"
APPROVAL_PENDING = ApprovalStatus.PENDING
APPROVAL_DECIDED = ApprovalStatus.DECIDED
APPROVAL_EXPIRED = ApprovalStatus.EXPIRED
APPROVAL_TTL_GRACE = timedelta(days=30)  # an expired link still says "expired" for a while


class ApprovalItems:
    """Needs the store's `client`, `table_name`, `_get` and `_put_new`."""

    client: Any
    table_name: str

    def put_approval(self, approval: Mapping[str, Any]) -> bool:
        """Store a new approval (`approvalId`, `expiresAt` required; status `pending`).

        `ttl` is set to expiry + 30 days so an old link still finds "expired" for a while.
        False when an approval with this id exists already.
        """
        approval_id = str(approval["approvalId"])
        expires = approval["expiresAt"]
        expires_at = parse_time(expires) if isinstance(expires, str) else expires
        item = dict(approval)
        item.update({PK: f"APPROVAL#{approval_id}", SK: APPROVAL_SK, "approvalId": approval_id,
                     "status": approval.get("status") or APPROVAL_PENDING,
                     "expiresAt": format_time(expires_at), "createdAt": format_time(_now()),
                     TTL_ATTRIBUTE: int((expires_at + APPROVAL_TTL_GRACE).timestamp())})
        return self._put_new(item)

    def get_approval(self, approval_id: str) -> ApprovalItem | None:
        item = self._get({PK: f"APPROVAL#{approval_id}", SK: APPROVAL_SK})
        return _public(item) if item else None

    def decide_approval(self, approval_id: str, decision: Mapping[str, Any] | str, *,
                        now: datetime | None = None) -> bool:
        """`pending → decided`, once; False when already decided, expired or unknown."""
        at = format_time(now or _now())
        try:
            self.client.update_item(
                TableName=self.table_name, Key=_serialize({PK: f"APPROVAL#{approval_id}", SK: APPROVAL_SK}),
                UpdateExpression="SET #status = :decided, #decision = :decision, #decidedAt = :at",
                ConditionExpression="attribute_exists(PK) AND #status = :pending AND #expiresAt > :at",
                ExpressionAttributeNames={"#status": "status", "#decision": "decision",
                                          "#decidedAt": "decidedAt", "#expiresAt": "expiresAt"},
                ExpressionAttributeValues=_serialize({":decided": APPROVAL_DECIDED, ":pending": APPROVAL_PENDING,
                                                      ":decision": decision, ":at": at}))
            return True
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise

    def settle_decided_approval(self, approval_id: str, status: str) -> bool:
        """After a decision Step Functions did not take: `decided → expired` (the task stopped
        waiting) or `decided → pending` (not delivered; the approver may decide again)."""
        if status not in (APPROVAL_PENDING, APPROVAL_EXPIRED):
            raise ValueError(f"an approval cannot go back to {status!r}")
        remove = " REMOVE #decision, #decidedAt" if status == APPROVAL_PENDING else ""
        try:
            self.client.update_item(
                TableName=self.table_name, Key=_serialize({PK: f"APPROVAL#{approval_id}", SK: APPROVAL_SK}),
                UpdateExpression="SET #status = :status" + remove,
                ConditionExpression="#status = :decided",
                ExpressionAttributeNames={"#status": "status",
                                          **({"#decision": "decision", "#decidedAt": "decidedAt"} if remove else {})},
                ExpressionAttributeValues=_serialize({":status": status, ":decided": APPROVAL_DECIDED}))
            return True
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise

    def rebind_approval(self, approval_id: str, token: str, *, execution_name: str | None = None) -> bool:
        """Point an open approval (pending, or decided with the decision not yet taken by an
        execution) at a new task token and execution; False when it is neither."""
        try:
            self.client.update_item(
                TableName=self.table_name, Key=_serialize({PK: f"APPROVAL#{approval_id}", SK: APPROVAL_SK}),
                UpdateExpression="SET #token = :token, #reboundAt = :at, #execution = :execution",
                ConditionExpression="#status IN (:pending, :decided)",
                ExpressionAttributeNames={"#status": "status", "#token": "token", "#reboundAt": "reboundAt",
                                          "#execution": "executionName"},
                ExpressionAttributeValues=_serialize({":token": token, ":pending": APPROVAL_PENDING,
                                                      ":decided": APPROVAL_DECIDED, ":at": format_time(_now()),
                                                      ":execution": execution_name}))
            return True
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise

    def list_approvals(self, *, task_id: str | None = None, status: str | None = None) -> list[dict]:
        """Approval items, newest first (a filtered scan: approvals are few and expire by TTL)."""
        names, values = {"#pk": PK}, {":p": "APPROVAL#"}
        expression = "begins_with(#pk, :p)"
        if task_id is not None:
            names["#task"], values[":t"] = "taskId", str(task_id)
            expression += " AND #task = :t"
        if status is not None:
            names["#status"], values[":s"] = "status", status
            expression += " AND #status = :s"
        found: list[dict] = []
        kwargs = {"TableName": self.table_name, "FilterExpression": expression,
                  "ExpressionAttributeNames": names, "ExpressionAttributeValues": _serialize(values)}
        while True:
            answer = self.client.scan(**kwargs)
            found.extend(_public(_deserialize(item)) for item in answer.get("Items", []))
            if not answer.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        found.sort(key=lambda a: str(a.get("createdAt") or ""), reverse=True)
        return found
