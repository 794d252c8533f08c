"""StorePort in memory, with the real store's rules: a task is created once and keeps a
history; `expected_status` guards an update; an approval is decided once and not after it
expired; the first record of an applied operation wins; the watermark never moves back.

Values go through `cwsync.adapters.store`'s own DynamoDB conversion on the way in and out,
so steps see exactly the types DynamoDB gives back (numbers as `Decimal`, times as text).
"""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from cwsync.adapters.store import format_time, from_attribute_values, parse_time, to_attribute_values
from cwsync.errors import TaskNotFound
from cwsync.vocabulary import ApprovalStatus, LinkAction, LinkKind, TaskStatus

_FIXED = ("taskId", "status", "history", "updatedAt")


def _stored(item: Mapping[str, Any]) -> dict:
    return from_attribute_values(to_attribute_values(item))


class FakeStore:
    def __init__(self, clock=None):
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.tasks: dict[str, dict] = {}
        self.links: dict[tuple[str, str], dict] = {}
        self.undone: dict[tuple[str, str], dict] = {}
        self.audit: list[dict] = []
        self.approvals: dict[str, dict] = {}
        self.applied: dict[tuple[str, str], dict] = {}
        self.watermark: str | None = None
        self.checkpoint: dict | None = None
        self.starts: dict[str, dict] = {}  # "starts under way" items by key
        self.checks: dict[str, dict] = {}

    def _at(self, now: datetime | None) -> str:
        return format_time(now or self.clock())

    # -- tasks --
    def create_task(self, task, *, now=None):
        task_id = str(task["taskId"])
        if task_id in self.tasks:
            return False
        at, status = self._at(now), str(task.get("status") or TaskStatus.NEW)
        self.tasks[task_id] = _stored({**task, "taskId": task_id, "status": status, "createdAt": at, "updatedAt": at,
                                       "history": [{"status": status, "at": at, "reason": task.get("reason")}]})
        return True

    def get_task(self, task_id):
        task = self.tasks.get(str(task_id))
        return copy.deepcopy(task) if task is not None else None

    def update_task(self, task_id, status, reason=None, *, expected_status=None, now=None, **attrs):
        task = self.tasks.get(str(task_id))
        if task is None:
            raise TaskNotFound(f"Task {task_id} does not exist")
        if expected_status is not None:
            expected = [expected_status] if isinstance(expected_status, str) else list(expected_status)
            if task["status"] not in {str(s) for s in expected}:
                return None
        for name in attrs:
            if name in _FIXED or name == "reason":
                raise ValueError(f"update_task cannot set {name!r} directly")
        at = self._at(now)
        entry = {"status": str(status), "at": at, "reason": reason}
        task.update(_stored({**attrs, "status": str(status), "updatedAt": at, "reason": reason}))
        task["history"] = task.get("history", []) + [_stored(entry)]
        return copy.deepcopy(task)

    def set_task_attributes(self, task_id, **attrs):
        if not attrs:
            return
        task = self.tasks.get(str(task_id))
        if task is None:
            raise TaskNotFound(f"Task {task_id} does not exist")
        for name in attrs:
            if name in _FIXED:
                raise ValueError(f"set_task_attributes cannot set {name!r} directly")
        task.update(_stored(attrs))

    def begin_apply(self, task_id, *, now=None):
        task = self.tasks.get(str(task_id))
        if task is None:
            raise TaskNotFound(f"Task {task_id} does not exist")
        first = not (task.get("applyStartedAt") or task.get("applyBegunAt"))
        at = self._at(now)
        task["applyStartedAt"] = at
        task["applyBegunAt"] = task.get("applyBegunAt") or at
        return first

    def add_task_notification(self, task_id, entry):
        task = self.tasks.get(str(task_id))
        if task is None:
            raise TaskNotFound(f"Task {task_id} does not exist")
        task["notifications"] = task.get("notifications", []) + [_stored(dict(entry))]

    def next_attempt(self, task_id):
        task = self.tasks.get(str(task_id))
        if task is None:
            raise TaskNotFound(f"Task {task_id} does not exist")
        task["attempt"] = int(task.get("attempt") or 1) + 1
        return task["attempt"]

    def list_tasks(self, status=None, *, limit=None):
        found = [t for t in self.tasks.values() if status is None or t["status"] == str(status)]
        found.sort(key=lambda t: (t["updatedAt"], t["taskId"]), reverse=True)
        return copy.deepcopy(found[:limit] if limit else found)

    def known_tasks(self, task_ids: Iterable[str]):
        return {t: {k: v for k, v in self.tasks[t].items() if k in ("taskId", "status", "workflowStartedAt")}
                for t in (str(i) for i in task_ids) if t in self.tasks}

    # -- links --
    def _link(self, kind, key):
        link = self.links.get((kind, str(key)))
        return copy.deepcopy(link) if link is not None else None

    def _put_link(self, kind, key, item):
        item = {**item, "linkedAt": format_time(self.clock())}
        self.links[(kind, str(key))] = _stored(item)
        self.undone.pop((str(LinkKind(kind)), str(key)), None)  # the link made again clears its Undo
        return item

    def get_customer_link(self, customer_id):
        return self._link(LinkKind.CUSTOMER, customer_id)

    def put_customer_link(self, customer_id, company_id, company_name=None, **attrs):
        return self._put_link(LinkKind.CUSTOMER, customer_id, {**attrs, "customerId": str(customer_id),
                                                        "companyId": str(company_id), "companyName": company_name})

    def get_product_link(self, mpn):
        return self._link(LinkKind.PRODUCT, mpn)

    def put_product_link(self, mpn, catalog_item_id, identifier=None, **attrs):
        return self._put_link(LinkKind.PRODUCT, mpn, {**attrs, "mpn": mpn, "catalogItemId": str(catalog_item_id),
                                               "identifier": identifier})

    def get_subscription_link(self, subscription_id):
        return self._link(LinkKind.SUBSCRIPTION, subscription_id)

    def put_subscription_link(self, subscription_id, agreement_id, **attrs):
        return self._put_link(LinkKind.SUBSCRIPTION, subscription_id, {**attrs, "subscriptionId": str(subscription_id),
                                                                "agreementId": str(agreement_id)})

    # -- the Links page --
    def list_links(self):
        found = [{**copy.deepcopy(link), "kind": LinkKind(kind), "key": key} for (kind, key), link in self.links.items()]
        found.sort(key=lambda link: (str(link.get("linkedAt") or ""), link["key"]), reverse=True)
        return found

    def get_link(self, kind, key):
        link = self._link(str(LinkKind(kind)), key)
        return {**link, "kind": LinkKind(kind), "key": str(key)} if link else None

    def link_undone(self, kind, key):
        return copy.deepcopy(self.undone.get((str(LinkKind(kind)), str(key))))

    def _current(self, kind, key, linked_at):
        link = self.links.get((str(LinkKind(kind)), str(key)))
        if link is None or (linked_at is not None and link.get("linkedAt") != linked_at):
            return None
        return link

    def _audit(self, kind, key, action, who, reason, link, at):
        self.audit.append(_stored({"kind": str(kind), "key": str(key), "action": str(action), "by": who, "at": at,
                                   "reason": reason, "link": copy.deepcopy(link)}))

    def confirm_link(self, kind, key, who, *, linked_at, now=None):
        link = self._current(kind, key, linked_at)
        if link is None:
            return None
        at = self._at(now)
        self._audit(kind, key, LinkAction.CONFIRM, who, None, link, at)
        link.update(reviewedBy=who, reviewedAt=at)
        return {**copy.deepcopy(link), "kind": LinkKind(kind), "key": str(key)}

    def undo_link(self, kind, key, who, reason, *, linked_at, now=None):
        link = self._current(kind, key, linked_at)
        if link is None:
            return None
        at = self._at(now)
        self._audit(kind, key, LinkAction.UNDO, who, reason, link, at)
        del self.links[(str(LinkKind(kind)), str(key))]
        self.undone[(str(LinkKind(kind)), str(key))] = _stored({"kind": str(kind), "key": str(key), "by": who,
                                                                "at": at, "reason": reason, "link": link})
        return {**copy.deepcopy(link), "kind": LinkKind(kind), "key": str(key)}

    def refresh_product_snapshot(self, mpn, *, linked_at, catalogItem=None, snapshotAt=None):  # noqa: N803
        link = self._current(LinkKind.PRODUCT, mpn, linked_at) if linked_at is not None else None
        if link is None or not catalogItem:
            return False
        link.update(_stored({"catalogItem": catalogItem, "snapshotAt": snapshotAt}))
        return True

    def link_audit(self, *, limit=200):
        return copy.deepcopy(sorted(self.audit, key=lambda e: e["at"], reverse=True)[:limit])

    # -- approvals --
    def put_approval(self, approval):
        approval_id = str(approval["approvalId"])
        if approval_id in self.approvals:
            return False
        expires = approval["expiresAt"]
        self.approvals[approval_id] = _stored({
            **approval, "approvalId": approval_id, "status": approval.get("status") or ApprovalStatus.PENDING,
            "expiresAt": format_time(parse_time(expires) if isinstance(expires, str) else expires),
            "createdAt": format_time(self.clock())})
        return True

    def get_approval(self, approval_id):
        approval = self.approvals.get(str(approval_id))
        return copy.deepcopy(approval) if approval is not None else None

    def list_approvals(self, *, task_id=None, status=None):
        found = [a for a in self.approvals.values() if (status is None or a.get("status") == status)
                 and (task_id is None or str(a.get("taskId")) == str(task_id))]
        return copy.deepcopy(sorted(found, key=lambda a: str(a.get("createdAt", "")), reverse=True))

    def decide_approval(self, approval_id, decision, *, now=None):
        approval, at = self.approvals.get(str(approval_id)), self._at(now)
        if approval is None or approval["status"] != ApprovalStatus.PENDING or not approval["expiresAt"] > at:
            return False
        approval.update(_stored({"status": ApprovalStatus.DECIDED, "decision": decision, "decidedAt": at}))
        return True

    def settle_decided_approval(self, approval_id, status):
        if status not in (ApprovalStatus.PENDING, ApprovalStatus.EXPIRED):
            raise ValueError(f"an approval cannot go back to {status!r}")
        approval = self.approvals.get(str(approval_id))
        if approval is None or approval["status"] != ApprovalStatus.DECIDED:
            return False
        approval["status"] = str(status)
        if status == ApprovalStatus.PENDING:
            approval.pop("decision", None)
            approval.pop("decidedAt", None)
        return True

    def rebind_approval(self, approval_id, token, *, execution_name=None):
        approval = self.approvals.get(str(approval_id))
        if approval is None or approval["status"] not in (ApprovalStatus.PENDING, ApprovalStatus.DECIDED):
            return False
        approval.update(token=token, reboundAt=format_time(self.clock()), executionName=execution_name)
        return True

    # -- applied writes --
    def get_applied(self, task_id, key):
        record = self.applied.get((str(task_id), key))
        return copy.deepcopy(record) if record is not None else None

    def record_applied(self, task_id, key, result=None, *, now=None):
        if (str(task_id), key) in self.applied:
            return False
        self.applied[(str(task_id), key)] = _stored({"taskId": str(task_id), "key": key, "result": result or {},
                                                     "appliedAt": self._at(now)})
        return True

    def list_applied(self, task_id):
        return copy.deepcopy([r for (t, _), r in sorted(self.applied.items()) if t == str(task_id)])

    # -- watermark and checkpoint --
    def get_watermark(self):
        return parse_time(self.watermark) if self.watermark else None

    def advance_watermark(self, ts):
        value = format_time(ts)
        if self.watermark is not None and not self.watermark < value:
            return False
        self.watermark = value
        return True

    def check_state(self):
        return self.watermark, copy.deepcopy(self.checkpoint)

    def check_items(self):
        return self.watermark, copy.deepcopy(self.checkpoint), [
            {"key": key, **copy.deepcopy(item)} for key, item in sorted(self.starts.items())]

    def begin_starts(self, key, task_ids, at):
        self.starts[key] = _stored({"taskIds": list(task_ids), "at": at})

    def end_starts(self, key):
        self.starts.pop(key, None)

    def save_checkpoint(self, checkpoint):
        self.checkpoint = _stored(checkpoint)

    def clear_checkpoint(self, window_to):
        if self.checkpoint is None or self.checkpoint.get("windowTo") != window_to:
            return False
        self.checkpoint = None
        return True

    # -- check runs --
    def record_check(self, at, source, summary, counts, digest=None):
        item = _stored({"at": format_time(at), "source": source, "summary": summary, "counts": dict(counts),
                        "digest": list(digest or [])})
        self.checks["last"] = item
        if source == "schedule":
            self.checks["lastScheduled"] = copy.deepcopy(item)

    def last_checks(self):
        return copy.deepcopy(self.checks)
