"""check_changes on the in-memory fakes (`tests/fakes`): which orders become tasks, what the
watermark does, and what each run reads again. The same on moto and over HTTP: tests/integration/test_check_changes.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from cwsync.errors import ExternalApiError, TransientError
from cwsync.services.check_changes import check_changes
from cwsync.services.operator import allowed_actions
from fakes import FakeMarketplace, FakeStore, FakeWorkflow

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def order(number: int, created: datetime, *, status="completed", kind="sales", **changes) -> dict:
    detail = {
        "id": f"ORD-{number}", "orderNumber": f"SO{number:06d}", "type": kind, "customerId": "1000048531",
        "creationDate": iso(created), "status": status, "subscriptionId": f"SUB-{number}",
        "total": {"currency": "USD", "amount": 12.0},
        "products": [{"mpn": "MS-365-BB", "name": "Microsoft 365 Business Basic", "quantity": 2,
                      "billingPeriod": {"type": "month", "duration": 1}, "subscriptionId": f"SUB-{number}",
                      "type": "CREATE"}],
        "details": [{"type": "recurring", "mpn": "MS-365-BB", "quantity": 2,
                     "unitPrice": {"amount": 4.8, "currency": "USD"},
                     "salesUnitPrice": {"amount": 6.0, "currency": "USD"}}],
    }
    detail.update(changes)
    return detail


@pytest.fixture
def deps():
    return SimpleNamespace(store=FakeStore(), marketplace=FakeMarketplace(),
                           workflow=FakeWorkflow(),
                           settings=SimpleNamespace(first_run_lookback_days=30, overlap_minutes=30))


def test_first_run_reads_thirty_days_and_makes_one_task_per_completed_order(deps):
    deps.marketplace.add(order(1, NOW - timedelta(days=2)))
    deps.marketplace.add(order(2, NOW - timedelta(days=31)))  # before the first-run window
    result = check_changes(deps, now=NOW)
    assert result.window_from == NOW - timedelta(days=30)
    assert result.new_tasks == ["ORD-1"] and deps.workflow.started == ["ORD-1"]
    task = deps.store.get_task("ORD-1")
    assert task["status"] == "new" and task["taskType"] == "sales" and task["order"]["orderNumber"] == "SO000001"
    assert task["workflowStartedAt"]
    assert deps.store.get_watermark() == NOW - timedelta(days=2)
    assert "1 new task" in result.summary()


def test_second_run_reads_from_the_watermark_minus_the_overlap_and_fetches_nothing_again(deps):
    deps.marketplace.add(order(1, NOW - timedelta(hours=1)))
    check_changes(deps, now=NOW)
    calls = len(deps.marketplace.detail_calls)
    again = check_changes(deps, now=NOW + timedelta(minutes=15))
    assert again.window_from == NOW - timedelta(hours=1, minutes=30)
    assert again.already_known == ["ORD-1"] and again.new_tasks == []
    assert len(deps.marketplace.detail_calls) == calls and deps.workflow.started == ["ORD-1"]


def test_pending_orders_are_not_stored_and_hold_the_watermark(deps):
    deps.marketplace.add(order(1, NOW - timedelta(hours=5)))
    deps.marketplace.add(order(2, NOW - timedelta(hours=4), status="processing"))
    deps.marketplace.add(order(3, NOW - timedelta(hours=3)))
    result = check_changes(deps, now=NOW)
    assert result.pending == ["ORD-2"] and sorted(result.new_tasks) == ["ORD-1", "ORD-3"]
    assert "ORD-2" not in deps.marketplace.detail_calls  # the list said it is unfinished
    assert deps.store.get_task("ORD-2") is None
    assert deps.store.get_watermark() == NOW - timedelta(hours=5)

    deps.marketplace.add(order(2, NOW - timedelta(hours=4)))  # it completes
    later = check_changes(deps, now=NOW + timedelta(minutes=15))
    assert later.new_tasks == ["ORD-2"] and sorted(later.already_known) == ["ORD-1", "ORD-3"]
    assert deps.store.get_watermark() == NOW - timedelta(hours=3)


def test_a_malformed_order_becomes_an_invalid_task_and_the_rest_goes_on(deps):
    deps.marketplace.add(order(1, NOW - timedelta(hours=3)))
    deps.marketplace.add(order(2, NOW - timedelta(hours=2), products=[{"mpn": "X", "billingPeriod": "monthly"}]))
    deps.marketplace.add(order(3, NOW - timedelta(hours=1)))
    result = check_changes(deps, now=NOW)
    assert result.invalid == ["ORD-2"] and sorted(result.new_tasks) == ["ORD-1", "ORD-3"]
    task = deps.store.get_task("ORD-2")
    assert task["status"] == "invalid" and "billingPeriod" in task["reason"]
    assert "ORD-2" not in deps.workflow.started
    assert deps.store.get_watermark() == NOW - timedelta(hours=1)
    deps.settings.overlap_minutes = 180
    calls = len(deps.marketplace.detail_calls)
    assert "ORD-2" in check_changes(deps, now=NOW).already_known
    assert len(deps.marketplace.detail_calls) == calls  # not fetched again


def test_cancelled_and_migration_orders_are_stored_as_ignored(deps):
    deps.marketplace.add(order(1, NOW - timedelta(hours=2), status="cancelled"))
    deps.marketplace.add(order(2, NOW - timedelta(hours=1), kind="migration"))
    result = check_changes(deps, now=NOW)
    assert sorted(result.ignored) == ["ORD-1", "ORD-2"] and result.new_tasks == []
    assert deps.marketplace.detail_calls == ["ORD-2"]  # the list already said "cancelled"
    assert deps.store.get_task("ORD-1")["status"] == "ignored"


def test_a_detail_that_fails_for_now_is_read_again_next_run(deps):
    deps.marketplace.add(order(1, NOW - timedelta(hours=2)))
    deps.marketplace.add(order(2, NOW - timedelta(hours=1)))
    deps.marketplace.failing["ORD-1"] = TransientError("503 from the marketplace")
    result = check_changes(deps, now=NOW)
    assert result.deferred == ["ORD-1"] and result.new_tasks == ["ORD-2"]
    assert deps.store.get_watermark() is None  # nothing stored at or before ORD-1
    del deps.marketplace.failing["ORD-1"]
    assert check_changes(deps, now=NOW).new_tasks == ["ORD-1"]


def test_a_refused_detail_is_an_invalid_task_but_an_auth_failure_stops_the_run(deps):
    deps.marketplace.add(order(1, NOW - timedelta(hours=1)))
    deps.marketplace.failing["ORD-1"] = ExternalApiError("404 no such order", status=404)
    assert check_changes(deps, now=NOW).invalid == ["ORD-1"]
    deps.marketplace.add(order(2, NOW - timedelta(minutes=30)))
    deps.marketplace.failing["ORD-2"] = ExternalApiError("401 bad credentials", status=401)
    with pytest.raises(ExternalApiError):
        check_changes(deps, now=NOW)


def test_a_list_entry_without_an_id_is_skipped(deps):
    deps.marketplace.add(order(1, NOW - timedelta(hours=1)))
    deps.marketplace.details["weird"] = {"creationDate": iso(NOW - timedelta(hours=2)), "status": "completed"}
    result = check_changes(deps, now=NOW)
    assert result.unreadable == 1 and result.new_tasks == ["ORD-1"]


def test_a_list_entry_without_an_id_is_named_in_the_runs_summary(deps):
    deps.marketplace.details["weird"] = {"orderNumber": "SO000009", "status": "completed",
                                         "creationDate": iso(NOW - timedelta(hours=2))}
    result = check_changes(deps, now=NOW)
    assert result.unreadable == 1
    assert "1 unreadable list entries skipped (The marketplace order SO000009 (no id): id is missing" in result.summary()


def test_an_order_whose_list_entry_cannot_be_read_is_an_invalid_task_naming_the_field_and_the_others_go_on(deps):
    deps.marketplace.add(order(1, NOW - timedelta(hours=1)))
    deps.marketplace.add(order(2, NOW - timedelta(hours=2), status=["completed"]))
    deps.marketplace.add(order(3, NOW - timedelta(hours=3)))
    result = check_changes(deps, now=NOW)
    assert sorted(result.new_tasks) == ["ORD-1", "ORD-3"] and result.invalid == ["ORD-2"]
    task = deps.store.get_task("ORD-2")
    assert task["status"] == "invalid" and task["orderNumber"] == "SO000002"
    assert task["reason"] == ("The marketplace order SO000002 (ORD-2): status is [\"completed\"], not text; "
                              "check the order in the marketplace and handle it by hand in ConnectWise")
    assert "ORD-2" not in deps.marketplace.detail_calls and "ORD-2" not in deps.workflow.started


def test_a_task_stored_without_its_execution_is_started_by_the_next_run(deps):
    class Broken:
        def start(self, task_id):
            raise RuntimeError("Step Functions throttled")

    deps.marketplace.add(order(1, NOW - timedelta(hours=1)))
    working = deps.workflow
    deps.workflow = Broken()
    first = check_changes(deps, now=NOW)
    assert first.new_tasks == ["ORD-1"] and first.not_started == ["ORD-1"]
    task = deps.store.get_task("ORD-1")  # stored marked started; the failed start cleared the mark
    assert not task.get("workflowStartedAt") and "sync" in allowed_actions(task)
    assert deps.store.check_items()[2] == []  # the start was answered: no batch left to finish
    deps.workflow = working
    second = check_changes(deps, now=NOW)
    assert second.restarted == ["ORD-1"] and working.started == ["ORD-1"]
    assert check_changes(deps, now=NOW).restarted == []


def test_the_watermark_never_moves_back_when_an_old_run_finishes_late(deps):
    deps.marketplace.add(order(1, NOW - timedelta(hours=1)))
    check_changes(deps, now=NOW)
    deps.store.advance_watermark(NOW)  # a newer run got further meanwhile
    check_changes(deps, now=NOW)
    assert deps.store.get_watermark() == NOW


def test_the_result_is_json_and_words(deps):
    deps.marketplace.add(order(1, NOW - timedelta(hours=1)))
    deps.marketplace.add(order(2, NOW - timedelta(hours=2), status="submitted"))
    result = check_changes(deps, now=NOW)
    data = result.to_dict()
    assert data["counts"]["new"] == 1 and data["counts"]["pending"] == 1 and data["newTasks"] == ["ORD-1"]
    assert result.summary() == ("Checked 2 orders created since 2026-01-02 12:00 UTC: 1 new task, "
                                "1 not completed yet (read again next run).")


class ListingMarketplace(FakeMarketplace):
    """A listing that may hold two different orders under one id (as a faulty marketplace might)."""

    def __init__(self, listed):
        super().__init__(orders=listed)
        self.listed = listed

    def orders(self, created_from=None, created_to=None, status=None, page_size=500):
        yield from ({k: v for k, v in o.items() if k not in ("products", "details")} for o in self.listed)


def test_two_different_orders_under_one_id_or_number_are_flagged_invalid_never_merged(deps):
    first = order(1, NOW - timedelta(hours=3))
    same_id = order(2, NOW - timedelta(hours=2), id="ORD-1")
    same_number = order(3, NOW - timedelta(hours=1), orderNumber="SO000004")
    fourth = order(4, NOW - timedelta(hours=1))
    deps.marketplace = ListingMarketplace([first, same_id, same_number, fourth])
    result = check_changes(deps, now=NOW)
    assert result.new_tasks == [] and deps.workflow.started == []
    for order_id in ("ORD-1", "ORD-3", "ORD-4"):
        task = deps.store.get_task(order_id)
        assert task["status"] == "invalid", order_id
        assert "neither is synced automatically" in task["reason"]
    assert "SO000001" in deps.store.get_task("ORD-1")["reason"] and "SO000002" in deps.store.get_task("ORD-1")["reason"]


def test_an_order_with_an_implausible_value_is_an_invalid_task_naming_the_field(deps):
    deps.marketplace.add(order(1, NOW - timedelta(hours=3), provisioningDate="1970-01-01T00:00:00Z"))
    deps.marketplace.add(order(2, NOW - timedelta(hours=2)))
    check_changes(deps, now=NOW)
    task = deps.store.get_task("ORD-1")
    assert task["status"] == "invalid" and "provisioningDate 1970-01-01" in task["reason"]
    assert deps.store.get_task("ORD-2")["status"] == "new"


def test_the_summary_names_every_kind_of_outcome_in_a_fixed_order():
    from cwsync.services.check_result import CheckResult

    result = CheckResult(NOW - timedelta(days=1), NOW, None, listed=12, new_tasks=["A"], pending=["B", "C"],
                         invalid=["D"], ignored=["E"], already_known=["F", "G"], deferred=["H"], restarted=["I", "J"],
                         not_started=["K"], unreadable=3, stopped_at=40)
    assert result.summary() == (
        "Checked 12 orders created since 2026-01-31 12:00 UTC: 1 new task, 2 not completed yet (read again next run), "
        "1 invalid (see the task for the reason), 1 ignored, 2 already known, 1 could not be read now (tried again "
        "next run), 2 earlier tasks started, 1 not started (retried next run), 3 unreadable list entries skipped, "
        "stopped near the time limit after 40 listed orders (the next run goes on from there).")
    assert CheckResult(NOW - timedelta(days=1), NOW, None, listed=1).summary() == (
        "Checked 1 order created since 2026-01-31 12:00 UTC: 0 new tasks.")
