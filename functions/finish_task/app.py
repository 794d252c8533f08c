"""FinishTask: records how the task ended and notifies."""
from __future__ import annotations

from cwsync.observability import logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    from cwsync.services.steps.finish import finish_task  # imported on the first call: keeps the cold import small
    from cwsync.services.deps import Dependencies

    logger.append_keys(taskId=event.get("taskId"), step="finish_task")
    return finish_task(Dependencies.shared(), event["taskId"], event["outcome"], error=event.get("error"))
