"""Everything the operator's task page shows, gathered from the task and its approvals.

The order as the marketplace had it when the task was made, each step's decision and who
made it (a rule, a remembered link, or the approver), every attempt, the exact writes to
ConnectWise (record ids, values before and after) and the notifications sent.
"""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.services import operator
from cwsync.vocabulary import Action, ChangeStatus, Decision

WRITTEN = (ChangeStatus.CREATED, ChangeStatus.UPDATED)  # applied changes that wrote to ConnectWise

KIND_STEPS = {"customer": "Link customer", "product": "Link product", "agreement": "Select agreement",
              "confirm": "Confirm changes"}
ACTION_LABELS = {"create_addition": "New agreement addition", "cancel_addition": "Cancel agreement addition",
                 "update_addition": "Change agreement addition", "create_adjustment": "One-time charge (adjustment)",
                 "create_catalog_item": "New catalog item"}
CHANGE_STATUS = {"created": "written", "updated": "written", "already_present": "found already done, not written again",
                 "skipped_already_applied": "done by an earlier attempt"}
# What the page lists of a write, in this order, with the words ConnectWise uses on screen.
FIELD_LABELS = (("product", "Product"), ("description", "Description"), ("quantity", "Quantity"),
                ("unitPrice", "Unit price"), ("unitCost", "Unit cost"), ("amount", "Amount"),
                ("price", "Price"), ("cost", "Cost"), ("billCustomer", "Bill customer"),
                ("taxableFlag", "Taxable"), ("effectiveDate", "Effective date"), ("cancelledDate", "Cancel date"),
                ("serialNumber", "Tag (serial number)"), ("identifier", "Identifier"))
ORDER_FIELDS = (("orderNumber", "Order number"), ("type", "Type"), ("status", "Status"),
                ("creationDate", "Created"), ("provisioningDate", "Provisioned"), ("subscriptionId", "Subscription"),
                ("customerId", "Marketplace customer"), ("billingModel", "Billing model"))


def task_view(deps, task_id: str) -> dict | None:
    task = deps.store.get_task(str(task_id))
    if task is None:
        return None
    now = deps.now()
    approvals = deps.store.list_approvals(task_id=str(task_id))
    plan = task.get("plan") or {}
    return {
        "task": task,
        "row": operator.task_row(task, now),
        "order": order_view(task.get("order")),
        "history": [{"at": h.get("at"), "status": operator.status_label(h.get("status")), "reason": h.get("reason")}
                    for h in task.get("history") or []],
        "approvals": [approval_view(a) for a in approvals],
        "attempts": attempts_view(task),
        "changes": changes_view(plan, task.get("appliedChanges") or []),
        "planned": [] if task.get("appliedChanges") else changes_view(plan, []),
        "notifications": list(task.get("notifications") or []),
        "currency": plan.get("currency") or (task.get("order") or {}).get("total", {}).get("currency"),
    }


def _amount(value: Any) -> str:
    if isinstance(value, Mapping):
        amount, currency = value.get("amount"), value.get("currency")
        return f"{amount} {currency}".strip() if amount is not None else ""
    return "" if value is None else str(value)


def _period(value: Any) -> str:
    if isinstance(value, Mapping) and value.get("type"):
        return f"{value.get('duration') or 1} × {value['type']}"
    return ""


def order_view(order: Any) -> dict | None:
    """The order detail as stored with the task (header fields and one row per line)."""
    if not isinstance(order, Mapping):
        return None
    header = [(label, order.get(name)) for name, label in ORDER_FIELDS if order.get(name) not in (None, "")]
    total = _amount(order.get("total"))
    if total:
        header.append(("Total", total))
    lines = []
    for line in order.get("details") or []:
        if not isinstance(line, Mapping):
            continue
        lines.append({"type": line.get("type") or "", "mpn": line.get("mpn") or "",
                      "description": line.get("description") or "", "quantity": line.get("quantity"),
                      "cost": _amount(line.get("unitPrice")), "price": _amount(line.get("salesUnitPrice")),
                      "period": _period(line.get("duration"))})
    return {"header": header, "lines": lines}


def approval_view(approval: Mapping[str, Any]) -> dict:
    decision = approval.get("decision") or {}
    options = {str(o.get("id")): o.get("label") for o in approval.get("options") or []}
    choice = decision.get("choice")
    if decision.get("decision") == Decision.APPROVE:
        outcome = f"Chose: {options.get(str(choice), choice)}"
        edits = decision.get("changes") or {}
        if edits:
            outcome += f" (with {sum(len(v) for v in edits.values())} edit(s))"
    elif decision.get("decision") == Decision.REJECT:
        outcome = f"Rejected: {decision.get('reason') or 'no reason given'}"
    else:
        outcome = ""
    return {"approvalId": approval.get("approvalId"), "step": KIND_STEPS.get(str(approval.get("kind")), approval.get("kind")),
            "title": approval.get("title"), "status": approval.get("status"), "askedAt": approval.get("createdAt"),
            "decidedAt": decision.get("decidedAt") or approval.get("decidedAt"), "outcome": outcome,
            "by": "the approver (signed link)" if decision else "", "recommended": options.get(str(approval.get("recommended")))}


def attempts_view(task: Mapping[str, Any]) -> list[dict]:
    earlier = [{"attempt": a.get("attempt"), "status": operator.status_label(a.get("status")),
                "reason": a.get("reason"), "endedAt": a.get("endedAt"), "current": False,
                "written": len([c for c in a.get("appliedChanges") or [] if c.get("status") in WRITTEN])}
               for a in task.get("attempts") or []]
    current = {"attempt": int(task.get("attempt") or 1), "status": operator.status_label(task.get("status")),
               "reason": task.get("reason"), "endedAt": task.get("finishedAt"), "current": True,
               "written": len([c for c in task.get("appliedChanges") or [] if c.get("status") in WRITTEN])}
    return earlier + [current]


def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        if "id" in value or "identifier" in value:
            return " ".join(str(value[k]) for k in ("identifier", "id") if value.get(k) is not None)
        if "ref" in value:
            return "the item created above"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and len(value) >= 20 and value[4:5] == "-" and value[10:11] == "T":
        return value[:10]
    return "" if value is None else str(value)


def changes_view(plan: Mapping[str, Any], applied: list) -> list[dict]:
    """One entry per planned write: where (agreement, record id), what, before → after."""
    results = {str(c.get("key")): c for c in applied if isinstance(c, Mapping)}
    rows = []
    for op in plan.get("operations") or []:
        fields = op.get("fields") or {}
        before = op.get("before") or {}
        result = results.get(str(op.get("key"))) or {}
        action = op.get("action")
        values = []
        for name, label in FIELD_LABELS:
            if name not in fields:
                continue
            if action == Action.CANCEL_ADDITION and name == "cancelledDate":
                old = _text(before.get(name)) or "not cancelled"
            elif action in (Action.CREATE_ADDITION, Action.CREATE_ADJUSTMENT, Action.CREATE_CATALOG_ITEM):
                old = "(new)"
            else:
                old = _text(before.get(name)) if name in before else ""
            values.append({"label": label, "before": old, "after": _text(fields[name])})
        record = result.get("id") or (op.get("match") or {}).get("id")
        rows.append({"key": op.get("key"), "action": ACTION_LABELS.get(action, action),
                     "agreementId": op.get("agreementId"), "recordId": record,
                     "status": CHANGE_STATUS.get(str(result.get("status")), "planned, not written yet"
                                                 if not result else str(result.get("status"))),
                     "explanation": op.get("explanation") or "", "values": values, "edited": bool(op.get("edited"))})
    return rows
