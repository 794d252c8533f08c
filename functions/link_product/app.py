"""LinkProduct: links each product to a ConnectWise catalog item (remembered)."""
from __future__ import annotations

from cwsync.observability import logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    from cwsync.services.steps.product import link_product  # imported on the first call: keeps the cold import small
    from cwsync.services.deps import Dependencies

    logger.append_keys(taskId=event.get("taskId"), step="link_product")
    return link_product(Dependencies.shared(), event["taskId"], decision=event.get("decision"))
