"""PlanChanges: plans the ConnectWise writes and asks for confirmation per policy."""
from __future__ import annotations

from cwsync.observability import logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    from cwsync.services.steps.plan import plan_changes  # imported on the first call: keeps the cold import small
    from cwsync.services.deps import Dependencies

    logger.append_keys(taskId=event.get("taskId"), step="plan_changes")
    return plan_changes(Dependencies.shared(), event["taskId"], decision=event.get("decision"))
