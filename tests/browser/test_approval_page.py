"""What the approver sees and does in a real browser: headless Chromium against the
approvals resolver served over HTTP (a tiny WSGI adapter), store on moto DynamoDB.

The page runs with JavaScript disabled (the session's one Chromium, tests/browser/conftest.py):
the approver's clicks alone must decide.
"""
from __future__ import annotations

import json
import socketserver
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import boto3
import pytest
from moto import mock_aws

from cwsync.adapters.store import Store, create_table
from cwsync.approvals import approval_url
from cwsync.approvals_api import create_app
from cwsync.config import Settings
from cwsync.services.deps import Dependencies

KEY = b"browser-test-signing-key-0123456789"
EVIL = "<script>alert(1)</script> & \"O'Brien\""


# --- the approvals API over HTTP ---------------------------------------------------------------

def wsgi_adapter(app):
    """WSGI → API Gateway HTTP API v2 event → resolver → WSGI response."""
    def application(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode("utf-8") if length else None
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        event = {"version": "2.0", "routeKey": "$default", "rawPath": path,
                 "rawQueryString": environ.get("QUERY_STRING", ""), "queryStringParameters": query or None,
                 "headers": headers, "body": body, "isBase64Encoded": False,
                 "requestContext": {"http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                             "sourceIp": "127.0.0.1", "userAgent": headers.get("user-agent", "")},
                                    "requestId": "browser", "stage": "$default", "timeEpoch": 0}}
        response = app.resolve(event, None)
        status = response["statusCode"]
        reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
                  410: "Gone"}.get(status, "Status")
        out_headers = [(k, v) for k, v in (response.get("headers") or {}).items()]
        start_response(f"{status} {reason}", out_headers)
        return [(response.get("body") or "").encode("utf-8")]
    return application


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class StepFunctions:
    def __init__(self):
        self.calls = []

    def send_task_success(self, **kwargs):
        self.calls.append(("success", kwargs))

    def send_task_failure(self, **kwargs):
        self.calls.append(("failure", kwargs))


@pytest.fixture
def site(monkeypatch):
    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("dynamodb")
        create_table(client, "cwsync-browser")
        sfn = StepFunctions()
        deps = Dependencies(Settings.from_environment({"TABLE_NAME": "cwsync-browser"}),
                            store=Store("cwsync-browser", client=client), signing_key=KEY, stepfunctions=sfn)
        server = make_server("127.0.0.1", 0, wsgi_adapter(create_app(lambda: deps)),
                             server_class=_ThreadingServer, handler_class=_Quiet)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        site = type("Site", (), {})()
        site.deps, site.sfn, site.base = deps, sfn, f"http://127.0.0.1:{server.server_port}"
        try:
            yield site
        finally:
            server.shutdown()
            server.server_close()


def add_approval(site, approval_id, **overrides):
    expires = datetime.now(timezone.utc) + timedelta(hours=1)
    record = {
        "approvalId": approval_id, "token": "TOKEN-NEVER-SHOWN", "taskId": "5000012", "kind": "customer",
        "title": f"Choose the ConnectWise company for {EVIL} (order SO000012)", "explanation": "No exact match",
        "task": {"taskId": "5000012", "orderNumber": "SO000012", "customerName": EVIL, "customerId": "1000048531",
                 "taskTypeLabel": "Sales Order (new subscription)", "products": ["Microsoft 365 Business Basic × 10"]},
        "options": [{"id": "21", "label": EVIL, "eligible": True, "reason": "Name is 80% similar"},
                    {"id": "22", "label": "Green Lane Holdings (GLH)", "eligible": True, "reason": "Name is 70% similar"},
                    {"id": "23", "label": "Old Green Lane", "eligible": False, "reason": "Company is deleted"}],
        "recommended": "21", "status": "pending", "expiresAt": expires, "expires": int(expires.timestamp()),
    }
    record.update(overrides)
    site.deps.store.put_approval(record)
    return approval_url(site.base, approval_id, record["expires"], KEY)


# --- the page, without JavaScript ----------------------------------------------------------------

@pytest.fixture
def page_options() -> dict:
    """The approver's clicks alone must decide: the page runs none of its scripts."""
    return {"java_script_enabled": False}


def submit(page, selector: str) -> str:
    """Click a submit button, wait for the page the form leads to, and return its HTML."""
    with page.expect_navigation():
        page.click(selector)
    return page.content()


def text_of(html: str) -> str:
    from html.parser import HTMLParser

    class Text(HTMLParser):
        parts: list = []

        def __init__(self):
            super().__init__()
            self.parts, self.skip = [], False

        def handle_starttag(self, tag, attrs):
            self.skip = tag in ("style", "title")

        def handle_endtag(self, tag):
            self.skip = False

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


# --- tests -----------------------------------------------------------------------------------

def test_the_approver_sees_the_task_options_and_reasons_with_names_escaped(site, page, tmp_path):
    url = add_approval(site, "page1")
    page.goto(url)
    dom = page.content()
    text = text_of(dom)
    assert f"Choose the ConnectWise company for {EVIL} (order SO000012)" in text
    assert "SO000012 · Sales Order (new subscription)" in text
    assert "Name is 80% similar" in text and "Not possible: Company is deleted" in text
    assert "<script>alert(1)</script>" not in dom  # shown as text, never as an element
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "TOKEN-NEVER-SHOWN" not in dom
    assert 'value="23" disabled' in dom
    assert not page.dialogs
    shot = tmp_path / "approval.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5000


def test_choosing_an_option_and_approving_without_javascript_decides_once(site, page, tmp_path):
    url = add_approval(site, "page2")
    page.goto(url)
    page.check('input[name="choice"][value="22"]')
    result = text_of(submit(page, "#approve"))
    assert "Approved" in result and "You chose: Green Lane Holdings (GLH)" in result
    page.screenshot(path=str(tmp_path / "approved.png"), full_page=True)
    [(kind, call)] = site.sfn.calls
    assert kind == "success" and call["taskToken"] == "TOKEN-NEVER-SHOWN"
    assert json.loads(call["output"])["choice"] == "22"
    assert site.deps.store.get_approval("page2")["status"] == "decided"

    page.goto(url)  # the link again: no more buttons
    assert "nothing more can be decided" in text_of(page.content())
    assert "<form" not in page.content()


def test_rejecting_with_a_reason_from_the_page(site, page):
    page.goto(add_approval(site, "page3"))
    page.fill('input[name="reason"]', "Wrong customer")
    assert "Rejected" in text_of(submit(page, "#reject"))
    [(kind, call)] = site.sfn.calls
    assert (kind, call["error"], call["cause"]) == ("failure", "ApprovalRejected", "Wrong customer")


def test_the_confirm_page_edits_reach_the_decision(site, page):
    plan = {"currency": "USD", "agreementId": 12, "summary": "10 licences", "total": "60.00", "operations": [
        {"key": "create-addition:MP-SUB-1-SO000012", "action": "create_addition", "agreementId": 12,
         "fields": {"quantity": "10", "unitPrice": "6.00", "unitCost": "4.80", "description": "M365 BB",
                    "effectiveDate": "2026-02-15T00:00:00Z"}, "explanation": "New subscription"}]}
    url = add_approval(site, "page4", kind="confirm", plan=plan, recommended="apply",
                       options=[{"id": "apply", "label": "Apply these changes", "eligible": True, "reason": ""}])
    page.goto(url)
    html = page.content()
    assert "Row 1: Add addition" in text_of(html) and 'type="date"' in html and 'value="2026-02-15"' in html
    page.fill('input[name="changes.create-addition:MP-SUB-1-SO000012.quantity"]', "12")
    assert "Approved" in text_of(submit(page, "#approve"))
    [(_, call)] = site.sfn.calls
    assert json.loads(call["output"])["changes"] == {"create-addition:MP-SUB-1-SO000012": {"quantity": "12"}}


def test_a_tampered_link_shows_a_clear_refusal(site, page):
    url = add_approval(site, "page5")
    page.goto(url.replace("exp=", "exp=1"))
    text = text_of(page.content())
    assert "This link is not valid" in text and "signature does not match" in text
