"""The WSGI application: `/login/companyinfo/{companyId}` and `/{codebase}apis/3.0/...`."""
from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from ..common import StateFile
from . import query
from .errors import ApiError, unauthorized
from .records import Records
from .resources import RESOURCES, Resource

CODEBASE = "v2025_1/"
VERSION_CODE = "v2025.1"
VERSION_NUMBER = "v4.6.125"
# Sites keep answering on the long-lived `v4_6_release/` codebase next to the current one.
ACCEPTED_CODEBASES = {CODEBASE.rstrip("/"), "v4_6_release"}
_API_PATH = re.compile(r"^/(?P<codebase>[^/]+)/apis/3\.0(?P<rest>/.*)?$", re.IGNORECASE)
_COMPANY_INFO = re.compile(r"^/login/companyinfo/(?P<company>[^/]+)/?$", re.IGNORECASE)


@dataclass(frozen=True)
class Route:
    resource: Resource
    parent_id: int | None
    kind: str  # collection | count | item
    record_id: int | None = None


def _templates() -> list[tuple[list[str], Resource]]:
    # Longest literal paths first, so `company/companies/types` wins over `company/companies/{id}`.
    templates = [(resource.path.lower().split("/"), resource) for resource in RESOURCES]
    return sorted(templates, key=lambda item: -len(item[0]))


class ConnectWiseApp:
    def __init__(self, state: StateFile, credentials: dict[str, str], company_name: str | None = None):
        self.records = Records(state)
        self.credentials = credentials
        info = state.data.get("companyInfo") or {}
        self.company_name = company_name or info.get("CompanyName") or "Simulated MSP"
        self.templates = _templates()

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except ApiError as error:
            response = json_response(error.body(), error.status, error.headers)
        return response(environ, start_response)

    # --- routing -------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        path = request.path
        match = _COMPANY_INFO.match(path)
        if match and request.method == "GET":
            return self.company_info(request, match.group("company"))
        match = _API_PATH.match(path)
        if not match or match.group("codebase") not in ACCEPTED_CODEBASES:
            raise ApiError(404, "NotFound", f"The resource {path} was not found.")
        self.authenticate(request)
        route = self.route(match.group("rest") or "/")
        return self.handle(request, route)

    def route(self, rest: str) -> Route:
        segments = [segment for segment in rest.strip("/").split("/") if segment]
        lowered = [segment.lower() for segment in segments]
        for template, resource in self.templates:
            if len(lowered) < len(template):
                continue
            parent_id = None
            for expected, actual, original in zip(template, lowered, segments):
                if expected == "{parentid}":
                    parent_id = _as_id(original)
                    if parent_id is None:
                        break
                elif expected != actual:
                    break
            else:
                remainder = segments[len(template):]
                if not remainder:
                    return Route(resource, parent_id, "collection")
                if len(remainder) == 1 and remainder[0].lower() == "count":
                    return Route(resource, parent_id, "count")
                if len(remainder) == 1:
                    record_id = _as_id(remainder[0])
                    if record_id is None:
                        raise ApiError(400, "InvalidObject", f"'{remainder[0]}' is not a valid id.")
                    return Route(resource, parent_id, "item", record_id)
        raise ApiError(404, "NotFound", f"The resource {rest} was not found.")

    # --- auth and discovery --------------------------------------------------------------------

    def authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            raise unauthorized("Authorization header with Basic credentials is required.", "Authorization")
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            user, private_key = decoded.split(":", 1)
            company, public_key = user.split("+", 1)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise unauthorized("The Authorization header is not company+publicKey:privateKey.", "Authorization") from None
        expected = self.credentials
        if not (company.lower() == expected["companyId"].lower()
                and hmac.compare_digest(public_key, expected["publicKey"])
                and hmac.compare_digest(private_key, expected["privateKey"])):
            raise unauthorized("Authentication failed: company, public key or private key is wrong.", "Authorization")
        client_id = request.headers.get("clientId", "")
        if not client_id:
            raise unauthorized("The clientId header is required.", "clientId")
        if client_id.lower() != expected["clientId"].lower():
            raise unauthorized("The clientId is not recognized.", "clientId")

    def company_info(self, request: Request, company: str) -> Response:
        if company.lower() != self.credentials["companyId"].lower():
            raise ApiError(404, "NotFound", f"Company {company} was not found.")
        return json_response({
            "CompanyName": self.company_name, "Codebase": CODEBASE, "VersionCode": VERSION_CODE,
            "VersionNumber": VERSION_NUMBER, "CompanyID": self.credentials["companyId"], "IsCloud": True,
            "SiteUrl": request.host,
        })

    # --- resources -----------------------------------------------------------------------------

    def handle(self, request: Request, route: Route) -> Response:
        resource, parent_id, method = route.resource, route.parent_id, request.method
        params = query.lowered(request.args)
        if route.kind == "count" and method == "GET":
            return json_response({"count": len(self.filtered(resource, parent_id, params))})
        if route.kind == "collection" and method == "GET":
            return self.list(request, resource, parent_id, params)
        if route.kind == "collection" and method == "POST":
            record = self.records.create(resource, read_json(request), parent_id)
            return json_response(record, 201)
        if route.kind == "item":
            if method == "GET":
                record = self.records.get(resource, route.record_id, parent_id)
                fields = query.parse_fields(params)
                return json_response(query.project(record, fields) if fields else record)
            if method == "PUT":
                return json_response(self.records.replace(resource, route.record_id, read_json(request), parent_id))
            if method == "PATCH":
                return json_response(self.records.patch(resource, route.record_id, read_json(request), parent_id))
            if method == "DELETE":
                self.records.delete(resource, route.record_id, parent_id)
                return Response(status=204)
        raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed on this resource.")

    def filtered(self, resource: Resource, parent_id: int | None, params: dict[str, str]) -> list[dict]:
        predicate = query.compile_filter(resource, params)
        records = self.records.snapshot(resource, parent_id)  # the lock is held only for this copy
        return records if predicate is None else [record for record in records if predicate(record)]

    def list(self, request: Request, resource: Resource, parent_id: int | None, params: dict[str, str]) -> Response:
        records = self.filtered(resource, parent_id, params)
        url = request.base_url
        pairs = list(request.args.items(multi=True))
        if request.headers.get("pagination-type", "").lower() == "forward-only":
            page = query.forward_only_page(records, params, url, pairs)
        else:
            order_by = params.get("orderby", "").strip()
            records = query.order(resource, records, order_by) if order_by else sorted(records, key=_by_id)
            page = query.numbered_page(records, params, url, pairs)
        fields = query.parse_fields(params)
        body = [query.project(record, fields) for record in page.records] if fields else page.records
        return json_response(body, headers={"Link": page.link} if page.link else None)


def _by_id(record: dict) -> int:
    return record.get("id", 0)


def _as_id(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def read_json(request: Request) -> Any:
    try:
        return json.loads(request.get_data(as_text=True) or "null")
    except json.JSONDecodeError as error:
        raise ApiError(400, "InvalidObject", f"The request body is not valid JSON: {error}") from None


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    response = Response(payload, status=status, content_type="application/json; charset=utf-8")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
