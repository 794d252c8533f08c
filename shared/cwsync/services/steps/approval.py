"""RequestApproval: store the question with its task token, mark the task waiting, send signed links.

The token stays in DynamoDB: it is not logged, returned or put in any message.
"""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Mapping

from cwsync.domain.models import Order
from cwsync.errors import SyncFailed
from cwsync.notifications import approval_message
from cwsync.services.steps.common import customer_name, load_task_item, order_of, plain, task_type_label
from cwsync.vocabulary import ApprovalKind, ApprovalStatus, StepOutcome, TaskStatus


def _product_text(line) -> str:
    from cwsync.domain.money import format_quantity

    mpn = line.new_mpn or line.mpn
    return f"{line.name} ({mpn}) × {format_quantity(line.quantity)}"


def task_summary(deps, task: Mapping[str, Any], order: Order) -> dict:
    """What the approval page and notifications say about the task."""
    task_type = str(task.get("taskType") or "")
    return {
        "taskId": str(task["taskId"]),
        "orderNumber": order.number,
        "taskType": task_type,
        "taskTypeLabel": task_type_label(task_type),
        "customerId": order.customer_id,
        "customerName": customer_name(deps, task, order),
        "companyName": task.get("companyName"),
        "subscriptionId": order.subscription_id,
        # A repair of several subscriptions of one agreement names them all.
        **({"subscriptions": [str(s) for s in task["subscriptionIds"]]}
           if len(task.get("subscriptionIds") or []) > 1 else {}),
        "currency": order.currency,
        "products": [_product_text(line) for line in order.lines],
        "billingCycle": _cycle_name(order),
    }


def _cycle_name(order: Order) -> str | None:
    """'Monthly', 'Yearly', … (what the page's recurring totals are per)."""
    from cwsync.domain.agreements import billing_cycle_name
    from cwsync.errors import InvalidOrder

    try:
        return billing_cycle_name(order.billing_period) if order.billing_period else None
    except InvalidOrder:  # an order without a known cycle still gets its page
        return None


def request_approval(deps, task_id: str, approval: Mapping[str, Any], token: str, *,
                     execution: str | None = None) -> dict:
    """Store the approval with its task token, mark the task waiting, and send signed links.

    `execution` is the name of the execution asking (`$$.Execution.Name`); without it, the
    task's current execution is taken."""
    from cwsync.adapters.store import format_time
    from cwsync.approvals import approval_url, new_approval_id

    if not token:
        raise SyncFailed("request_approval was called without a task token")
    kind = approval.get("kind")
    if kind not in tuple(ApprovalKind):
        raise SyncFailed(f"Unknown approval kind {kind!r}")
    task = load_task_item(deps, task_id)
    asking = str(execution or _execution_of(task))
    rebound = _rebind_open_approval(deps, task, approval, token, asking)
    if rebound is not None:
        return rebound
    order = order_of(deps, task)
    now = deps.now()
    expires_at = now + timedelta(seconds=deps.settings.approval_timeout_seconds)
    expires = int(expires_at.timestamp())
    approval_id = new_approval_id()
    record = {
        "approvalId": approval_id,
        "token": token,
        "taskId": str(task_id),
        "kind": kind,
        "title": approval.get("title") or kind,
        "explanation": approval.get("explanation") or "",
        "options": list(approval.get("options") or []),
        "recommended": approval.get("recommended"),
        "subject": approval.get("subject"),
        "proposal": approval.get("proposal"),  # a new company or catalog item's form, filled in
        "references": approval.get("references"),  # ConnectWise's lists that form chooses from
        "task": task_summary(deps, task, order),
        "plan": plain(task.get("plan")) if kind == ApprovalKind.CONFIRM else None,
        "status": ApprovalStatus.PENDING,
        "executionName": asking,
        "expiresAt": format_time(expires_at),
        "expires": expires,
    }
    from cwsync.services.task_notices import notify_task

    base_url = deps.settings.need("approvals_base_url")
    link = approval_url(base_url, approval_id, expires, deps.signing_key)
    deps.store.put_approval(record)
    deps.store.update_task(str(task_id), TaskStatus.WAITING_APPROVAL, f"Waiting for approval: {record['title']}",
                           approvalId=approval_id, approvalKind=kind, approvalExpiresAt=record["expiresAt"],
                           approvalLink=link)  # the check's digest lists it
    notify_task(deps, task_id, record["title"], approval_message(record), [("Open the approval page", link)])
    return {"outcome": StepOutcome.APPROVAL_REQUESTED, "approvalId": approval_id, "expiresAt": record["expiresAt"]}


def _seen(value: Any) -> str:
    """A value as the approver sees it (a plan made again differs only in when it was made)."""
    value = plain(value)
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != "plannedAt"}
    return json.dumps(value, sort_keys=True, default=str)


def _execution_of(task: Mapping[str, Any]) -> str:
    """The name of the task's current execution (the first attempt runs under the task id)."""
    return str(task.get("executionName") or task["taskId"])


def _rebind_open_approval(deps, task: Mapping[str, Any], approval: Mapping[str, Any], token: str,
                          asking: str) -> dict | None:
    """The task asks the very question its open approval asks (its execution was started again
    after a restart): point that approval at the new token, so the link already sent decides it.

    A decision recorded for an earlier execution that stopped before acting on it (a restart
    between the approvals API storing it and Step Functions taking it) is handed to this one:
    the person is not asked again. The same execution asking again (after "check again") is
    a new question."""
    approval_id = task.get("approvalId")
    open_one = deps.store.get_approval(str(approval_id)) if approval_id else None
    if not open_one:
        return None
    status = open_one.get("status")
    recorded = open_one.get("decision") if status == ApprovalStatus.DECIDED else None
    if status != ApprovalStatus.PENDING and not (
            recorded and str(open_one.get("executionName") or "") != asking):
        return None
    expires = open_one.get("expires")
    if recorded is None and expires is not None and int(expires) <= int(deps.now().timestamp()):
        return None
    asked = {"kind": approval.get("kind"), "subject": approval.get("subject"), "proposal": approval.get("proposal"),
             "options": list(approval.get("options") or []), "recommended": approval.get("recommended"),
             "plan": plain(task.get("plan")) if approval.get("kind") == ApprovalKind.CONFIRM else None}
    if any(_seen(open_one.get(field)) != _seen(value) for field, value in asked.items()):
        return None
    if not deps.store.rebind_approval(str(approval_id), token, execution_name=asking):
        return None
    if recorded is not None:
        return _take_recorded_decision(deps, task, open_one, recorded, token)
    deps.store.update_task(str(task["taskId"]), TaskStatus.WAITING_APPROVAL,
                           f"Waiting for approval: {open_one.get('title')} (the link sent earlier still works)",
                           approvalId=str(approval_id), approvalKind=open_one.get("kind"),
                           approvalExpiresAt=open_one.get("expiresAt"))
    return {"outcome": StepOutcome.APPROVAL_REQUESTED, "approvalId": str(approval_id),
            "expiresAt": open_one.get("expiresAt"), "rebound": True}


def _take_recorded_decision(deps, task: Mapping[str, Any], open_one: Mapping[str, Any], recorded: Mapping[str, Any],
                            token: str) -> dict:
    from cwsync.adapters.stepfunctions import TaskResumer
    from cwsync.approvals import pass_on_decision

    deps.store.update_task(str(task["taskId"]), TaskStatus.IN_PROGRESS,
                           f"Taking the decision recorded for {open_one.get('title')} before cwsync restarted")
    pass_on_decision(TaskResumer(deps.stepfunctions), token, open_one, plain(recorded))
    return {"outcome": StepOutcome.APPROVAL_REQUESTED, "approvalId": str(open_one.get("approvalId")),
            "expiresAt": open_one.get("expiresAt"), "rebound": True, "decisionTaken": True}
