"""PlanChanges after the confirm page: the approver's plan (with their edits) is what gets applied."""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.services.steps.common import decision_of, plain, progress
from cwsync.vocabulary import ApprovalKind, StepOutcome


def confirm_plan(deps, task_id: str, task: Mapping[str, Any], decision: Mapping[str, Any]) -> dict:
    """Store the confirmed plan with the approver's edits; nothing is planned again."""
    decision_of(deps, task, decision, ApprovalKind.CONFIRM)
    plan = apply_edits(plain(task["plan"]), decision.get("changes") or {})
    edited = sum(len(v) for v in (decision.get("changes") or {}).values())
    progress(deps, task_id, "Changes confirmed by the approver"
                            + (f" with {edited} edit(s)" if edited else ""), plan=plan, confirmed=True)
    return {"outcome": StepOutcome.PLANNED, "needsConfirmation": False, "confirmed": True,
            "operations": len(plan["operations"])}


def apply_edits(plan: dict, changes: Mapping[str, Mapping[str, Any]]) -> dict:
    """The plan with the approver's field edits (already validated by the approvals API)."""
    if not changes:
        return plan
    for operation in plan.get("operations") or []:
        edits = changes.get(operation.get("key"))
        if not edits:
            continue
        fields = operation.setdefault("fields", {})
        notes = []
        for name, value in edits.items():
            notes.append(f"{name} {fields.get(name)} → {value}")
            fields[name] = str(value)
        operation["explanation"] = f"{operation.get('explanation') or ''} (changed by the approver: {', '.join(notes)})".strip()
        operation["edited"] = True
    return plan
