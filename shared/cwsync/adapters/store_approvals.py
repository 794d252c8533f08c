"""The approval items of the cwsync table (mixed into `cwsync.adapters.store.Store`).

| item     | PK                    | SK       |
|----------|-----------------------|----------|
| approval | APPROVAL#<approvalId> | APPROVAL |  + ttl = expiry + 30 days

An approval is decided once (a DynamoDB condition), and never after it expired.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from cwsync.adapters.dynamo_values import (PK, SK, TTL_ATTRIBUTE, Attr, Update, expression_request, format_time,
                                          from_attribute_values as _deserialize, parse_time, utc_now as _now,
                                          without_keys as _public)
from cwsync.adapters.store_items import ApprovalItem
from cwsync.vocabulary import ApprovalStatus

APPROVAL_SK = "APPROVAL"
APPROVAL_PENDING = ApprovalStatus.PENDING
APPROVAL_DECIDED = ApprovalStatus.DECIDED
APPROVAL_EXPIRED = ApprovalStatus.EXPIRED
APPROVAL_TTL_GRACE = timedelta(days=30)  # an expired link still says "expired" for a while


def _approval_key(approval_id: str) -> dict:
    return {PK: f"APPROVAL#{approval_id}", SK: APPROVAL_SK}


class ApprovalItems:
    """Needs the store's `client`, `table_name`, `_get`, `_put_new` and `_update`."""

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
        item.update({**_approval_key(approval_id), "approvalId": approval_id,
                     "status": approval.get("status") or APPROVAL_PENDING,
                     "expiresAt": format_time(expires_at), "createdAt": format_time(_now()),
                     TTL_ATTRIBUTE: int((expires_at + APPROVAL_TTL_GRACE).timestamp())})
        return self._put_new(item)

    def get_approval(self, approval_id: str) -> ApprovalItem | None:
        item = self._get(_approval_key(approval_id))
        return _public(item) if item else None

    def decide_approval(self, approval_id: str, decision: Mapping[str, Any] | str, *,
                        now: datetime | None = None) -> bool:
        """`pending → decided`, once; False when already decided, expired or unknown."""
        at = format_time(now or _now())
        return self._update(_approval_key(approval_id),
                            Update().set({"status": APPROVAL_DECIDED, "decision": decision, "decidedAt": at}),
                            when=Attr(PK).exists() & Attr("status").eq(APPROVAL_PENDING) & Attr("expiresAt").gt(at)
                            ).applied

    def settle_decided_approval(self, approval_id: str, status: str) -> bool:
        """After a decision Step Functions did not take: `decided → expired` (the task stopped
        waiting) or `decided → pending` (not delivered; the approver may decide again)."""
        if status not in (APPROVAL_PENDING, APPROVAL_EXPIRED):
            raise ValueError(f"an approval cannot go back to {status!r}")
        update = Update().set({"status": status})
        if status == APPROVAL_PENDING:
            update.remove("decision", "decidedAt")
        return self._update(_approval_key(approval_id), update, when=Attr("status").eq(APPROVAL_DECIDED)).applied

    def rebind_approval(self, approval_id: str, token: str, *, execution_name: str | None = None) -> bool:
        """Point an open approval (pending, or decided with the decision not yet taken by an
        execution) at a new task token and execution; False when it is neither."""
        return self._update(_approval_key(approval_id),
                            Update().set({"token": token, "reboundAt": format_time(_now()),
                                          "executionName": execution_name}),
                            when=Attr("status").is_in([APPROVAL_PENDING, APPROVAL_DECIDED])).applied

    def list_approvals(self, *, task_id: str | None = None, status: str | None = None) -> list[dict]:
        """Approval items, newest first (a filtered scan: approvals are few and expire by TTL)."""
        wanted = Attr(PK).begins_with("APPROVAL#")
        if task_id is not None:
            wanted &= Attr("taskId").eq(str(task_id))
        if status is not None:
            wanted &= Attr("status").eq(status)
        found: list[dict] = []
        kwargs = {"TableName": self.table_name, **expression_request(filter=wanted)}
        while True:
            answer = self.client.scan(**kwargs)
            found.extend(_public(_deserialize(item)) for item in answer.get("Items", []))
            if not answer.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        found.sort(key=lambda a: str(a.get("createdAt") or ""), reverse=True)
        return found
