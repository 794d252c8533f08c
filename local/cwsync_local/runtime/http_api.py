"""The template's HttpApi, served locally: requests become API Gateway HTTP API v2 events.

moto cannot create `AWS::ApiGatewayV2::*`, so the runtime serves each route the template
declares (`Events: {Type: HttpApi}` on a function) from a Werkzeug server and invokes the
function that owns it with a payload-format-2.0 event. Under `/_local/` the same server
offers the runtime's control endpoints (check, tasks), guarded by a token.
"""
from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml")
CONTROL_PREFIX = "/_local/"


def route_pattern(path: str) -> re.Pattern:
    """`/approvals/{id}` -> a regex with named groups; `{proxy+}` matches the rest of the path."""
    parts = []
    for piece in re.split(r"(\{[^}]+\})", path):
        if piece.startswith("{") and piece.endswith("}"):
            name = piece[1:-1]
            if name.endswith("+"):
                parts.append(f"(?P<{name[:-1]}>.+)")
            else:
                parts.append(f"(?P<{name}>[^/]+)")
        else:
            parts.append(re.escape(piece))
    return re.compile("^" + "".join(parts) + "$")


class Route:
    def __init__(self, method: str, path: str, function: str):
        self.method = method.upper()
        self.path = path
        self.function = function
        self.pattern = route_pattern(path)

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


def to_event(request: Request, route: Route, params: dict[str, str], *, stage: str = "$default") -> dict:
    """An API Gateway HTTP API (payload format 2.0) event for the request."""
    body = request.get_data()
    content_type = request.headers.get("Content-Type", "")
    is_text = not body or content_type.startswith(TEXT_TYPES)
    if is_text and body:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            is_text = False  # not UTF-8 whatever it claims: passed on base64-encoded, as bytes
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers.items():
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for name in request.args:
        query[name] = ",".join(request.args.getlist(name))
    now = datetime.now(timezone.utc)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": request.query_string.decode("latin-1"),
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": request.host,
            "domainPrefix": request.host.split(".")[0],
            "http": {"method": request.method, "path": request.path, "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                     "sourceIp": request.remote_addr or "127.0.0.1", "userAgent": request.headers.get("User-Agent", "")},
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": stage,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    if body:
        event["body"] = body.decode("utf-8") if is_text else base64.b64encode(body).decode("ascii")
    return event


def to_response(result: Any) -> Response:
    """A Lambda result in HTTP API v2 form (or a bare value, which API Gateway sends as JSON)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return Response(json.dumps(result), status=200, content_type="application/json")
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    response = Response(data, status=int(result["statusCode"]))
    response.headers.pop("Content-Type", None)
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    if "Content-Type" not in response.headers:
        response.headers["Content-Type"] = "application/json"
    return response


class HttpApi:
    """WSGI app: template routes -> `invoke(function_id, event)`; `/_local/<name>` -> control handlers."""

    def __init__(self, routes: Iterable[tuple[str, str, str]], invoke: Callable[[str, dict], Any], *,
                 control: dict[str, Callable[[Request], Any]] | None = None, token: str | None = None):
        self.routes = [Route(*route) for route in routes]
        self.invoke = invoke
        self.control = control or {}
        self.token = token

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path parameters, whether the path exists for another method)."""
        path_known = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                path_known = True
                if route.method in (method, "ANY"):
                    return route, found.groupdict(), True
        return None, {}, path_known

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX):
            return self.dispatch_control(request)
        route, params, path_known = self.match(request.method, request.path)
        if route is None:
            # What API Gateway answers for an unknown route.
            return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")
        try:
            result = self.invoke(route.function, to_event(request, route, params))
        except Exception:  # noqa: BLE001 - API Gateway's answer to a failed integration (no details)
            return Response(json.dumps({"message": "Internal Server Error"}), status=500,
                            content_type="application/json")
        return to_response(result)

    def dispatch_control(self, request: Request) -> Response:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not self.token or supplied != self.token:
            return Response(json.dumps({"message": "Forbidden"}), status=403, content_type="application/json")
        name = request.path[len(CONTROL_PREFIX):].strip("/")
        handler = self.control.get(name)
        if handler is None:
            return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")
        try:
            result = handler(request)
        except Exception as error:  # noqa: BLE001
            return Response(json.dumps({"message": str(error)}), status=500, content_type="application/json")
        return Response(json.dumps(result, default=str), status=200, content_type="application/json")


class LocalServer:
    """Serves a WSGI app from a daemon thread; port 0 picks a free port."""

    def __init__(self, app, *, host: str = "127.0.0.1", port: int = 0):
        self.server = make_server(host, port, app, threaded=True)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="cwsync-http-api", daemon=True)

    def start(self) -> "LocalServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        time.sleep(0)
