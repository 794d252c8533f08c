"""Every sentence cwsync sends people: approval requests and how a task ended.

The steps decide *what* happened; this module says it in a billing person's words. No
text here shows Python internals, and none promises something cwsync does not do.
"""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.vocabulary import ACTION_LABELS, Action, TaskStatus

NOTHING_TO_CHANGE = "Nothing to change"
# What to do after a failure, by the error's class name (cwsync.errors).
# "Sync again" is the dashboard's button on a failed, expired or rejected task (cwsync.services.operator).
SYNC_AGAIN = "choose Sync again on the task's page in the cwsync dashboard"
ADVICE = {
    "ConfigurationError": f"Check the cwsync settings and secrets named above, then {SYNC_AGAIN}.",
    "ExternalApiError": "ConnectWise or the marketplace refused the request; correct the record named above, "
                        f"then {SYNC_AGAIN}.",
    "TransientError": f"A temporary failure lasted through every retry; later, {SYNC_AGAIN}.",
    "InvalidOrder": "The marketplace order cannot be synced as it is; handle it by hand in ConnectWise.",
    "SyncFailed": f"Fix what the message names, then {SYNC_AGAIN}.",
    "InvalidRecord": f"Correct the ConnectWise record named above, then {SYNC_AGAIN}.",
}
DEFAULT_ADVICE = f"See the task history; once the cause is fixed, {SYNC_AGAIN}."


def nothing_to_change_reason(summary: str | None) -> str:
    """"Nothing to change: …" once, whether or not the plan's summary already says it."""
    text = (summary or "").strip()
    if not text:
        return f"{NOTHING_TO_CHANGE}: ConnectWise already matches the order"
    if text.casefold().startswith(NOTHING_TO_CHANGE.casefold()):
        return text
    return f"{NOTHING_TO_CHANGE}: {text}"


def approval_message(record: Mapping[str, Any]) -> str:
    """The notification text for an approval, in a billing person's words."""
    from cwsync.approvals import format_time as when

    task = record.get("task") or {}
    lines = [record.get("title") or "", ""]
    lines.append(f"Order {task.get('orderNumber')} ({task.get('taskTypeLabel')}) for {task.get('customerName')} "
                 f"(marketplace customer {task.get('customerId')}).")
    if task.get("products"):
        lines.append("Products: " + "; ".join(task["products"]))
    if record.get("explanation"):
        lines += ["", f"Why you are asked: {record['explanation']}"]
    plan = record.get("plan") or {}
    if plan.get("operations"):
        lines += ["", "Planned changes in ConnectWise:"]
        lines += [f"  - {operation_text(op, plan.get('currency'))}" for op in plan["operations"]]
    elif record.get("options"):
        lines += ["", "Options:"]
        for number, option in enumerate(record["options"], 1):
            marks = " (recommended)" if option.get("id") == record.get("recommended") else ""
            reason = option.get("reason") or ""
            if not option.get("eligible", True):
                reason = f"cannot be chosen: {reason}"
            lines.append(f"  {number}. {option.get('label')}{marks}" + (f" — {reason}" if reason else ""))
    lines += ["", f"Open the link below to decide (nothing changes until you press a button). "
                  f"The link works until {when(record.get('expires'))}; after that the task is marked expired."]
    return "\n".join(lines)


def operation_text(operation: Mapping[str, Any], currency: str | None = None) -> str:
    """One planned ConnectWise write as a line: "Add addition: M365 BB, quantity 10, unit price 6.00 USD"."""
    from cwsync.approvals import format_date

    fields = operation.get("fields") or {}
    parts = [ACTION_LABELS.get(operation.get("action"), operation.get("action") or "")]
    if fields.get("description"):
        parts.append(str(fields["description"]))
    if fields.get("quantity") not in (None, ""):
        parts.append(f"quantity {fields['quantity']}")
    price = fields.get("unitPrice", fields.get("amount"))
    if price not in (None, ""):
        parts.append(f"{'unit price' if 'unitPrice' in fields else 'amount'} {price} {currency or ''}".rstrip())
    if fields.get("cancelledDate"):
        parts.append(f"cancelled from {format_date(fields['cancelledDate'])}")
    elif fields.get("effectiveDate"):
        parts.append(f"from {format_date(fields['effectiveDate'])}")
    if operation.get("action") == Action.CANCEL_ADDITION and operation.get("explanation"):
        parts.append(str(operation["explanation"]))
    return ": ".join(parts[:2]) + (", " + ", ".join(parts[2:]) if len(parts) > 2 else "")


def finish_message(status: TaskStatus, task: Mapping[str, Any], plan: Mapping[str, Any], error_name: str,
                   error_message: str) -> tuple[str, str | None, list[str]]:
    """(the task's final reason, the notification subject or None for no notification, its lines)."""
    who = task.get("companyName") or task.get("customerName") or f"customer {task.get('customerId') or '?'}"
    order = task.get("orderNumber") or task.get("taskId")

    if status == TaskStatus.SYNCED:
        reason = f"Synced to ConnectWise: {plan.get('summary') or 'changes applied'}"
        body = [reason, "", "What changed in ConnectWise"
                + (f" (agreement {task.get('agreementName') or plan.get('agreementId')}):" if plan else ":")]
        body += [f"  - {operation_text(op, plan.get('currency'))}" for op in plan.get("operations") or []]
        return reason, f"Synced: order {order} for {who}", body
    if status == TaskStatus.NOTHING_TO_CHANGE:
        return nothing_to_change_reason(plan.get("summary")), None, []
    if status == TaskStatus.EXPIRED:
        kind = task.get("approvalKind") or "approval"
        reason = f"Nobody answered the {kind} approval before it expired; nothing was changed in ConnectWise"
        return reason, f"Expired: order {order} for {who}", [
            reason + ".", f"When you are ready to decide, {SYNC_AGAIN}."]
    if status == TaskStatus.REJECTED:
        reason = f"Rejected by the approver: {error_message or 'no reason given'}"
        return reason, f"Rejected: order {order} for {who}", [reason + ".", "Nothing was changed in ConnectWise."]
    reason = error_message or f"The sync stopped with {error_name or 'an unknown error'}"
    advice = ADVICE.get(error_name, DEFAULT_ADVICE)
    return reason, f"Sync failed: order {order} for {who}", [
        f"The sync of order {order} failed: {reason}", "", f"What to do: {advice}"]
