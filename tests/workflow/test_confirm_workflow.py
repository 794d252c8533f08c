"""Acceptance: with ApprovalPolicy=always the planned changes wait for a person, who sees the plan
(JSON view of the signed link), may edit it, and what they approved is what lands in ConnectWise."""
from __future__ import annotations

import pytest

from acceptance import (answered_link, connectwise, decide, invocations, notified, notification_link, settled_runtime, tagged, view,
                        wait_for_status)

ADDITION = "create-addition:MP-SUB-104-SO000112"


@pytest.fixture(scope="module")
def rt(tmp_path_factory, data_set):
    with settled_runtime(tmp_path_factory.mktemp("confirm"), seed=data_set,
                         parameters={"ApprovalPolicy": "always"}) as runtime:
        yield runtime


def test_the_confirmation_shows_the_plan_and_the_approvers_edit_is_what_lands_in_connectwise(rt):
    approval_id, link = notification_link(rt, "5000112", "confirm")
    assert not tagged(connectwise(rt)["additions"], "SO000112")            # nothing written before the decision
    status, page = view(link)
    assert status == 200 and page["kind"] == "confirm"
    operations = {op["key"]: op for op in page["plan"]["operations"]}
    assert operations[ADDITION]["action"] == "create_addition"
    assert operations[ADDITION]["fields"]["quantity"] == "10"
    assert any(op["action"] == "create_adjustment" for op in operations.values())   # the setup fee
    applied = invocations(rt, "ApplyChangesFunction")
    status, answer = decide(link, {"decision": "approve", "choice": "apply",
                                   "changes": {ADDITION: {"quantity": "11"}}})
    assert status == 200, answer
    task = wait_for_status(rt, "5000112")
    assert task["status"] == "synced", task["reason"]
    [addition] = tagged(connectwise(rt)["additions"], "MP-SUB-104-SO000112")
    assert addition["quantity"] == 11
    assert invocations(rt, "ApplyChangesFunction") == applied + 1
    [note] = notified(rt, "Synced: order SO000112")
    assert "quantity 11" in note["message"]


def test_a_second_post_on_the_confirmation_is_refused_with_409_and_nothing_is_applied_again(rt):
    link = answered_link(rt, "5000112", "confirm", {"decision": "approve", "choice": "apply"})
    wait_for_status(rt, "5000112")
    before, applied = connectwise(rt), invocations(rt, "ApplyChangesFunction")
    status, answer = decide(link, {"decision": "approve", "choice": "apply",
                                   "changes": {ADDITION: {"quantity": "99"}}})
    assert status == 409 and "already" in answer["error"]["message"]
    rt.wait_until_settled(timeout=30)
    assert connectwise(rt)["additions"] == before["additions"]
    assert connectwise(rt)["adjustments"] == before["adjustments"]
    assert invocations(rt, "ApplyChangesFunction") == applied


def test_rejecting_the_confirmation_ends_the_task_rejected_and_writes_nothing(rt):
    approval_id, link = notification_link(rt, "5000118", "confirm")
    status, answer = decide(link, {"decision": "reject", "reason": "The customer disputes the downgrade"})
    assert status == 200, answer
    task = wait_for_status(rt, "5000118")
    assert task["status"] == "rejected" and "disputes the downgrade" in task["reason"]
    [note] = notified(rt, "Rejected: order CH000118")
    assert "disputes the downgrade" in note["message"]
    cw = connectwise(rt)
    assert not next(a for a in cw["additions"] if a["id"] == 9002).get("cancelledDate")
    assert not tagged(cw["additions"], "CH000118") and not tagged(cw["adjustments"], "CH000118", "description")

