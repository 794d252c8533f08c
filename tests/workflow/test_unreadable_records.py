"""Acceptance: ConnectWise records in shapes nobody planned for fail their own tasks with a reason a
billing person can act on (system, record, field, what to fix), the other tasks sync, and nothing
cwsync tells anyone (task records, notifications, approvals) shows Python's text."""
from __future__ import annotations

import pytest

from acceptance import connectwise, python_text, settled_runtime, tagged


def corrupt(rt) -> None:
    """What a tenant's data may hold after a hand edit or a newer API version: the simulator
    loads only real shapes, so these are put into its state after it started."""
    with rt.connectwise.state.lock:
        data = rt.connectwise.state.data
        agreement = next(a for a in data["agreements"] if a["id"] == 3101)
        agreement["currency"] = {"id": 1, "currencyCode": ["USD"]}
        addition = next(a for a in data["additions"] if a["id"] == 9004)
        addition["quantity"] = "eight"


@pytest.fixture(scope="module")
def rt(tmp_path_factory, data_set):
    from acceptance import start_runtime

    runtime = start_runtime(tmp_path_factory.mktemp("unreadable"), seed=data_set,
                            parameters={"ApprovalPolicy": "never"})
    try:
        corrupt(runtime)
        runtime.check()
        runtime.wait_until_settled(timeout=180)
        yield runtime
    finally:
        runtime.stop()


def task(rt, order_number: str) -> dict:
    [found] = [t for t in rt.tasks() if t.get("orderNumber") == order_number]
    return found


@pytest.mark.parametrize("order", ["SO000112", "CH000116", "CH000118"])
def test_an_agreement_with_an_unreadable_currency_fails_its_tasks_naming_agreement_field_and_fix(rt, order):
    failed = task(rt, order)
    assert failed["status"] == "failed"
    assert failed["reason"] == ('ConnectWise agreement 3101: currency/currencyCode is ["USD"], not a currency code; '
                                "correct the agreement in ConnectWise and check again")


def test_an_unreadable_addition_fails_the_task_that_reads_it(rt):
    failed = task(rt, "CL000119")
    assert failed["status"] == "failed"
    assert failed["reason"].startswith('ConnectWise addition 9004: quantity is "eight", not a number; ')


def test_orders_that_do_not_read_the_broken_records_still_sync(rt):
    assert task(rt, "BO000110")["status"] == "synced"
    assert task(rt, "RN000115")["status"] == "nothing_to_change"
    cw = connectwise(rt)
    assert not tagged(cw["additions"], "SO000112") and not tagged(cw["adjustments"], "SO000112", "description")


def test_the_operator_is_told_what_to_fix(rt):
    [note] = [e for e in rt.outbox() if str(e.get("subject", "")).startswith("Sync failed: order SO000112")]
    assert "ConnectWise agreement 3101: currency/currencyCode" in note["message"]
    assert "Correct the ConnectWise record named above" in note["message"]


def test_nothing_cwsync_told_anyone_shows_python_text(rt):
    assert python_text(rt) == []
