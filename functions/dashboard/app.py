"""Dashboard: the operator's task list, task pages and actions (HTTP API v2 events)."""
from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths

from cwsync.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True,
                              log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context) -> dict:
    from cwsync.dashboard_api import app  # imported on the first call: keeps the cold import small

    return app.resolve(event, context)
