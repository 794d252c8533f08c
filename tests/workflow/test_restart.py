"""Acceptance: `cwsync run` loses nothing when it stops — Ctrl-C, SIGKILL, or its output piped
into a process that exits first — and on the next start every task in flight moves on:
a pending approval is decided through the link the person already has, and a change order
killed while its writes were under way ends with its complete plan in ConnectWise, once.

These tests run `cwsync run` as a separate process, as a person does, and wait on states
(files in the data folder, answers of the control API) with generous deadlines.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from acceptance import demo_seed, tagged, wait_for
from cwsync_local.runtime.embedded import EmbeddedRuntime, control_request

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "cwsync_local.cli"]
SALES_ORDER = "5000112"  # SO000112, Green Lane LLC: matched automatically, one eligible agreement, a setup fee
CHANGE_ORDER = "5000116"  # CH000116: ends addition 9001, starts one with 12, charges the prorated difference
DEADLINE = 240  # seconds: a start plus a few steps on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_seed(folder: Path, order_id: str) -> Path:
    path = folder / "seed.json"
    path.write_text(json.dumps(demo_seed({order_id})), encoding="utf-8")
    return path


def start_run(data_dir: Path, seed: Path, port: int, *, stdout=subprocess.DEVNULL, policy: str = "always"):
    return subprocess.Popen(CLI + ["run", "--data-dir", str(data_dir), "--seed", str(seed), "--port", str(port),
                                   "--parameter", f"ApprovalPolicy={policy}"],
                            stdout=stdout, stderr=subprocess.STDOUT, cwd=ROOT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def outbox_link(data_dir: Path) -> str | None:
    path = data_dir / "outbox.jsonl"
    if not path.exists():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        for link in json.loads(line).get("links") or []:
            if "/approvals/" in link:
                return link
    return None


def running_tasks(data_dir: Path) -> list[dict] | None:
    """The task summaries from the running `cwsync run` (None while it is not answering yet)."""
    try:
        answer = control_request(data_dir, "tasks", timeout=30)
    except RuntimeError:
        return None
    return answer.get("tasks") if answer else None


def task_status(data_dir: Path) -> str | None:
    tasks = running_tasks(data_dir)
    return tasks[0]["status"] if tasks else None


def post(link: str, payload: dict) -> tuple[int, dict]:
    from acceptance import http

    status, body = http("POST", link, payload)
    return status, json.loads(body)


def stop(process: subprocess.Popen, how: str) -> None:
    process.send_signal(signal.SIGKILL if how == "sigkill" else signal.SIGINT)
    code = process.wait(timeout=120)
    assert code == (-signal.SIGKILL if how == "sigkill" else 0)


def saved_connectwise(data_dir: Path) -> dict:
    return json.loads((data_dir / "connectwise.json").read_text(encoding="utf-8"))["connectwise"]


def saved_tasks(data_dir: Path) -> list[dict]:
    answer = subprocess.run(CLI + ["tasks", "--data-dir", str(data_dir), "--json"], capture_output=True, text=True,
                            cwd=ROOT, timeout=120, check=True)
    return json.loads(answer.stdout)["tasks"]


@pytest.mark.parametrize("how", ["ctrl-c", "sigkill", "closed-pipe"])
def test_a_pending_approval_is_decided_through_its_original_link_after_a_restart(tmp_path, how):
    data_dir, port = tmp_path / "data", free_port()
    seed = write_seed(tmp_path, SALES_ORDER)
    reader = None
    if how == "closed-pipe":  # `cwsync run | head -1`: the reader is gone after the first line
        first = start_run(data_dir, seed, port, stdout=subprocess.PIPE)
        reader = subprocess.Popen(["head", "-1"], stdin=first.stdout, stdout=subprocess.DEVNULL)
        first.stdout.close()
        reader.wait(timeout=DEADLINE)
    else:
        first = start_run(data_dir, seed, port)
    try:
        link = wait_for(lambda: outbox_link(data_dir), timeout=DEADLINE, what="the confirmation link in the outbox")
        wait_for(lambda: task_status(data_dir) == "waiting_approval", timeout=DEADLINE, what="the task waiting")
    finally:
        stop(first, "ctrl-c" if how == "closed-pipe" else how)
    assert [t["status"] for t in saved_tasks(data_dir)] == ["waiting_approval"]

    second = start_run(data_dir, seed, port)
    try:
        wait_for(lambda: running_tasks(data_dir) is not None, timeout=DEADLINE, what="cwsync answering again")
        status, answer = post(link, {"decision": "approve", "choice": "apply"})
        assert status == 200, answer
        assert answer["status"] == "decided"
        wait_for(lambda: task_status(data_dir) == "synced", timeout=DEADLINE, what="the task synced")
    finally:
        stop(second, "ctrl-c")
    additions = tagged(saved_connectwise(data_dir)["additions"], "SO000112")
    assert len(additions) == 1 and additions[0]["quantity"] == 10
    assert [t["status"] for t in saved_tasks(data_dir)] == ["synced"]


def test_a_decision_acknowledged_just_before_a_kill_is_kept(tmp_path):
    data_dir, port = tmp_path / "data", free_port()
    seed = write_seed(tmp_path, SALES_ORDER)
    run = start_run(data_dir, seed, port)
    try:
        link = wait_for(lambda: outbox_link(data_dir), timeout=DEADLINE, what="the confirmation link in the outbox")
        wait_for(lambda: task_status(data_dir) == "waiting_approval", timeout=DEADLINE, what="the task waiting")
        status, answer = post(link, {"decision": "approve", "choice": "apply"})
        assert status == 200, answer
        wait_for(lambda: task_status(data_dir) == "synced", timeout=DEADLINE, what="the task synced")
    finally:
        stop(run, "sigkill")
    assert [t["status"] for t in saved_tasks(data_dir)] == ["synced"]
    assert len(tagged(saved_connectwise(data_dir)["additions"], "SO000112")) == 1


KILL_SCRIPT = """
import sys, time
from cwsync_local.runtime.embedded import EmbeddedRuntime
runtime = EmbeddedRuntime(sys.argv[1], seed=sys.argv[2], parameters={"ApprovalPolicy": "never"},
                          faults={"latency_ms": 400}, function_log=sys.argv[1] + "/functions.log").start()
runtime.check()
time.sleep(3600)
"""


def connectwise_writes(data_dir: Path) -> int:
    path = data_dir / "connectwise-requests.jsonl"
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines()
               if line and json.loads(line).get("method") in ("POST", "PUT", "PATCH", "DELETE"))


def test_a_change_order_killed_during_its_writes_ends_with_its_complete_plan_once_after_a_restart(tmp_path):
    data_dir = tmp_path / "data"
    seed = write_seed(tmp_path, CHANGE_ORDER)
    # Slow ConnectWise (400 ms a request), so the kill lands while the plan is being written.
    process = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(data_dir), str(seed)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: connectwise_writes(data_dir) >= 1, timeout=DEADLINE, what="the first ConnectWise write")
    finally:
        process.kill()
        process.wait(timeout=60)
    written_before = connectwise_writes(data_dir)

    with EmbeddedRuntime(data_dir, seed=seed, parameters={"ApprovalPolicy": "never"},
                         function_log=data_dir / "functions.log") as runtime:
        assert runtime.resumed, "the task in flight got a new execution"
        runtime.wait_until_settled(timeout=DEADLINE)
        [task] = runtime.tasks()
        assert task["status"] == "synced", task.get("reason")
    cw = saved_connectwise(data_dir)
    old = next(a for a in cw["additions"] if a["id"] == 9001)
    assert old["cancelledDate"] == "2026-11-17T00:00:00Z"
    [new] = tagged(cw["additions"], "MP-SUB-101-CH000116")
    assert new["quantity"] == 12
    [prorate] = tagged(cw["adjustments"], "MP-SUB-101-CH000116", "description")
    assert str(prorate["amount"]) in ("5.6", "5.60")
    assert written_before >= 1


def test_a_decision_recorded_just_before_a_stop_is_taken_by_the_resumed_task_without_asking_again(tmp_path):
    """The approvals API records a decision, then passes it to Step Functions; a stop between the
    two leaves the decision on disk and no execution to take it. The resumed task takes it."""
    from acceptance import start_runtime, wait_for_status

    def approval_links(rt) -> set[str]:
        return {link for entry in rt.outbox() for link in entry.get("links") or [] if "/approvals/" in link}

    data_dir = tmp_path / "data"
    seed = write_seed(tmp_path, SALES_ORDER)
    first = start_runtime(data_dir, seed=str(seed), parameters={"ApprovalPolicy": "always"})
    try:
        first.check()
        waiting = wait_for_status(first, SALES_ORDER, ("waiting_approval",), timeout=DEADLINE)
        asked_before = wait_for(lambda: approval_links(first), timeout=DEADLINE, what="the confirmation link sent")
        assert first.store.decide_approval(str(waiting["approvalId"]), {
            "decision": "approve", "choice": "apply", "changes": {}, "decidedBy": "person",
            "decidedAt": "2026-12-01T11:00:00Z"})
    finally:
        first.stop()

    second = start_runtime(data_dir, seed=str(seed))
    try:
        task = wait_for_status(second, SALES_ORDER, timeout=DEADLINE)
        asked_after = approval_links(second) - asked_before
        approvals = second.store.list_approvals(task_id=SALES_ORDER)
    finally:
        second.stop()
    assert task["status"] == "synced", task.get("reason")
    assert len(asked_before) == 1 and not asked_after, "the approver was asked again for a decision already recorded"
    assert [a["status"] for a in approvals] == ["decided"]
    additions = tagged(saved_connectwise(data_dir)["additions"], "SO000112")
    assert len(additions) == 1 and additions[0]["quantity"] == 10
