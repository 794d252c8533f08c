"""SelectAgreement: chooses the eligible ConnectWise agreement (remembered per subscription)."""
from __future__ import annotations

from cwsync.observability import logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    from cwsync.services.steps.agreement import select_agreement  # imported on the first call: keeps the cold import small
    from cwsync.services.deps import Dependencies

    logger.append_keys(taskId=event.get("taskId"), step="select_agreement")
    return select_agreement(Dependencies.shared(), event["taskId"], decision=event.get("decision"))
