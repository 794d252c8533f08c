"""The HTTP API's Lambda authorizer: lets a request through when its session cookie holds a
verified Cognito ID token of an operator (simple responses, payload format 2.0)."""
from __future__ import annotations

from cwsync.observability import logger


@logger.inject_lambda_context(clear_state=True, log_event=False)  # the event carries the session cookie
def handler(event: dict, context) -> dict:
    from cwsync.adapters.cognito import shared_pool
    from cwsync.operator_session import authorize

    return authorize(event, shared_pool())
