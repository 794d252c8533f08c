"""Acceptance: with the ConnectWise simulator throttled to 60 requests a minute, `--auto-approve`
neither gives up nor leaves a task stuck: approvals are answered while throttled steps wait,
and every task ends synced or with a reason that is not the throttling."""
from __future__ import annotations

from acceptance import demo_seed, start_runtime
from cwsync.vocabulary import FINAL_STATUSES


def test_a_throttled_connectwise_slows_the_sync_down_but_fails_or_blocks_nothing(tmp_path):
    console: list[str] = []
    # A sales order, a change order, and one asking which agreement (auto-approve answers it).
    runtime = start_runtime(tmp_path / "data", seed=demo_seed({"5000112", "5000116", "5000117"}),
                            parameters={"ApprovalPolicy": "never"}, faults={"throttle": 60},
                            auto_approve=True, echo=console.append)
    try:
        runtime.check()
        tasks = runtime.wait_until_settled(timeout=900)
    finally:
        runtime.stop()
    assert {task["status"] for task in tasks} <= set(FINAL_STATUSES) | {"waiting_approval"}
    assert [task["status"] for task in tasks if task["taskId"] in ("5000112", "5000116")] == ["synced"] * 2
    assert not [task for task in tasks if "many requests" in str(task.get("reason") or "").lower()]
    assert not [line for line in console if "approvals API answered" in line], console
