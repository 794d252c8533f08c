"""Test support: an HTTP session that checks every answer against the contract.

Responses to paths in the contract are validated against the contract's response schema
for that path (list, single object or count). Write answers (POST 201, PUT/PATCH 200) are
validated against the object schema of the same path's `GET /{id}`, the shape the service
answers writes with. Paths outside the contract subset (billing cycles, currencies) are
validated against the simulator's local schemas. Error answers are checked for the
service's error body shape.
"""
from __future__ import annotations

import base64
import re
from functools import lru_cache
from urllib.parse import urlsplit

import requests

from . import CODEBASE, DEFAULT_CREDENTIALS
from .validation import contract, response_errors

ERROR_BODY = {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "errors": {"type": "array", "nullable": True, "items": {
                       "type": "object", "required": ["code", "message"],
                       "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                      "resource": {"type": "string"}, "field": {"type": "string"}}}}},
}
LOCAL_PATHS = {"/finance/billingCycles": "BillingCycle", "/finance/currencies": "Currency"}


class ContractViolation(AssertionError):
    pass


@lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern, str, dict]]:
    templates = []
    for path, operations in contract()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", r"\\d+", path) + "/?$", re.IGNORECASE)
        content = operations["get"]["responses"]["200"]["content"]
        templates.append((pattern, path, next(iter(content.values()))["schema"]))
    return templates


def response_schema(method: str, api_path: str) -> tuple[str, dict | str] | None:
    """(contract path, schema) for an answer to `method api_path`, or None outside the contract."""
    item_path = api_path.rstrip("/")
    if method in ("POST",):
        item_path += "/1"  # a created object has the shape of GET {collection}/{id}
    for pattern, path, schema in _templates():
        if pattern.match(item_path):
            return path, schema
    for prefix, name in LOCAL_PATHS.items():
        if re.match(f"^{prefix}(/\\d+)?/?$", item_path, re.IGNORECASE):
            if method == "GET" and re.match(f"^{prefix}/?$", item_path, re.IGNORECASE):
                return prefix, {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}
            return prefix, name
        if re.match(f"^{prefix}/count/?$", item_path, re.IGNORECASE):
            return prefix + "/count", "Count"
    return None


def check_response(response: requests.Response, api_base: str) -> str | None:
    """Validate one answer; returns the contract path it was checked against (None when unchecked)."""
    method = response.request.method
    path = urlsplit(response.url).path
    base_path = urlsplit(api_base).path
    if not path.startswith(base_path) or response.status_code == 204:
        return None
    api_path = path[len(base_path):] or "/"
    body = response.json()
    if response.status_code >= 400:
        problems = response_errors(ERROR_BODY, body, keep_required=True)
        if problems:
            raise ContractViolation(f"{method} {api_path} -> {response.status_code}: error body {problems}")
        return "error"
    found = response_schema(method, api_path)
    if found is None:
        raise ContractViolation(f"{method} {api_path}: no schema in the contract for this path")
    contract_path, schema = found
    problems = response_errors(schema, body)
    if problems:
        raise ContractViolation(f"{method} {api_path} -> {response.status_code} does not match {contract_path}: "
                                + "; ".join(problems[:5]))
    return contract_path


class ContractCheckingSession(requests.Session):
    """A `requests.Session` with ConnectWise auth headers that validates every answer."""

    def __init__(self, sim_url: str, credentials: dict | None = None, *, authenticate: bool = True):
        super().__init__()
        credentials = {**DEFAULT_CREDENTIALS, **(credentials or {})}
        self.api = f"{sim_url}/{CODEBASE}apis/3.0"
        self.checked: list[tuple[str, str, str]] = []  # (method, contract path, request path)
        if authenticate:
            token = base64.b64encode(
                f"{credentials['companyId']}+{credentials['publicKey']}:{credentials['privateKey']}".encode()).decode()
            self.headers.update({"Authorization": f"Basic {token}", "clientId": credentials["clientId"],
                                 "Accept": "application/vnd.connectwise.com+json; version=2025.1"})
        self.hooks["response"].append(self._check)

    def _check(self, response: requests.Response, *args, **kwargs):
        contract_path = check_response(response, self.api)
        if contract_path:
            self.checked.append((response.request.method, contract_path, urlsplit(response.url).path))
        return response

    def url(self, path: str) -> str:
        return f"{self.api}/{path.lstrip('/')}"
