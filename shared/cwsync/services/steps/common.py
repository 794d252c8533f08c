"""What every step shares: the task and its order, progress entries, and approval decisions."""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.adapters import mp_orders
from cwsync.domain.models import Order
from cwsync.errors import ApprovalRejected, SyncFailed
from cwsync.vocabulary import TASK_TYPE_LABELS, DecidedBy, Decision, LinkSource, StepOutcome, TaskStatus, TaskType


def load_task_item(deps, task_id: str) -> dict:
    task = deps.store.get_task(str(task_id))
    if task is None:
        raise SyncFailed(f"Task {task_id} is not in the cwsync table; run the check again to re-create it")
    return task


def order_of(deps, task: Mapping[str, Any]) -> Order:
    """The order as stored with the task (as it was when the task was made), else fetched."""
    detail = task.get("order")
    if not isinstance(detail, Mapping):
        detail = deps.marketplace.order(str(task.get("orderId") or task["taskId"]))
    return mp_orders.order(plain(detail))


def plain(value: Any) -> Any:
    """A value read from the store as JSON-like data (the store's one conversion, `to_plain`)."""
    from cwsync.adapters.store import to_plain  # the store is built on the step's first call anyway

    return to_plain(value)


def task_type_of(task: Mapping[str, Any]) -> TaskType:
    try:
        return TaskType(task.get("taskType"))
    except ValueError:
        raise SyncFailed(f"Task {task.get('taskId')} has no known task type ({task.get('taskType')!r})") from None


def task_type_label(task_type: Any) -> str:
    return TASK_TYPE_LABELS.get(str(task_type), str(task_type))


def progress(deps, task_id: str, reason: str, **attrs: Any) -> dict:
    return deps.store.update_task(str(task_id), TaskStatus.IN_PROGRESS, reason, **attrs)


def customer_name(deps, task: Mapping[str, Any], order: Order) -> str:
    if task.get("customerName"):
        return str(task["customerName"])
    try:
        name = deps.marketplace.customer(order.customer_id).name
    except Exception:  # the name is for people; the id will do when the marketplace is unreachable
        name = None
    return str(name or f"customer {order.customer_id}")


def cw_id(value: Any) -> Any:
    """A ConnectWise id as the API has it (an int) when it is one."""
    text = str(value).strip()
    return int(text) if text.isdigit() else value


def needs_approval(kind: str, title: str, match, *, options: list[dict] | None = None,
                   recommended: str | None = None, subject: str | None = None, explanation: str | None = None) -> dict:
    approval = {
        "kind": kind,
        "title": title,
        "options": options if options is not None else [o.to_dict() for o in match.options],
        "recommended": recommended if recommended is not None else (match.recommended if match else None),
        "explanation": explanation if explanation is not None else (match.explanation if match else ""),
    }
    if subject is not None:
        approval["subject"] = subject
    return {"outcome": StepOutcome.NEEDS_APPROVAL, "approval": approval}


def decision_of(deps, task: Mapping[str, Any], decision: Mapping[str, Any], kind: str) -> tuple[str, dict | None]:
    """(chosen option id, the approval record) of an approval decision; checks it fits the approval."""
    if not isinstance(decision, Mapping):
        raise SyncFailed(f"The {kind} decision is not an object")
    if decision.get("decision") == Decision.REJECT:
        raise ApprovalRejected(decision.get("reason") or "Rejected by the approver")
    choice = decision.get("choice")
    if choice in (None, ""):
        raise SyncFailed(f"The {kind} decision names no option")
    approval_id = decision.get("approvalId") or task.get("approvalId")
    approval = deps.store.get_approval(str(approval_id)) if approval_id else None
    if approval is not None and approval.get("kind") == kind:
        option = next((o for o in approval.get("options") or [] if str(o.get("id")) == str(choice)), None)
        if option is None:
            raise SyncFailed(f"The {kind} decision chose {choice!r}, which was not offered")
        if not option.get("eligible", True):
            raise SyncFailed(f"The {kind} decision chose {option.get('label')}, which cannot be used: "
                             f"{option.get('reason')}")
    else:
        approval = None
    return str(choice), approval


def decided_by(decision: Mapping[str, Any]) -> dict:
    """How a link from an approval is marked: by a person, or by an automatic approver (`automatic`)."""
    if decision.get("decidedBy") == DecidedBy.AUTO_APPROVE:
        return {"linkedBy": LinkSource.AUTO_APPROVE, "automatic": True}
    return {"linkedBy": LinkSource.APPROVAL, "automatic": False}


def asked_again(match, undone: Mapping[str, Any], what: str):
    """The match with nothing chosen or recommended: a person undid the earlier link (Links page),
    so a person chooses again even where a rule would match."""
    from dataclasses import replace

    why = f": {undone['reason']}" if undone.get("reason") else ""
    return replace(match, chosen=None, recommend_best=False, basis=None,
                   explanation=f"{undone.get('by') or 'A person'} undid the earlier link on the Links page{why}. "
                               f"A person chooses {what} again; nothing is taken automatically. {match.explanation}")


def link_context(task_id: str, order: Order) -> dict:
    """What a remembered link records of the order it was made for (the Links page shows it)."""
    return {"taskId": str(task_id), "orderNumber": order.number}


def option_label(approval: Mapping[str, Any] | None, option_id: str) -> str | None:
    for option in (approval or {}).get("options") or []:
        if str(option.get("id")) == option_id:
            return option.get("label")
    return None
