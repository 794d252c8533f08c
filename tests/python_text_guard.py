"""The suite-wide guard: nothing cwsync tells a person, in any test, shows Python's text.

Every test is watched (an autouse fixture in `tests/conftest.py`), whatever it is about:
- every page cwsync renders (its Jinja templates: approval, dashboard, Links, task and
  reconciliation pages, error and sign-in pages);
- every answer of the embedded runtime's HTTP server (the approvals and dashboard API and the
  local control endpoints the CLI reads);
- when an embedded runtime stops: every task record (its reason, history and progress; not the
  marketplace order it copies), every notification in its outbox and every approval;
- at the end of the test: the same records of every in-memory store (`tests/fakes/store.py`)
  and every notification of every in-memory notifier the test made.

A finding fails the test that produced it, naming where the text was. A test that feeds
Python-looking text in on purpose, to show it is not shown back, marks itself with
`@pytest.mark.python_text_allowed`; none does today.
"""
from __future__ import annotations

import sys
import weakref
from typing import Any, Iterable

from plain_text import PYTHON_TEXT

findings: list[str] = []
_stores: "weakref.WeakSet[Any]" = weakref.WeakSet()
_notifiers: "weakref.WeakSet[Any]" = weakref.WeakSet()
_installed: set[str] = set()

RECORD_KEYS_LEFT_OUT = ("order", "orderSummary")  # the marketplace's own words, copied, never shown as cwsync's


def python_text_in(where: str, value: Any) -> list[str]:
    """Every string inside `value` (dicts, lists, tuples) that has Python's text, with its place."""
    found: list[str] = []

    def scan(place: str, item: Any) -> None:
        if isinstance(item, str):
            if PYTHON_TEXT.search(item):
                found.append(f"{place}: {item[:200]}")
        elif isinstance(item, dict):
            for key, inner in item.items():
                scan(f"{place}.{key}", inner)
        elif isinstance(item, (list, tuple)):
            for index, inner in enumerate(item):
                scan(f"{place}[{index}]", inner)

    scan(where, value)
    return found


def records_text(tasks: Iterable[dict], notifications: Iterable[dict], approvals: Iterable[dict]) -> list[str]:
    """What a store and its notifications tell people: task records, messages, approvals."""
    found: list[str] = []
    for task in tasks:
        found += python_text_in(f"task {task.get('taskId')}",
                                {k: v for k, v in task.items() if k not in RECORD_KEYS_LEFT_OUT})
    for entry in notifications:
        found += python_text_in("notification", {"subject": entry.get("subject"), "message": entry.get("message")})
    for approval in approvals:
        found += python_text_in(f"approval {approval.get('approvalId')}",
                                {k: v for k, v in approval.items() if k not in ("token", *RECORD_KEYS_LEFT_OUT)})
    return found


def install() -> None:
    """Wrap what renders and serves cwsync's words (once per process, for what is imported)."""
    if "jinja" not in _installed:
        from jinja2.environment import Template

        original_render = Template.render

        def render(self, *args, **kwargs):
            text = original_render(self, *args, **kwargs)
            if getattr(self.environment.loader, "package_name", None) == "cwsync":
                findings.extend(python_text_in(f"page {self.name}", text))
            return text

        Template.render = render
        _installed.add("jinja")
    http_api = sys.modules.get("cwsync_local.runtime.http_api")
    if http_api is not None and "http" not in _installed:
        original_dispatch = http_api.HttpApi.dispatch

        def dispatch(self, request):
            response = original_dispatch(self, request)
            if (response.mimetype or "").startswith(("text/", "application/json")) and not response.direct_passthrough:
                findings.extend(python_text_in(f"answer to {request.method} {request.path}",
                                               response.get_data(as_text=True)))
            return response

        http_api.HttpApi.dispatch = dispatch
        _installed.add("http")
    embedded = sys.modules.get("cwsync_local.runtime.embedded")
    if embedded is not None and "runtime" not in _installed:
        original_stop = embedded.EmbeddedRuntime.stop

        def stop(self):
            if getattr(self, "started", False):
                try:
                    found = records_text(self.tasks(), self.outbox(), self.approvals(None))
                except Exception:  # noqa: BLE001 - a runtime that cannot be read any more is the test's own business
                    found = []
                findings.extend(f"runtime {self.data_dir.name}: {line}" for line in found)
            return original_stop(self)

        embedded.EmbeddedRuntime.stop = stop
        _installed.add("runtime")
    fakes_store = sys.modules.get("fakes.store") or sys.modules.get("tests.fakes.store")
    if fakes_store is not None and "store" not in _installed:
        _watch_instances(fakes_store.FakeStore, _stores)
        _installed.add("store")
    fakes_notifier = sys.modules.get("fakes.notifier") or sys.modules.get("tests.fakes.notifier")
    if fakes_notifier is not None and "notifier" not in _installed:
        _watch_instances(fakes_notifier.FakeNotifier, _notifiers)
        _installed.add("notifier")


def _watch_instances(cls: type, into: "weakref.WeakSet[Any]") -> None:
    original_init = cls.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        into.add(self)

    cls.__init__ = __init__


def collect_in_memory() -> list[str]:
    """The records of every in-memory store and notifier still alive, then forgets them."""
    found: list[str] = []
    for store in list(_stores):
        found += records_text(store.tasks.values(), [], store.approvals.values())
    for notifier in list(_notifiers):
        found += records_text([], notifier.sent, [])
    _stores.clear()
    _notifiers.clear()
    return found
