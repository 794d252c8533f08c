"""JSON answers, the error body, and the X-Correlation-ID header every answer carries.

The contract declares only a `default` response per operation and no error schema, so
errors use one small body everywhere: `{"code": "<Reason>", "message": "<text>"}`.
"""
from __future__ import annotations

import json
import uuid
from http import HTTPStatus

from werkzeug.wrappers import Response

CORRELATION_HEADER = "X-Correlation-ID"
_ENVIRON_KEY = "HTTP_X_CORRELATION_ID"


class ApiError(Exception):
    """An error answer: HTTP status plus a message a client developer can act on."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_code(status: int) -> str:
    """`404` -> "NotFound": the HTTP reason phrase, as one word."""
    try:
        return HTTPStatus(status).phrase.replace(" ", "").replace("-", "")
    except ValueError:
        return "Error"


def error_body(status: int, message: str) -> bytes:
    return json.dumps({"code": error_code(status), "message": message}).encode()


def json_response(payload: object, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def raw_json_response(body: str, status: int = 200) -> Response:
    """For bodies assembled from cached JSON fragments (the order list)."""
    return Response(body, status=status, mimetype="application/json")


def error_response(error: ApiError) -> Response:
    response = Response(error_body(error.status, error.message), status=error.status, mimetype="application/json")
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


class CorrelationId:
    """Outermost WSGI middleware: echo the caller's X-Correlation-ID, else make one.

    It wraps the fault injector too, so injected 429/500 answers carry the header as well.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        given = environ.get(_ENVIRON_KEY, "").strip()
        correlation_id = given[:128] if given else str(uuid.uuid4())
        environ[_ENVIRON_KEY] = correlation_id

        def with_header(status, headers, exc_info=None):
            headers = [(k, v) for k, v in headers if k.lower() != CORRELATION_HEADER.lower()]
            headers.append((CORRELATION_HEADER, correlation_id))
            return start_response(status, headers, exc_info)

        return self.app(environ, with_header)
