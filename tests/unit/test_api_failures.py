"""An error neither API expected answers 500 with a plain sentence saying nothing was done, and
is logged by its type only: its text (which may hold anything, a secret too) reaches no one."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from cwsync import approvals_api, dashboard_api
from cwsync.approvals import sign
from cwsync.config import Settings
from cwsync.services.deps import Dependencies
from fakes import FakeStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
KEY = b"k" * 32
SECRET = "sk-live-very-secret"


class BrokenStore(FakeStore):
    """A store whose reads fail in a way no handler expects."""

    def get_approval(self, approval_id):
        raise RuntimeError(f"KeyError in the table client: {SECRET}")

    def list_tasks(self, status=None, *, limit=None):
        raise RuntimeError(f"KeyError in the table client: {SECRET}")


def deps(access: str = "loopback") -> Dependencies:
    settings = Settings.from_environment({"TABLE_NAME": "cwsync-test", "OPERATOR_ACCESS": access})
    return Dependencies(settings, store=BrokenStore(clock=lambda: NOW), signing_key=KEY, clock=lambda: NOW)


def event(method: str, path: str, *, query: dict | None = None, accept: str = "text/html") -> dict:
    return {"version": "2.0", "routeKey": f"{method} {path}", "rawPath": path,
            "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()), "queryStringParameters": query,
            "headers": {"host": "cwsync.example", "accept": accept}, "body": "", "isBase64Encoded": False,
            "requestContext": {"domainName": "cwsync.example", "requestId": "r-1", "stage": "$default",
                               "http": {"method": method, "path": path, "sourceIp": "127.0.0.1"}}}


def errors_logged(caplog) -> list[tuple[str, str]]:
    return [(r.getMessage(), getattr(r, "error", None)) for r in caplog.records if r.levelno >= logging.ERROR]


def everything_logged(caplog) -> str:
    return " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)


def test_an_unexpected_error_on_an_approval_page_is_a_plain_500_and_logged_by_its_type(caplog):
    expires = int(NOW.timestamp()) + 3600
    app = approvals_api.create_app(lambda: deps())
    for accept in ("text/html", "application/json"):
        answer = app.resolve(event("GET", "/approvals/a1", query={"exp": str(expires), "sig": sign(KEY, "a1", expires)},
                                   accept=accept), None)
        assert answer["statusCode"] == 500
        assert "Something went wrong on our side; nothing was decided. Try again in a minute." in answer["body"]
        assert SECRET not in answer["body"] and "KeyError" not in answer["body"]
    assert errors_logged(caplog) == [("Approvals API failed", "RuntimeError")] * 2
    assert SECRET not in everything_logged(caplog)


def test_an_unexpected_error_on_the_dashboard_is_a_plain_500_and_logged_by_its_type(caplog):
    answer = dashboard_api.create_app(lambda: deps()).resolve(event("GET", "/"), None)
    assert answer["statusCode"] == 500
    assert "Something went wrong on our side; nothing was changed. Try again in a minute." in answer["body"]
    assert "Something went wrong" in answer["body"] and SECRET not in answer["body"] and "KeyError" not in answer["body"]
    assert errors_logged(caplog) == [("Dashboard failed", "RuntimeError")]
    assert SECRET not in everything_logged(caplog)
