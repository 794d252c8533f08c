"""Helpers of the acceptance tests: the approver's HTTP calls, ConnectWise snapshots, bounded waits.

The approver works only from what the notification gives them: the signed link in the
outbox. Every decision here is a real HTTP request to the runtime's approvals API.
"""
from __future__ import annotations

import copy
from contextlib import contextmanager
import json
import time
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from cwsync_local.runtime.embedded import FINAL_STATUSES, EmbeddedRuntime
from python_text_guard import records_text
from cwsync_local.simulators.common import load_seed

# The shipped data sets the acceptance tests run over: the demo, and the same story with
# ConnectWise records shaped like a real tenant's (docs/SEED.md).
DATA_SETS = ("demo", "real")


def start_runtime(data_dir: Path, **kwargs) -> EmbeddedRuntime:
    """A started runtime whose functions log to a file (the console stays readable)."""
    return EmbeddedRuntime(data_dir, function_log=data_dir / "functions.log", **kwargs).start()


@contextmanager
def settled_runtime(data_dir: Path, **kwargs) -> Iterator[EmbeddedRuntime]:
    """A runtime that has checked the marketplace once and settled; stopped on exit, after
    checking that nothing it told anyone shows Python's text (`python_text`)."""
    runtime = start_runtime(data_dir, **kwargs)
    try:
        runtime.check()
        runtime.wait_until_settled(timeout=180)
        yield runtime
        found = python_text(runtime)
        assert not found, f"Python text in what cwsync told people: {found[:5]}"
    finally:
        runtime.stop()


def python_text(rt: EmbeddedRuntime) -> list[str]:
    """Every place where a task record (its reason, history and progress: not the marketplace order it
    copies), a notification in the outbox, or an approval (what the approver's page shows) has Python text."""
    return records_text(rt.tasks(), rt.outbox(), rt.approvals(None))


def demo_seed(order_ids: set[str] | None = None, data_set: str = "demo") -> dict:
    """A shipped data set (the demo by default), optionally with only the named marketplace orders."""
    seed = load_seed(data_set)
    if order_ids is not None:
        seed["marketplace"]["orders"] = [o for o in seed["marketplace"]["orders"] if o["id"] in order_ids]
    return seed


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str, poll: float = 0.2) -> Any:
    """The predicate's first truthy value; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(poll)


def wait_for_status(rt: EmbeddedRuntime, task_id: str, statuses=FINAL_STATUSES, *, timeout: float = 60) -> dict:
    def reached():
        task = rt.task(task_id)
        return task if task and task.get("status") in statuses else None

    return wait_for(reached, timeout=timeout, what=f"task {task_id} reaches one of {sorted(statuses)} "
                                                   f"(now {(rt.task(task_id) or {}).get('status')})")


def notification_link(rt: EmbeddedRuntime, task_id: str, kind: str, *, timeout: float = 60) -> tuple[str, str]:
    """(approval id, signed link) of the task's pending approval of `kind`, the link taken from
    the notification in the outbox, as the approver gets it."""
    def asked():
        pending = rt.approvals("pending", task_id=task_id)
        return pending[0] if pending and pending[0].get("kind") == kind else None

    approval = wait_for(asked, timeout=timeout, what=f"a pending {kind} approval for task {task_id}")
    approval_id = approval["approvalId"]

    def linked():
        for entry in rt.outbox():
            for link in entry.get("links") or []:
                if f"/approvals/{approval_id}?" in link:
                    return link
        return None

    return approval_id, wait_for(linked, timeout=10, what=f"the notification for approval {approval_id}")


def http(method: str, url: str, payload: dict | None = None) -> tuple[int, str]:
    data = json.dumps(payload).encode("utf-8") if payload is not None else None
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = Request(url, data=data, method=method, headers=headers)
    try:
        with urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except HTTPError as error:
        return error.code, error.read().decode("utf-8")


def view(link: str) -> tuple[int, dict]:
    """What the approver sees, as JSON (`GET link&format=json`)."""
    status, body = http("GET", f"{link}&format=json")
    return status, json.loads(body)


def decide(link: str, payload: dict) -> tuple[int, dict]:
    """POST a decision to the signed link (its `sig` and `exp` ride in the query string)."""
    status, body = http("POST", link, payload)
    return status, json.loads(body)


def connectwise(rt: EmbeddedRuntime) -> dict:
    """A deep copy of what ConnectWise holds now (read under the simulator's lock)."""
    with rt.connectwise.state.lock:
        return copy.deepcopy(rt.connectwise.state.data)


def tagged(records: list[dict], tag: str, field: str = "serialNumber") -> list[dict]:
    return [r for r in records if tag in str(r.get(field) or "")]


def invocations(rt: EmbeddedRuntime, function: str) -> int:
    return sum(1 for call in rt.dispatcher.invocations if call["function"] == function)


def messages(rt: EmbeddedRuntime, subject_start: str) -> list[dict]:
    return [e for e in rt.outbox() if str(e.get("subject") or "").startswith(subject_start)]


def notified(rt: EmbeddedRuntime, subject_start: str, *, timeout: float = 60) -> list[dict]:
    """The notifications whose subject starts so, once there is one (a task's status is stored
    a moment before its notification is published)."""
    return wait_for(lambda: messages(rt, subject_start), timeout=timeout, what=f"a notification {subject_start!r}")


def answered_link(rt: EmbeddedRuntime, task_id: str, kind: str, payload: dict) -> str:
    """The signed link of the task's `kind` approval once it is decided: answered now with
    `payload` when still pending (a test run on its own), else as an earlier test answered it."""
    if any(a.get("kind") == kind for a in rt.approvals("pending", task_id=task_id)):
        _, link = notification_link(rt, task_id, kind)
        status, answer = decide(link, payload)
        assert status == 200, answer
        return link
    approval_id = next(a["approvalId"] for a in rt.approvals(None, task_id=task_id) if a.get("kind") == kind)
    return next(link for entry in rt.outbox() for link in entry.get("links") or []
                if f"/approvals/{approval_id}?" in link)
