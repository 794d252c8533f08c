"""Notifications about a task, remembered on it (its page lists what was sent), and the digest
one check sends of every task waiting for a person."""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from cwsync.errors import TaskNotFound
from cwsync.vocabulary import APPROVAL_KIND_LABELS, TaskStatus

DIGEST_LINKS = 50  # an e-mail stays readable; the dashboard lists every one


def notify_task(deps, task_id: str, subject: str, message: str,
                links: Mapping[str, str] | Iterable[Sequence[str]] | None = None) -> dict:
    """Publish, then note {at, subject} on the task (a missing task only loses the note)."""
    from cwsync.adapters.notify import clean_subject
    from cwsync.adapters.store import format_time

    result = deps.notifier.publish(subject, message, links)
    try:
        deps.store.add_task_notification(str(task_id), {"at": format_time(deps.now()),
                                                         "subject": clean_subject(subject)})
    except TaskNotFound:
        pass
    return result


def send_digest(deps, previous: Sequence[str] | None) -> list[str]:
    """One message listing every task waiting for a person, when that list changed since the
    last digest; returns the waiting task ids (what the check records as its digest)."""
    waiting = sorted(deps.store.list_tasks(TaskStatus.WAITING_APPROVAL), key=lambda t: str(t.get("orderNumber")))
    ids = [str(t["taskId"]) for t in waiting]
    if not ids or ids == list(previous or []):
        return ids
    lines = [f"{len(ids)} task(s) are waiting for a person:", ""]
    links = []
    for task in waiting:
        kind = APPROVAL_KIND_LABELS.get(str(task.get("approvalKind")), "a decision")
        who = task.get("companyName") or task.get("customerName") or f"customer {task.get('customerId')}"
        lines.append(f"- Order {task.get('orderNumber') or task['taskId']} for {who}: {kind}")
        if task.get("approvalLink") and len(links) < DIGEST_LINKS:
            links.append((f"Order {task.get('orderNumber') or task['taskId']}", task["approvalLink"]))
    lines += ["", "Each link opens that step's page; the dashboard lists every task."]
    deps.notifier.publish(f"{len(ids)} task(s) waiting for a person", "\n".join(lines), links)
    return ids
