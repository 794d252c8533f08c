"""ApplyChanges: writes the confirmed plan to ConnectWise, idempotently."""
from __future__ import annotations

from cwsync.observability import logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    from cwsync.services.steps.apply import apply_changes  # imported on the first call: keeps the cold import small
    from cwsync.services.deps import Dependencies

    logger.append_keys(taskId=event.get("taskId"), step="apply_changes")
    return apply_changes(Dependencies.shared(), event["taskId"])
