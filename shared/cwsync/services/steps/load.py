"""LoadTask: mark the task in progress; a task that already ended is left alone."""
from __future__ import annotations

from cwsync.services.steps.common import load_task_item, progress, task_type_label, task_type_of
from cwsync.vocabulary import FINAL_STATUSES, StepOutcome


def load_task(deps, task_id: str) -> dict:
    """`loaded` with the task type, or `already_finished` for a task in a final status."""
    task = load_task_item(deps, task_id)
    status = task.get("status")
    if status in FINAL_STATUSES:
        return {"outcome": StepOutcome.ALREADY_FINISHED, "taskId": str(task_id), "status": status}
    task_type = task_type_of(task)
    progress(deps, task_id, f"Sync started ({task_type_label(task_type)})")
    return {"outcome": StepOutcome.LOADED, "taskId": str(task_id), "taskType": str(task_type),
            "orderNumber": task.get("orderNumber")}
