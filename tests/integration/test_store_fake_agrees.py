"""The in-memory store the unit tests use (`tests/fakes`) keeps the real store's rules: the same
sequence of calls gives the same answers on both (the real one on moto DynamoDB)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tests.conftest import TABLE_NAME
from cwsync.adapters.store import Store, format_time
from cwsync.errors import TaskNotFound
from cwsync.ports import StorePort
from fakes import FakeStore

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["fake", "dynamodb"])
def store(request):
    if request.param == "fake":
        return FakeStore(clock=lambda: NOW)
    return Store(TABLE_NAME, client=request.getfixturevalue("dynamodb"))


def test_both_stores_are_store_ports(store):
    assert isinstance(store, StorePort)


def test_a_task_is_created_once_keeps_its_history_and_numbers_come_back_as_decimals(store):
    assert store.create_task({"taskId": "T1", "order": {"total": 12, "price": 4.8}}, now=NOW) is True
    assert store.create_task({"taskId": "T1"}, now=NOW) is False
    moved = store.update_task("T1", "in_progress", "started", now=NOW + timedelta(seconds=1), plan={"total": "6.00"})
    assert moved["status"] == "in_progress" and [h["status"] for h in moved["history"]] == ["new", "in_progress"]
    task = store.get_task("T1")
    assert task["order"] == {"total": Decimal(12), "price": Decimal("4.8")} and task["plan"] == {"total": "6.00"}
    assert store.update_task("T1", "synced", "done", expected_status="new") is None
    assert store.get_task("T1")["status"] == "in_progress"
    with pytest.raises(TaskNotFound):
        store.update_task("T2", "synced")
    with pytest.raises(TaskNotFound):
        store.set_task_attributes("T2", x=1)


def test_an_approval_is_decided_once_and_listed_by_task_and_status(store):
    expires = NOW + timedelta(days=1)
    assert store.put_approval({"approvalId": "A1", "taskId": "T1", "expiresAt": expires}) is True
    assert store.put_approval({"approvalId": "A1", "taskId": "T1", "expiresAt": expires}) is False
    assert [a["approvalId"] for a in store.list_approvals(task_id="T1", status="pending")] == ["A1"]
    assert store.decide_approval("A1", {"decision": "approve"}, now=NOW) is True
    assert store.decide_approval("A1", {"decision": "reject"}, now=NOW) is False
    assert store.list_approvals(status="pending") == []
    assert store.settle_decided_approval("A1", "pending") is True
    assert "decision" not in store.get_approval("A1")
    assert store.decide_approval("A1", {"decision": "approve"}, now=expires) is False  # expired by then


def test_the_first_applied_record_wins_and_the_watermark_never_moves_back(store):
    assert store.record_applied("T1", "op-1", {"id": 7}, now=NOW) is True
    assert store.record_applied("T1", "op-1", {"id": 8}, now=NOW) is False
    assert store.get_applied("T1", "op-1")["result"] == {"id": Decimal(7)}
    assert store.advance_watermark(NOW) is True
    assert store.advance_watermark(NOW - timedelta(hours=1)) is False
    assert store.get_watermark() == NOW


def test_links_are_remembered_with_their_ids_as_text(store):
    store.put_customer_link("C1", 17, "Green Lane LLC", linkedBy="match")
    store.put_product_link("MPN-1", 7, "SKU-7")
    store.put_subscription_link("SUB-1", 12)
    assert store.get_customer_link("C1")["companyId"] == "17"
    assert store.get_product_link("MPN-1")["catalogItemId"] == "7"
    assert store.get_subscription_link("SUB-1")["agreementId"] == "12"
    assert store.get_customer_link("C2") is None


def test_links_are_listed_confirmed_and_undone_alike_with_an_audit_entry_each(store):
    store.put_customer_link("C1", 17, "Green Lane LLC", linkedBy="match", automatic=True, basis="exact-name")
    store.put_product_link("M365-BB", 7, "M365-BB", linkedBy="approval", automatic=False)
    store.put_subscription_link("SUB-1", 301, linkedBy="match", agreementName="Cloud")
    listed = {(link["kind"], link["key"]): link for link in store.list_links()}
    assert set(listed) == {("customer", "C1"), ("product", "M365-BB"), ("subscription", "SUB-1")}
    assert listed[("customer", "C1")]["companyId"] == "17" and "PK" not in listed[("customer", "C1")]

    linked_at = listed[("customer", "C1")]["linkedAt"]
    assert store.confirm_link("customer", "C1", "dana", linked_at="2000-01-01T00:00:00.000Z", now=NOW) is None
    confirmed = store.confirm_link("customer", "C1", "dana", linked_at=linked_at, now=NOW)
    assert confirmed["reviewedBy"] == "dana"
    assert store.get_customer_link("C1")["reviewedBy"] == "dana"

    assert store.link_undone("product", "M365-BB") is None
    undone = store.undo_link("product", "M365-BB", "dana", "wrong item",
                             linked_at=listed[("product", "M365-BB")]["linkedAt"], now=NOW + timedelta(seconds=1))
    assert undone["catalogItemId"] == "7"
    assert store.get_product_link("M365-BB") is None
    assert store.link_undone("product", "M365-BB")["reason"] == "wrong item"
    assert {(link["kind"], link["key"]) for link in store.list_links()} == {("customer", "C1"), ("subscription", "SUB-1")}
    assert store.undo_link("product", "M365-BB", "dana", "again", linked_at=None) is None

    audit = store.link_audit()
    assert [(a["action"], a["kind"], a["key"], a["by"], a["reason"]) for a in audit] == [
        ("undo", "product", "M365-BB", "dana", "wrong item"), ("confirm", "customer", "C1", "dana", None)]
    assert audit[0]["link"]["catalogItemId"] == "7"


def test_a_fresher_catalog_snapshot_keeps_when_the_link_was_made_and_never_brings_back_an_undone_link(store):
    store.put_product_link("M365-BB", 7, "M365-BB", linkedBy="match", automatic=True)
    linked_at = store.get_product_link("M365-BB")["linkedAt"]
    assert store.refresh_product_snapshot("M365-BB", linked_at=linked_at, catalogItem={"id": 7, "price": Decimal("6")},
                                          snapshotAt="2026-03-01T09:00:00+00:00") is True
    link = store.get_product_link("M365-BB")
    assert link["linkedAt"] == linked_at and link["catalogItem"] == {"id": 7, "price": Decimal("6")}
    store.undo_link("product", "M365-BB", "dana", "wrong item", linked_at=linked_at, now=NOW)
    assert store.refresh_product_snapshot("M365-BB", linked_at=linked_at, catalogItem={"id": 7},
                                          snapshotAt="2026-03-01T09:00:00+00:00") is False
    assert store.get_product_link("M365-BB") is None


@pytest.mark.parametrize(("kind", "put"), [
    ("customer", lambda store: store.put_customer_link("C1", 17, "Green Lane", linkedBy="approval")),
    ("product", lambda store: store.put_product_link("C1", 7, "M365-BB", linkedBy="approval")),
    ("subscription", lambda store: store.put_subscription_link("C1", 301, linkedBy="approval"))])
def test_a_link_made_again_after_undo_clears_the_undone_marker_and_undo_leaves_a_new_one(store, kind, put):
    put(store)
    store.undo_link(kind, "C1", "dana", "check it", linked_at=store.get_link(kind, "C1")["linkedAt"])
    assert store.link_undone(kind, "C1")["reason"] == "check it"
    put(store)
    assert store.link_undone(kind, "C1") is None and store.get_link(kind, "C1") is not None
    store.undo_link(kind, "C1", "erin", "again", linked_at=store.get_link(kind, "C1")["linkedAt"])
    assert (store.link_undone(kind, "C1")["by"], store.get_link(kind, "C1")) == ("erin", None)


def test_attempts_count_from_one_and_notifications_and_attributes_land_on_the_task(store):
    store.create_task({"taskId": "T1"}, now=NOW)
    assert store.next_attempt("T1") == 2 and store.next_attempt("T1") == 3
    store.add_task_notification("T1", {"at": "2026-03-01T09:00:00.000Z", "subject": "first"})
    store.add_task_notification("T1", {"at": "2026-03-01T09:01:00.000Z", "subject": "second"})
    store.set_task_attributes("T1", workflowStartedAt="2026-03-01T09:00:00.000Z")
    task = store.get_task("T1")
    assert task["attempt"] == 3 and [n["subject"] for n in task["notifications"]] == ["first", "second"]
    assert task["workflowStartedAt"] == "2026-03-01T09:00:00.000Z" and task["status"] == "new"
    assert store.known_tasks(["T1", "T9"]) == {"T1": {"taskId": "T1", "status": "new",
                                                      "workflowStartedAt": "2026-03-01T09:00:00.000Z"}}
    for missing in (lambda: store.next_attempt("T9"), lambda: store.add_task_notification("T9", {"subject": "x"})):
        with pytest.raises(TaskNotFound):
            missing()


def test_an_open_approval_is_rebound_and_a_decided_one_can_expire_once(store):
    expires = NOW + timedelta(days=1)
    store.put_approval({"approvalId": "A1", "taskId": "T1", "token": "old", "expiresAt": expires})
    assert store.rebind_approval("A1", "new", execution_name="T1-2") is True
    assert (store.get_approval("A1")["token"], store.get_approval("A1")["executionName"]) == ("new", "T1-2")
    assert store.decide_approval("A1", {"decision": "approve"}, now=NOW) is True
    assert store.rebind_approval("A1", "newer") is True and store.get_approval("A1")["token"] == "newer"
    assert store.settle_decided_approval("A1", "expired") is True
    assert store.settle_decided_approval("A1", "pending") is False
    assert store.rebind_approval("A1", "newest") is False and store.get_approval("A1")["token"] == "newer"
    assert store.get_approval("A1")["status"] == "expired" and store.rebind_approval("missing", "t") is False


def test_a_checkpoint_is_cleared_only_by_its_own_window(store):
    store.advance_watermark(NOW)
    store.save_checkpoint({"windowTo": "2026-03-01T09:00:00Z", "seen": 5})
    assert store.check_state() == (format_time(NOW), {"windowTo": "2026-03-01T09:00:00Z", "seen": 5})
    assert store.clear_checkpoint("2026-03-01T08:00:00Z") is False
    assert store.clear_checkpoint("2026-03-01T09:00:00Z") is True
    assert store.check_state() == (format_time(NOW), None) and store.clear_checkpoint("2026-03-01T09:00:00Z") is False


def test_only_the_first_apply_attempt_a_task_ever_has_is_told_it_is_the_first(store):
    store.create_task({"taskId": "T1"}, now=NOW)
    assert store.begin_apply("T1", now=NOW) is True
    assert store.begin_apply("T1", now=NOW + timedelta(seconds=5)) is False  # a retry, or a racing execution
    task = store.get_task("T1")
    assert task["applyBegunAt"] == format_time(NOW)  # the first attempt's time is kept
    assert task["applyStartedAt"] == format_time(NOW + timedelta(seconds=5))
    # "Sync again" clears the plan's marker; the task's own stays, so the next attempt is not a first one.
    store.update_task("T1", "in_progress", "again", applyStartedAt=None)
    assert store.begin_apply("T1", now=NOW + timedelta(minutes=1)) is False
    # A task whose writes began before the task-wide marker existed is not a first attempt either.
    store.create_task({"taskId": "T2", "applyStartedAt": format_time(NOW)}, now=NOW)
    assert store.begin_apply("T2", now=NOW) is False
    assert store.get_task("T2")["applyBegunAt"] == format_time(NOW)
    with pytest.raises(TaskNotFound):
        store.begin_apply("T3", now=NOW)


def test_starts_under_way_are_read_with_the_watermark_and_gone_once_ended(store):
    store.advance_watermark(NOW)
    store.begin_starts("k1", ["T1", "T2"], format_time(NOW))
    store.begin_starts("k2", ["T3"], format_time(NOW + timedelta(minutes=1)))
    watermark, checkpoint, starts = store.check_items()
    assert watermark == format_time(NOW) and checkpoint is None
    assert starts == [{"key": "k1", "taskIds": ["T1", "T2"], "at": format_time(NOW)},
                      {"key": "k2", "taskIds": ["T3"], "at": format_time(NOW + timedelta(minutes=1))}]
    assert store.check_state() == (format_time(NOW), None)
    store.end_starts("k1")
    store.end_starts("k1")  # a second end is harmless
    assert [item["key"] for item in store.check_items()[2]] == ["k2"]
