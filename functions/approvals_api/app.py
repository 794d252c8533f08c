"""ApprovalsApi: GET shows an approval page, a signed POST decides it (HTTP API v2 events)."""
from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths

from cwsync.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True,
                              log_event=False)  # the query string holds the link signature
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context) -> dict:
    from cwsync.approvals_api import app  # imported on the first call: keeps the cold import small

    return app.resolve(event, context)
