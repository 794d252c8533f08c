"""Acceptance: a throttled ConnectWise slows the sync down but fails or blocks nothing.

With the simulator throttled to 60 requests a minute, `--auto-approve` neither gives up nor
leaves a task stuck: approvals are answered while throttled steps wait, and every task ends
synced or with a reason that is not the throttling. And many tasks at once through the
runtime, against ConnectWise as an external service throttled at 40 a minute (the small
size of `make bench ARGS="throttle --runtime"`), all sync, each addition once, with no
request refused twice in a row: the executions share the limit through the table.
"""
from __future__ import annotations

from decimal import Decimal

from acceptance import demo_seed, start_runtime
from cwsync.vocabulary import FINAL_STATUSES
from cwsync_local.loadtest import TEMPLATE_ORDER, demo_like_seed
from cwsync_local.runtime_load import run_through_runtime

LIMIT, TASKS = 40, 20  # about 3 ConnectWise requests a task: more than a minute's budget


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


def test_many_tasks_at_once_through_the_runtime_against_a_throttled_connectwise_all_sync_each_once(tmp_path):
    seed = demo_like_seed(TASKS)
    line = next(o for o in demo_seed()["marketplace"]["orders"] if o["orderNumber"] == TEMPLATE_ORDER)["details"][0]
    run = run_through_runtime(seed, LIMIT, tmp_path, concurrency=8, timeout=1500)
    summary = run.summary()
    assert run.outcomes() == {"synced": TASKS}, summary
    assert run.throttling_reasons() == [], summary
    assert run.most_refusals_in_a_row <= 1, summary
    added = run.added_once("MP-SUB-B")
    assert len(added) == TASKS and set(added.values()) == {1}, added  # each task's addition, once
    live = [a for a in run.additions if str(a.get("serialNumber", "")).startswith("MP-SUB-B")]
    assert {(a["quantity"], Decimal(str(a["unitPrice"]))) for a in live} == {
        (line["quantity"], Decimal(line["salesUnitPrice"]["amount"]))}
    assert len(run.sync_requests()) > LIMIT and run.waited_for_tokens > 0  # the limit really was in the way
