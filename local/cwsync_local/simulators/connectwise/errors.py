"""ConnectWise error answers: `{"code", "message", "errors": [...]}` with the HTTP status."""
from __future__ import annotations

import json


class ApiError(Exception):
    """Raised anywhere in a request; the app turns it into the service's error body."""

    def __init__(self, status: int, code: str, message: str, errors: list[dict] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or []
        self.headers = headers or {}

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "errors": self.errors}


def field_error(code: str, message: str, resource: str, field: str) -> dict:
    return {"code": code, "message": message, "resource": resource, "field": field}


def invalid_object(resource: str, errors: list[dict]) -> ApiError:
    """400 for a write the service refuses; one `errors` entry per bad field."""
    return ApiError(400, "InvalidObject", f"{resource} object is invalid", errors)


def not_found(label: str, record_id: object) -> ApiError:
    return ApiError(404, "NotFound", f"{label} ID {record_id} not found")


def bad_request(resource: str, field: str, message: str) -> ApiError:
    """400 for a bad query parameter: the service reports it as an invalid find/query object."""
    return invalid_object(resource, [field_error("InvalidField", message, resource, field)])


def unauthorized(message: str, field: str) -> ApiError:
    return ApiError(401, "Unauthorized", message,
                    [field_error("Unauthorized", message, "authentication", field)],
                    {"WWW-Authenticate": 'Basic realm="ConnectWise"'})


def fault_body(status: int, message: str) -> bytes:
    """Error body for the fault injector's answers (500, 429), in the service's shape."""
    code = {429: "TooManyRequests", 500: "UnexpectedError"}.get(status, "Error")
    return json.dumps({"code": code, "message": message, "errors": []}).encode()
