"""What the approver sees and does in a real browser: headless Chromium against the
approvals resolver served over HTTP (a tiny WSGI adapter), store on moto DynamoDB.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`),
with JavaScript disabled on the page: the approver's clicks alone must decide.
"""
from __future__ import annotations

import json
import os
import select
import socketserver
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
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

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium (scripts/bootstrap)")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1200,1600"]
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


# --- Chromium ------------------------------------------------------------------------------------

def dump_dom(url: str, tmp: Path) -> str:
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile-dump'}", "--dump-dom", url],
                            capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class Browser:
    """Just enough of the DevTools protocol, over `--remote-debugging-pipe` (fd 3 in, fd 4 out)."""

    def __init__(self, tmp: Path):
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire():  # in the child: its fd 3 reads our commands, its fd 4 writes our replies
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile-cdp'}", "--remote-debugging-pipe", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire, close_fds=False)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer, self._next_id, self.events, self.session = b"", 0, [], None

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._to_child)
        os.close(self._from_child)

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._from_child], [], [], remaining)[0]:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, *, session: bool = True, timeout: float = 30) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_event(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(index)
            self.events.append(self._read(deadline))

    def open_page_without_javascript(self):
        targets = self.send("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Emulation.setScriptExecutionDisabled", {"value": True})

    def navigate(self, url: str):
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def click(self, selector: str, *, navigates: bool = False):
        root = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        assert node, f"nothing matches {selector}"
        self.send("DOM.scrollIntoViewIfNeeded", {"nodeId": node})
        quad = self.send("DOM.getBoxModel", {"nodeId": node})["model"]["content"]
        x, y = sum(quad[0::2]) / 4, sum(quad[1::2]) / 4
        if navigates:
            self.events.clear()
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})
        if navigates:
            self.wait_event("Page.loadEventFired")

    def type_into(self, selector: str, text: str):
        self.click(selector)
        self.send("Input.insertText", {"text": text})

    def html(self) -> str:
        root = self.send("DOM.getDocument")["root"]["nodeId"]
        return self.send("DOM.getOuterHTML", {"nodeId": root})["outerHTML"]

    def screenshot(self, path: Path):
        import base64

        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"]))


@pytest.fixture
def browser(tmp_path):
    browser = Browser(tmp_path)
    try:
        browser.open_page_without_javascript()
        yield browser
    finally:
        browser.close()


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

def test_the_approver_sees_the_task_options_and_reasons_with_names_escaped(site, tmp_path):
    url = add_approval(site, "page1")
    dom = dump_dom(url, tmp_path)
    text = text_of(dom)
    assert f"Choose the ConnectWise company for {EVIL} (order SO000012)" in text
    assert "SO000012 · Sales Order (new subscription)" in text
    assert "Name is 80% similar" in text and "Not possible: Company is deleted" in text
    assert "<script>alert(1)</script>" not in dom  # shown as text, never as an element
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "TOKEN-NEVER-SHOWN" not in dom
    assert 'value="23" disabled' in dom
    shot = tmp_path / "approval.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile-shot'}", f"--screenshot={shot}", url],
                   capture_output=True, timeout=90, check=True)
    assert shot.stat().st_size > 5000


def test_choosing_an_option_and_approving_without_javascript_decides_once(site, browser, tmp_path):
    url = add_approval(site, "page2")
    browser.navigate(url)
    browser.click('input[name="choice"][value="22"]')
    browser.click("#approve", navigates=True)
    result = text_of(browser.html())
    assert "Approved" in result and "You chose: Green Lane Holdings (GLH)" in result
    browser.screenshot(tmp_path / "approved.png")
    [(kind, call)] = site.sfn.calls
    assert kind == "success" and call["taskToken"] == "TOKEN-NEVER-SHOWN"
    assert json.loads(call["output"])["choice"] == "22"
    assert site.deps.store.get_approval("page2")["status"] == "decided"

    browser.navigate(url)  # the link again: no more buttons
    assert "nothing more can be decided" in text_of(browser.html())
    assert "<form" not in browser.html()


def test_rejecting_with_a_reason_from_the_page(site, browser):
    browser.navigate(add_approval(site, "page3"))
    browser.type_into('input[name="reason"]', "Wrong customer")
    browser.click("#reject", navigates=True)
    assert "Rejected" in text_of(browser.html())
    [(kind, call)] = site.sfn.calls
    assert (kind, call["error"], call["cause"]) == ("failure", "ApprovalRejected", "Wrong customer")


def test_the_confirm_page_edits_reach_the_decision(site, browser):
    plan = {"currency": "USD", "agreementId": 12, "summary": "10 licences", "total": "60.00", "operations": [
        {"key": "create-addition:MP-SUB-1-SO000012", "action": "create_addition", "agreementId": 12,
         "fields": {"quantity": "10", "unitPrice": "6.00", "unitCost": "4.80", "description": "M365 BB",
                    "effectiveDate": "2026-02-15T00:00:00Z"}, "explanation": "New subscription"}]}
    url = add_approval(site, "page4", kind="confirm", plan=plan, recommended="apply",
                       options=[{"id": "apply", "label": "Apply these changes", "eligible": True, "reason": ""}])
    browser.navigate(url)
    text = text_of(browser.html())
    assert "Row 1: Add addition" in text and 'type="date"' in browser.html() and 'value="2026-02-15"' in browser.html()
    selector = 'input[name="changes.create-addition:MP-SUB-1-SO000012.quantity"]'
    browser.click(selector)
    for _ in range(2):
        browser.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Backspace", "code": "Backspace",
                                                "windowsVirtualKeyCode": 8})
        browser.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Backspace", "code": "Backspace",
                                                "windowsVirtualKeyCode": 8})
    browser.send("Input.insertText", {"text": "12"})
    browser.click("#approve", navigates=True)
    assert "Approved" in text_of(browser.html())
    [(_, call)] = site.sfn.calls
    assert json.loads(call["output"])["changes"] == {"create-addition:MP-SUB-1-SO000012": {"quantity": "12"}}


def test_a_tampered_link_shows_a_clear_refusal(site, tmp_path):
    url = add_approval(site, "page5")
    tampered = url.replace("exp=", "exp=1")
    text = text_of(dump_dom(tampered, tmp_path))
    assert "This link is not valid" in text and "signature does not match" in text
