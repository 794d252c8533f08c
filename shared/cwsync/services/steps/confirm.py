"""PlanChanges after the confirm page: the approver's plan (with their edits) is what gets applied."""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.services.apply_known import READ_KEY
from cwsync.services.steps.common import decision_of, plain, progress
from cwsync.vocabulary import ApprovalKind, StepOutcome


def confirm_plan(deps, task_id: str, task: Mapping[str, Any], decision: Mapping[str, Any]) -> dict:
    """Store the confirmed plan with the approver's edits; nothing is planned again."""
    decision_of(deps, task, decision, ApprovalKind.CONFIRM)
    plan = apply_edits(plain(task["plan"]), decision.get("changes") or {})
    plan.pop(READ_KEY, None)  # a person waited: what the plan read then is not trusted when it is applied
    edited = sum(len(v) for v in (decision.get("changes") or {}).values())
    progress(deps, task_id, "Changes confirmed by the approver"
                            + (f" with {edited} edit(s)" if edited else ""), plan=plan, confirmed=True)
    return {"outcome": StepOutcome.PLANNED, "needsConfirmation": False, "confirmed": True,
            "operations": len(plan["operations"])}


def apply_edits(plan: dict, changes: Mapping[str, Mapping[str, Any]]) -> dict:
    """The plan with the approver's field edits (already validated by the approvals API); its
    summary then describes the edited writes, so the outcome never shows the values replaced."""
    from cwsync.confirm_form import DATE_FIELDS, FIELD_LABELS, day
    from cwsync.notifications import operation_text

    if not changes:
        return plan
    edited = []
    for operation in plan.get("operations") or []:
        edits = changes.get(operation.get("key"))
        if not edits:
            continue
        fields = operation.setdefault("fields", {})
        notes = []
        for name, value in edits.items():
            def shown(v, name=name):
                return day(v) if name in DATE_FIELDS else ("yes" if v is True else "no" if v is False else v)
            notes.append(f"{FIELD_LABELS.get(name, name).lower()} {shown(fields.get(name))} → {shown(value)}")
            fields[name] = value if isinstance(value, bool) else str(value)
        operation["explanation"] = f"{operation.get('explanation') or ''} (changed by the approver: {', '.join(notes)})".strip()
        operation["edited"] = True
        edited.append(operation)
    if edited:
        plan["summary"] = "As edited by the approver: " + "; ".join(
            operation_text(op, plan.get("currency")) for op in plan.get("operations") or [])
    return plan
