"""Reconcile: compares every billed or recently ended marketplace subscription with ConnectWise,
reports each difference with its money impact, and (RECONCILE_MODE=repair, or `"repair": true`)
starts one repair sync task per subscription with differences."""
from __future__ import annotations

from cwsync.observability import logger, tracer

SOURCES = {"cwsync.dashboard": "dashboard", "cwsync.local": "command"}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    from cwsync.services.deps import Dependencies
    from cwsync.services.reconcile import reconcile  # imported on the first call

    event = event if isinstance(event, dict) else {}
    customer = event.get("customerId")
    repair = event.get("repair")
    result = reconcile(Dependencies.shared(), customer_id=str(customer) if customer else None,
                       repair=bool(repair) if isinstance(repair, bool) else None,
                       source=SOURCES.get(str(event.get("source") or ""), "schedule"))
    logger.info("Reconciled marketplace subscriptions with ConnectWise", extra={"totals": result["totals"]})
    return result
