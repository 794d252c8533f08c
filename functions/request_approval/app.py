"""RequestApproval: stores the task token with the approval and sends the signed links.

The event carries the task token: it is never logged (no `log_event`) nor traced (no response capture)."""
from __future__ import annotations

from cwsync.observability import logger, tracer


@logger.inject_lambda_context(clear_state=True, log_event=False)  # the event holds the task token
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context) -> dict:
    from cwsync.services.steps.approval import request_approval  # imported on the first call: keeps the cold import small
    from cwsync.services.deps import Dependencies

    logger.append_keys(taskId=event.get("taskId"), step="request_approval")
    return request_approval(Dependencies.shared(), event["taskId"], event["approval"], event["token"],
                            execution=event.get("execution"))
