"""ApplyChanges: write the (confirmed) plan to ConnectWise, idempotently; remember created products."""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.errors import SyncFailed, TransientError
from cwsync.services.steps.common import load_task_item, plain, progress
from cwsync.vocabulary import Action, ChangeStatus, LinkSource, StepOutcome


def apply_changes(deps, task_id: str) -> dict:
    """Write the plan through the Applier; `written` counts the writes made now."""
    from cwsync.services.apply import Applier
    from cwsync.services.apply_known import known_answers

    task = load_task_item(deps, task_id)
    plan = plain(task.get("plan") or {})
    if not plan.get("operations"):
        raise SyncFailed(f"Task {task_id} has no planned changes to apply")
    now = deps.now()
    # From now on a restart completes this plan instead of planning again; and only the task's very
    # first apply attempt takes the answers of its plan's read as known (an earlier one may have written).
    first = not (task.get("applyStartedAt") and task.get("applyBegunAt")) and deps.store.begin_apply(str(task_id),
                                                                                                      now=now)
    known = known_answers(plan, task, first_attempt=first, now=now)
    result = Applier(deps.connectwise, deps.store).apply(str(task_id), plan, known)
    changes = [dict(change) for change in result.changes]
    from cwsync.services.reconcile import remember_written

    remember_written(deps, plan, changes)  # the baseline a reconciliation compares with
    missing = sorted({op["key"] for op in plan["operations"]} - {change.get("key") for change in changes})
    if missing:  # never reported synced while part of the plan is not in ConnectWise
        raise TransientError(f"{len(missing)} of {len(plan['operations'])} planned change(s) are not applied yet "
                             f"({', '.join(missing[:3])}); the sync goes on with them")
    by_key = {change.get("key"): change for change in changes}
    for operation in plan["operations"]:
        if operation.get("action") == Action.CREATE_CATALOG_ITEM:
            _remember_created_product(deps, task, operation, by_key.get(operation["key"]) or {})
    written = sum(1 for change in changes if change.get("status") in (ChangeStatus.CREATED, ChangeStatus.UPDATED))
    progress(deps, task_id, f"Applied {len(plan['operations'])} change(s) to ConnectWise "
                            f"({written} written now, the rest found already done)",
             appliedChanges=[{k: c.get(k) for k in ("key", "status", "id", "summary")} for c in changes])
    return {"outcome": StepOutcome.APPLIED, "operations": len(plan["operations"]), "written": written}


def _remember_created_product(deps, task: Mapping[str, Any], operation: Mapping[str, Any],
                              change: Mapping[str, Any]) -> None:
    """A catalog item the sync created is linked like any other, so the next order skips the step;
    the link is marked as the choice to add it was made (by a person, or automatically)."""
    fields = operation.get("fields") or {}
    identifier = (operation.get("match") or {}).get("identifier") or fields.get("identifier")
    mpn = fields.get("manufacturerPartNumber") or identifier
    item_id = change.get("id")
    if item_id is None and identifier:
        item = deps.connectwise.find_catalog_item(identifier)
        item_id = item.id if item is not None else None
    if item_id is not None and mpn:
        marks = plain((task.get("catalogProposalBy") or {}).get(mpn) or {})
        deps.store.put_product_link(mpn, item_id, identifier, **{**marks, "linkedBy": LinkSource.CREATED},
                                    catalogName=f"{identifier}: {fields.get('description') or ''}".rstrip(": "),
                                    taskId=str(task.get("taskId")), orderNumber=task.get("orderNumber"))
