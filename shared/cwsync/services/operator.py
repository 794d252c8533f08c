"""What the operator does on the dashboard: see tasks, check now, sync again, ignore.

Each action is a conditional move of the task (it happens only from the statuses it is
allowed from, so two clicks or a racing workflow change nothing twice) with a history
entry naming who did it. "Sync again" starts a new SyncTask execution named
`<taskId>-<attempt>`; the earlier attempts stay in the task's `attempts` and history.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from cwsync.dates import parse_datetime_or_none
from cwsync.vocabulary import TASK_TYPE_LABELS, TaskStatus
from cwsync.errors import CwsyncError

# Dashboard order: what needs a person first, then what is moving, then what is done.
STATUS_ORDER = (TaskStatus.WAITING_APPROVAL, TaskStatus.FAILED, TaskStatus.NEW, TaskStatus.IN_PROGRESS,
                TaskStatus.EXPIRED, TaskStatus.REJECTED, TaskStatus.INVALID, TaskStatus.SYNCED,
                TaskStatus.NOTHING_TO_CHANGE, TaskStatus.IGNORED)
STATUS_LABELS = {
    TaskStatus.NEW: "New",
    TaskStatus.WAITING_APPROVAL: "Waiting for a person",
    TaskStatus.IN_PROGRESS: "In progress",
    TaskStatus.SYNCED: "Synced",
    TaskStatus.NOTHING_TO_CHANGE: "Nothing to change",
    TaskStatus.FAILED: "Failed",
    TaskStatus.EXPIRED: "Expired",
    TaskStatus.REJECTED: "Rejected",
    TaskStatus.IGNORED: "Ignored",
    TaskStatus.INVALID: "Invalid",
}
NEXT_ACTIONS = {
    TaskStatus.NEW: "Starts by itself; Sync starts it now",
    TaskStatus.WAITING_APPROVAL: "Decide the pending approval",
    TaskStatus.IN_PROGRESS: "Nothing: the sync is running",
    TaskStatus.SYNCED: "Nothing: ConnectWise is up to date",
    TaskStatus.NOTHING_TO_CHANGE: "Nothing: ConnectWise already matched",
    TaskStatus.FAILED: "Fix the cause named in the reason, then Sync again",
    TaskStatus.EXPIRED: "Sync again to be asked again",
    TaskStatus.REJECTED: "Sync again, or Ignore",
    TaskStatus.IGNORED: "Un-ignore or Sync again if it should be synced",
    TaskStatus.INVALID: "Handle the order by hand in ConnectWise, or Ignore it",
}
SYNC_AGAIN_FROM = (TaskStatus.FAILED, TaskStatus.EXPIRED, TaskStatus.REJECTED, TaskStatus.IGNORED)
IGNORE_FROM = (TaskStatus.NEW, TaskStatus.FAILED, TaskStatus.EXPIRED, TaskStatus.REJECTED, TaskStatus.INVALID)
# What an attempt leaves on the task that the next attempt must decide afresh.
ATTEMPT_ATTRIBUTES = ("plan", "confirmed", "catalogProposals", "catalogProposalBy", "pendingProduct",
                      "appliedChanges", "errorName", "finishedAt", "approvalId", "approvalKind", "approvalExpiresAt",
                      "applyStartedAt", "catalogReferences")
MAX_REASON = 300
SEARCH_FIELDS = ("taskId", "orderNumber", "orderId", "customerName", "customerId", "companyName",
                 "subscriptionId", "reason")


class ActionRefused(CwsyncError):
    """The task is not in a state that allows what was asked; the message says why."""


def status_label(status: Any) -> str:
    try:
        return STATUS_LABELS[TaskStatus(str(status))]
    except ValueError:
        return str(status or "Unknown")


def allowed_actions(task: Mapping[str, Any]) -> list[str]:
    """The buttons a task gets: `sync`, `sync_again`, `ignore`, `unignore`."""
    status = str(task.get("status") or "")
    actions = []
    if status == TaskStatus.NEW and not task.get("workflowStartedAt"):
        actions.append("sync")
    if status in SYNC_AGAIN_FROM:
        actions.append("sync_again")
    if status in IGNORE_FROM and not (status == TaskStatus.NEW and task.get("workflowStartedAt")):
        actions.append("ignore")
    if status == TaskStatus.IGNORED:
        actions.append("unignore")
    return actions


def task_type_label(task_type: Any) -> str:
    return TASK_TYPE_LABELS.get(str(task_type or ""), str(task_type or ""))


def customer_text(task: Mapping[str, Any]) -> str:
    return str(task.get("customerName") or task.get("companyName")
               or (f"customer {task['customerId']}" if task.get("customerId") else "unknown customer"))


def age_text(since: Any, now: datetime) -> str:
    """'3 d', '5 h', '12 min' since an ISO time; '' when unknown."""
    when = parse_iso(since)
    if when is None:
        return ""
    seconds = max(0, int((now - when).total_seconds()))
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} d"
    if seconds >= 3600:
        return f"{seconds // 3600} h"
    return f"{max(1, seconds // 60)} min"


def parse_iso(value: Any) -> datetime | None:
    return parse_datetime_or_none(value) if isinstance(value, (str, datetime)) else None


def task_row(task: Mapping[str, Any], now: datetime) -> dict:
    """One dashboard line."""
    status = str(task.get("status") or "")
    try:
        next_action = NEXT_ACTIONS[TaskStatus(status)]
    except ValueError:
        next_action = ""
    if status == TaskStatus.NEW and task.get("workflowStartedAt"):
        next_action = "Nothing: the sync starts in a moment"
    return {
        "taskId": str(task.get("taskId")),
        "customer": customer_text(task),
        "orderNumber": task.get("orderNumber") or task.get("orderId") or task.get("taskId"),
        "type": task_type_label(task.get("taskType")) or str(task.get("orderType") or ""),
        "status": status,
        "statusLabel": status_label(status),
        "age": age_text(task.get("orderCreatedAt") or task.get("createdAt"), now),
        "updatedAt": task.get("updatedAt"),
        "reason": task.get("reason") or "",
        "nextAction": next_action,
        "actions": allowed_actions(task),
        "approvalId": task.get("approvalId") if status == TaskStatus.WAITING_APPROVAL else None,
        "attempt": int(task.get("attempt") or 1),
    }


def matches(task: Mapping[str, Any], search: str) -> bool:
    words = search.casefold().split()
    text = " ".join(str(task.get(name) or "") for name in SEARCH_FIELDS).casefold()
    return all(word in text for word in words)


def dashboard_view(deps, *, status: str | None = None, search: str | None = None, limit: int = 500) -> dict:
    """Rows (filtered), counts per status, and the last and next check."""
    from cwsync.services.check_runs import check_times

    now = deps.now()
    tasks = deps.store.list_tasks()
    counts = {str(s): 0 for s in STATUS_ORDER}
    for task in tasks:
        counts[str(task.get("status"))] = counts.get(str(task.get("status")), 0) + 1
    chosen = [t for t in tasks if (not status or str(t.get("status")) == status)
              and (not search or matches(t, search))]
    rank = {str(s): i for i, s in enumerate(STATUS_ORDER)}
    chosen.sort(key=lambda t: (rank.get(str(t.get("status")), 99), _negated(str(t.get("updatedAt") or ""))))
    return {
        "rows": [task_row(t, now) for t in chosen[:limit]],
        "shown": min(len(chosen), limit), "matching": len(chosen), "total": len(tasks),
        "counts": [{"status": str(s), "label": STATUS_LABELS[s], "count": counts.get(str(s), 0)}
                   for s in STATUS_ORDER],
        "status": status or "", "search": search or "",
        "checks": check_times(deps, now),
        "now": now,
    }


def _negated(text: str) -> tuple:
    """Sort key putting later ISO times first."""
    return tuple(-ord(c) for c in text)


# --- actions ---------------------------------------------------------------------------------

def _get(deps, task_id: str) -> dict:
    task = deps.store.get_task(str(task_id))
    if task is None:
        raise ActionRefused(f"There is no task {task_id}.")
    return task


def start_sync(deps, task_id: str, who: str) -> dict:
    """Start a new task's first execution (one Check Changes could not start)."""
    task = _get(deps, task_id)
    if "sync" not in allowed_actions(task):
        raise ActionRefused(f"Order {task.get('orderNumber') or task_id} is {status_label(task.get('status'))}; "
                            "it cannot be started from here.")
    deps.workflow.start(str(task_id))
    deps.store.set_task_attributes(str(task_id), workflowStartedAt=_stamp(deps), attempt=1)
    return deps.store.get_task(str(task_id)) or task


def sync_again(deps, task_id: str, who: str) -> dict:
    """A new attempt: the task goes back to `new` and a new execution `<taskId>-<n>` starts."""
    task = _get(deps, task_id)
    status = str(task.get("status") or "")
    if status not in SYNC_AGAIN_FROM:
        raise ActionRefused(f"Order {task.get('orderNumber') or task_id} is {status_label(status)}: only failed, "
                            "expired, rejected or ignored tasks can be synced again.")
    attempt = int(task.get("attempt") or 1) + 1
    finished = {"attempt": attempt - 1, "status": status, "reason": task.get("reason"),
                "endedAt": task.get("updatedAt"), "appliedChanges": task.get("appliedChanges"),
                "executionName": task.get("executionName")}
    cleared = {name: None for name in ATTEMPT_ATTRIBUTES}
    updated = deps.store.update_task(
        str(task_id), TaskStatus.NEW, f"Sync again requested by {who} (attempt {attempt})",
        expected_status=status, attempt=attempt, attempts=list(task.get("attempts") or []) + [finished],
        ignoredFrom=None, **cleared)
    if updated is None:
        raise ActionRefused("The task changed meanwhile; look at it again before syncing it again.")
    from cwsync.adapters.stepfunctions import attempt_execution_name

    deps.workflow.start(str(task_id), attempt=attempt)
    deps.store.set_task_attributes(str(task_id), workflowStartedAt=_stamp(deps),
                                   executionName=attempt_execution_name(str(task_id), attempt))
    return deps.store.get_task(str(task_id)) or updated


def resume(store, workflow, task_id: str) -> str:
    """Give a task still in flight a live execution again (a new attempt); returns its name.

    For a task whose execution is gone (the embedded runtime restarted after a stop or a
    kill) — unlike "Sync again" (`sync_again`) the task keeps what it has:
    the new execution starts from the top, steps already done find their links and ledger
    entries, a plan being written is finished (LoadTask: `resume_apply`), and a question
    still open keeps its approval and link (RequestApproval re-binds it to the new wait).
    Same naming as "Sync again": attempt n runs as `<taskId>-<n>`.
    """
    from cwsync.adapters.stepfunctions import attempt_execution_name

    attempt = store.next_attempt(str(task_id))
    workflow.start(str(task_id), attempt=attempt)
    # workflowStartedAt too: Check Changes must not start the first attempt of a `new` task again.
    store.set_task_attributes(str(task_id), executionName=attempt_execution_name(str(task_id), attempt),
                              workflowStartedAt=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    return attempt_execution_name(str(task_id), attempt)


def ignore(deps, task_id: str, reason: str, who: str) -> dict:
    task = _get(deps, task_id)
    status = str(task.get("status") or "")
    reason = " ".join((reason or "").split())[:MAX_REASON]
    if not reason:
        raise ActionRefused("Say why the task is ignored: the reason is kept in its history.")
    if "ignore" not in allowed_actions(task):
        raise ActionRefused(f"Order {task.get('orderNumber') or task_id} is {status_label(status)}; it cannot be "
                            "ignored now.")
    updated = deps.store.update_task(str(task_id), TaskStatus.IGNORED, f"Ignored by {who}: {reason}",
                                     expected_status=status, ignoredFrom=status, ignoredReason=reason)
    if updated is None:
        raise ActionRefused("The task changed meanwhile; look at it again before ignoring it.")
    return updated


def unignore(deps, task_id: str, who: str) -> dict:
    task = _get(deps, task_id)
    if str(task.get("status")) != TaskStatus.IGNORED:
        raise ActionRefused(f"Order {task.get('orderNumber') or task_id} is not ignored.")
    back = str(task.get("ignoredFrom") or TaskStatus.FAILED)
    if back not in {str(s) for s in IGNORE_FROM}:
        back = str(TaskStatus.FAILED)
    if back == TaskStatus.NEW and task.get("workflowStartedAt"):
        back = str(TaskStatus.FAILED)
    updated = deps.store.update_task(str(task_id), back, f"Un-ignored by {who}; back to {status_label(back)}",
                                     expected_status=TaskStatus.IGNORED, ignoredFrom=None, ignoredReason=None)
    if updated is None:
        raise ActionRefused("The task changed meanwhile; look at it again.")
    return updated


def _stamp(deps) -> str:
    return deps.now().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
