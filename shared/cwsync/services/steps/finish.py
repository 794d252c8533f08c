"""FinishTask: record how the task ended, with a reason a person understands, and notify."""
from __future__ import annotations

import json
import logging
from typing import Any, Mapping

from cwsync.errors import CwsyncError, SyncFailed, TaskNotFound
from cwsync.notifications import finish_message
from cwsync.services.steps.common import plain
from cwsync.vocabulary import FINISH_OUTCOMES, TaskStatus

OUTCOMES = {str(status): status for status in FINISH_OUTCOMES}
log = logging.getLogger(__name__)
# A failure that is not one of cwsync's own errors is a defect: its Python text (an AttributeError's
# "'dict' object has no attribute ...", a KeyError) goes to the function log, never to a person.
UNEXPECTED = "UnexpectedError"
UNEXPECTED_MESSAGE = ("cwsync stopped on an unexpected problem while syncing this order; the details are in the "
                      "cwsync function logs. Sync the task again; if it stops the same way, report it with the "
                      "order number")


def _cwsync_errors(base: type = CwsyncError) -> set[str]:
    names = {base.__name__}
    for subclass in base.__subclasses__():
        names |= _cwsync_errors(subclass)
    return names


def error_text(error: Mapping[str, Any] | None) -> tuple[str, str]:
    """(error name, message) from a state machine Catch `{"Error", "Cause"}`; no stack traces."""
    if not isinstance(error, Mapping):
        return "", ""
    name = str(error.get("Error") or "")
    cause = error.get("Cause")
    message = ""
    if isinstance(cause, str) and cause.strip():
        try:
            parsed = json.loads(cause)
        except ValueError:
            parsed = None
        if isinstance(parsed, Mapping):
            message = str(parsed.get("errorMessage") or "")
            name = str(parsed.get("errorType") or name)
        else:
            message = cause.strip()
    if name and name not in _cwsync_errors() and not name.startswith("States."):
        log.error("A step failed with an unexpected error", extra={"error": name, "errorMessage": message[:1000]})
        return UNEXPECTED, UNEXPECTED_MESSAGE
    return name, message[:1000]


def finish_task(deps, task_id: str, outcome: str, error: Mapping[str, Any] | None = None) -> dict:
    """The task's final status and reason; a notification for every end but nothing-to-change."""
    status = OUTCOMES.get(outcome)
    if status is None:
        raise SyncFailed(f"Unknown task outcome {outcome!r}")
    task = deps.store.get_task(str(task_id)) or {"taskId": str(task_id)}
    plan = plain(task.get("plan") or {})
    name, message = error_text(error)
    reason, subject, body = finish_message(TaskStatus(status), task, plan, name, message)
    try:
        deps.store.update_task(str(task_id), status, reason, finishedAt=deps.now(),
                               **({"errorName": name} if name else {}))
        found = True
    except TaskNotFound:
        found = False
    if subject:
        from cwsync.services.task_notices import notify_task

        notify_task(deps, task_id, subject, "\n".join(body))
    return {"outcome": str(status), "taskId": str(task_id), "reason": reason, "found": found,
            "notified": bool(subject)}
