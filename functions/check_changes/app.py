"""CheckChanges: reads new marketplace orders into sync tasks and starts one execution per task."""
from __future__ import annotations

from cwsync.observability import logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    from cwsync.services.check_runs import run_check  # imported on the first call
    from cwsync.services.deps import Dependencies

    remaining = getattr(context, "get_remaining_time_in_millis", None)
    result = run_check(Dependencies.shared(), event if isinstance(event, dict) else {}, remaining_ms=remaining)
    logger.info("Checked the marketplace for changes", extra={"counts": result.get("counts")})
    return result
