"""The Lambda handlers are thin: each loads by file path (as Lambda does), imports fast,
and makes one call into the services with the event's values."""
from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from cwsync.services import steps
from cwsync.services.deps import Dependencies

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ["load_task", "link_customer", "link_product", "select_agreement", "plan_changes", "request_approval",
            "apply_changes", "finish_task", "check_changes", "approvals_api"]
CONTEXT = SimpleNamespace(function_name="fn", memory_limit_in_mb=512, aws_request_id="req",
                          invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn")


def load(name):
    spec = importlib.util.spec_from_file_location(f"handler_{name}", ROOT / "functions" / name / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def shared():
    deps = object()
    previous = Dependencies.swap_shared(deps)
    yield deps
    Dependencies.swap_shared(previous)


@pytest.mark.parametrize("name, event, expected", [
    ("load_task", {"taskId": "T1", "step": "load_task"}, ("T1",)),
    ("link_customer", {"taskId": "T1", "decision": None}, ("T1", None)),
    ("link_product", {"taskId": "T1", "decision": {"choice": "7"}}, ("T1", {"choice": "7"})),
    ("select_agreement", {"taskId": "T1"}, ("T1", None)),
    ("plan_changes", {"taskId": "T1", "decision": None}, ("T1", None)),
    ("request_approval", {"taskId": "T1", "approval": {"kind": "customer"}, "token": "TOK", "execution": "T1-2"},
     ("T1", {"kind": "customer"}, "TOK", "T1-2")),
    ("apply_changes", {"taskId": "T1"}, ("T1",)),
    ("finish_task", {"taskId": "T1", "outcome": "failed", "error": {"Error": "X"}}, ("T1", "failed", {"Error": "X"})),
])
def test_each_step_handler_makes_one_call_with_the_events_values(monkeypatch, shared, name, event, expected):
    seen = []

    def fake(deps, *args, **kwargs):
        seen.append((deps, args + tuple(kwargs.values())))
        return {"outcome": "ok"}

    monkeypatch.setattr(importlib.import_module(steps.STEP_MODULES[name]), name, fake)
    assert load(name).handler(event, CONTEXT) == {"outcome": "ok"}
    assert seen == [(shared, expected)]


def test_the_approvals_handler_answers_http_api_events(monkeypatch):
    module = load("approvals_api")
    event = {"version": "2.0", "rawPath": "/nothing", "rawQueryString": "", "headers": {}, "body": None,
             "isBase64Encoded": False, "requestContext": {"http": {"method": "GET", "path": "/nothing"},
                                                          "requestId": "r", "stage": "$default"}}
    response = module.handler(event, CONTEXT)
    assert response["statusCode"] == 404 and "No such approval" in response["body"]


def _modules_after_import(path: Path) -> set[str]:
    code = (f"import importlib.util, sys; s = importlib.util.spec_from_file_location('h', {str(path)!r}); "
            "m = importlib.util.module_from_spec(s); s.loader.exec_module(m); print(' '.join(sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(out.stdout.split())


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists()))
def test_a_handler_cold_import_leaves_the_tracing_sdk_and_page_templates_for_later(name):
    # Cold-start time is measured in benchmarks/bench_import.py; here: the heavy pieces stay lazy.
    loaded = _modules_after_import(ROOT / "functions" / name / "app.py")
    assert "aws_xray_sdk" not in loaded
    if name != "approvals_api":
        assert "jinja2" not in loaded
