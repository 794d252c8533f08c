"""Acceptance: an approval nobody answers expires — the task ends `expired`, the operator is told,
and the link then answers 410. ApprovalTimeoutSeconds=3: the state machine waits that long for real."""
from __future__ import annotations

import pytest

from acceptance import connectwise, decide, demo_seed, http, notified, notification_link, start_runtime, tagged, \
    wait_for_status


@pytest.fixture(scope="module")
def rt(tmp_path_factory, data_set):
    # Only SO000117 (two eligible agreements: an agreement approval) among the recent orders.
    runtime = start_runtime(tmp_path_factory.mktemp("timeout"), seed=demo_seed({"5000117"}, data_set),
                            parameters={"ApprovalPolicy": "never", "ApprovalTimeoutSeconds": "3"})
    try:
        yield runtime
    finally:
        runtime.stop()


def test_an_unanswered_approval_expires_the_task_notifies_and_the_link_then_answers_410(rt):
    rt.check()
    approval_id, link = notification_link(rt, "5000117", "agreement", timeout=60)
    task = wait_for_status(rt, "5000117", timeout=30)
    assert task["status"] == "expired" and "expired" in task["reason"]
    [note] = notified(rt, "Expired: order SO000117")
    assert "expired" in note["message"]
    status, _ = http("GET", link)
    assert status == 410
    status, answer = decide(link, {"decision": "approve", "choice": "3401"})
    assert status == 410
    assert rt.task("5000117")["status"] == "expired"
    assert not tagged(connectwise(rt)["additions"], "SO000117")
