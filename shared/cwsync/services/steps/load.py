"""LoadTask: mark the task in progress; a task that already ended is left alone."""
from __future__ import annotations

from cwsync.services.steps.common import load_task_item, progress, task_type_label, task_type_of
from cwsync.vocabulary import FINAL_STATUSES, StepOutcome


def load_task(deps, task_id: str) -> dict:
    """`loaded` with the task type, `already_finished` for a task in a final status, or
    `resume_apply` for a task stopped while its plan was being written."""
    task = load_task_item(deps, task_id)
    status = task.get("status")
    if status in FINAL_STATUSES:
        return {"outcome": StepOutcome.ALREADY_FINISHED, "taskId": str(task_id), "status": status}
    task_type = task_type_of(task)
    if task.get("applyStartedAt") and task.get("plan"):
        # An execution that stopped while writing the plan (a restart of the embedded runtime):
        # finish that plan; the ledger and the ownership tags skip what was written already.
        progress(deps, task_id, "Sync resumed: writing the rest of the planned changes")
        return {"outcome": StepOutcome.RESUME_APPLY, "taskId": str(task_id), "taskType": str(task_type),
                "orderNumber": task.get("orderNumber")}
    progress(deps, task_id, f"Sync started ({task_type_label(task_type)})")
    return {"outcome": StepOutcome.LOADED, "taskId": str(task_id), "taskType": str(task_type),
            "orderNumber": task.get("orderNumber")}
