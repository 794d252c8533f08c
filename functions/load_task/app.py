"""LoadTask: loads the sync task and marks it in progress."""
from __future__ import annotations

from cwsync.observability import logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    from cwsync.services.steps.load import load_task  # imported on the first call: keeps the cold import small
    from cwsync.services.deps import Dependencies

    logger.append_keys(taskId=event.get("taskId"), step="load_task")
    return load_task(Dependencies.shared(), event["taskId"])
