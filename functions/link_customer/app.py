"""LinkCustomer: links the marketplace customer to a ConnectWise company (remembered)."""
from __future__ import annotations

from cwsync.observability import logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    from cwsync.services.steps.customer import link_customer  # imported on the first call: keeps the cold import small
    from cwsync.services.deps import Dependencies

    logger.append_keys(taskId=event.get("taskId"), step="link_customer")
    return link_customer(Dependencies.shared(), event["taskId"], decision=event.get("decision"))
