"""Check Changes over real HTTP (marketplace simulator) into DynamoDB on moto.

Request economy is read from the simulator's request log: a run over N new orders makes
at most ceil(N/500)+1 list calls and one detail call per new order, none for known ones.
"""
from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import boto3
import pytest

from cwsync.adapters.http import RetryPolicy
from cwsync.adapters.marketplace import MarketplaceClient
from cwsync.adapters.store import Store
from cwsync.services.check_changes import check_changes
from cwsync_local.simulators import marketplace as marketplace_sim

TABLE = "cwsync-test"  # the shared `dynamodb` fixture's table
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_order(number: int, created: datetime, *, status: str = "completed", **changes) -> dict:
    subscription = f"SUB-{number:05d}"
    detail = {
        "id": f"{100000 + number}", "orderNumber": f"SO{number:06d}", "type": "sales",
        "customerId": "1000048531", "creationDate": iso(created), "status": status,
        "subscriptionId": subscription, "billingModel": "chargeBeforeBillingPeriod",
        "total": {"currency": "USD", "amount": 12.0},
        "products": [{"mpn": "MS-365-BB", "name": "Microsoft 365 Business Basic", "quantity": 2,
                      "billingPeriod": {"type": "month", "duration": 1}, "subscriptionId": subscription,
                      "type": "CREATE"}],
        "details": [{"type": "recurring", "mpn": "MS-365-BB", "quantity": 2,
                     "unitPrice": {"amount": 4.8, "currency": "USD"},
                     "salesUnitPrice": {"amount": 6.0, "currency": "USD"}}],
    }
    detail.update(changes)
    return detail


def orders_between(count: int, *, start: int = 0, newest: datetime = NOW - timedelta(minutes=5)) -> list[dict]:
    return [make_order(start + i, newest - timedelta(minutes=start + i)) for i in range(count)]


class CountingWorkflow:
    """Like Step Functions: one execution per name; a second start of a name is refused."""

    def __init__(self):
        self.lock = threading.Lock()
        self.executions: list[str] = []
        self.attempts = 0

    def start(self, task_id: str) -> bool:
        with self.lock:
            self.attempts += 1
            if task_id in self.executions:
                return False
            self.executions.append(task_id)
            return True


@pytest.fixture
def sim(tmp_path):
    running = marketplace_sim.start({"marketplace": {"orders": []}}, request_log=tmp_path / "requests.jsonl")
    yield running
    running.stop()


@pytest.fixture
def workflow():
    return CountingWorkflow()


def make_deps(sim, workflow, **settings):
    client = MarketplaceClient.from_secret({"baseUrl": sim.url, **sim.credentials}, retry=RetryPolicy.fast())
    return SimpleNamespace(
        store=Store(TABLE, client=boto3.client("dynamodb")), marketplace=client, workflow=workflow,
        settings=SimpleNamespace(**{"first_run_lookback_days": 30, "overlap_minutes": 30, **settings}))


def calls(sim, since: int = 0) -> tuple[int, int]:
    """(list calls, detail calls) logged after the first `since` entries."""
    log = sim.requests()[since:]
    lists = sum(1 for r in log if r["method"] == "GET" and r["path"] == "/orders")
    details = sum(1 for r in log if r["method"] == "GET" and r["path"].startswith("/orders/"))
    return lists, details


def test_checking_twice_over_the_same_window_creates_each_task_once(dynamodb, sim, workflow):
    sim.add_orders(orders_between(12))
    deps = make_deps(sim, workflow)
    first = check_changes(deps)
    second = check_changes(deps)
    assert len(first.new_tasks) == 12 and second.new_tasks == []
    assert sorted(second.already_known) == sorted(first.new_tasks)
    assert sorted(workflow.executions) == sorted(first.new_tasks)
    assert len(deps.store.list_tasks("new")) == 12


def test_two_concurrent_runs_create_each_task_once(dynamodb, atomic_dynamodb, sim, workflow):
    orders = orders_between(300)
    sim.add_orders(orders)
    results, errors = [], []

    def run():
        try:
            results.append(check_changes(make_deps(sim, workflow)))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    created = results[0].new_tasks + results[1].new_tasks
    assert sorted(created) == sorted(o["id"] for o in orders)  # each once, by exactly one run
    assert sorted(workflow.executions) == sorted(created)
    store = Store(TABLE, client=boto3.client("dynamodb"))
    assert len(store.list_tasks()) == 300
    assert all(len(t["history"]) == 1 for t in store.list_tasks())


def test_a_malformed_order_becomes_an_invalid_task_and_the_others_are_still_created(dynamodb, sim, workflow):
    good = orders_between(4)
    bad = make_order(50, NOW - timedelta(minutes=2, seconds=30),
                     products=[{"mpn": "MS-365-BB", "quantity": "many", "billingPeriod": {"type": "month",
                                                                                        "duration": 1}}])
    sim.add_orders([*good, bad])
    deps = make_deps(sim, workflow)
    result = check_changes(deps)
    assert result.invalid == [bad["id"]]
    assert sorted(result.new_tasks) == sorted(o["id"] for o in good)
    task = deps.store.get_task(bad["id"])
    assert task["status"] == "invalid" and "quantity" in task["reason"] and "many" in task["reason"]
    assert bad["id"] not in workflow.executions
    assert "1 invalid" in result.summary()


def test_a_pending_order_is_not_stored_and_is_picked_up_after_it_completes(dynamodb, sim, workflow):
    early, late = make_order(1, NOW - timedelta(hours=3)), make_order(3, NOW - timedelta(hours=1))
    pending = make_order(2, NOW - timedelta(hours=2), status="processing")
    sim.add_orders([early, pending, late])
    deps = make_deps(sim, workflow, overlap_minutes=10)
    first = check_changes(deps)
    assert first.pending == [pending["id"]] and sorted(first.new_tasks) == sorted([early["id"], late["id"]])
    assert deps.store.get_task(pending["id"]) is None
    # the watermark stays at or before the pending order, so the next window still covers it
    assert deps.store.get_watermark() <= NOW - timedelta(hours=2)

    mark = len(sim.requests())
    unchanged = check_changes(deps)
    assert unchanged.pending == [pending["id"]] and unchanged.new_tasks == []
    assert calls(sim, mark)[1] == 0  # still processing per the list: no detail call

    sim.update_order(pending["id"], {"status": "completed"})
    done = check_changes(deps)
    assert done.new_tasks == [pending["id"]]
    assert deps.store.get_task(pending["id"])["status"] == "new"
    assert deps.store.get_watermark() == NOW - timedelta(hours=1)


def test_the_watermark_never_moves_back(dynamodb, sim, workflow):
    sim.add_orders(orders_between(3))
    deps = make_deps(sim, workflow)
    check_changes(deps)
    reached = deps.store.get_watermark()
    assert reached == NOW - timedelta(minutes=5)
    # a slower run that saw only older orders finishes last
    deps.store.advance_watermark(reached - timedelta(hours=1))
    check_changes(deps, now=NOW - timedelta(minutes=6))
    assert deps.store.get_watermark() == reached


@pytest.mark.parametrize("count", [1, 500, 501, 1001])
def test_a_run_over_n_new_orders_makes_few_list_calls_and_one_detail_call_each(dynamodb, sim, workflow, count):
    sim.add_orders(orders_between(count))
    deps = make_deps(sim, workflow, overlap_minutes=24 * 60)
    first = check_changes(deps)
    lists, details = calls(sim)
    assert len(first.new_tasks) == count
    assert lists <= math.ceil(count / 500) + 1
    assert details == count

    mark = len(sim.requests())
    second = check_changes(deps)
    lists, details = calls(sim, mark)
    assert len(second.already_known) == count and second.new_tasks == []
    assert lists <= math.ceil(count / 500) + 1
    assert details == 0  # nothing it already has is fetched again


def test_only_new_orders_cost_a_detail_call(dynamodb, sim, workflow):
    sim.add_orders(orders_between(40))
    deps = make_deps(sim, workflow, overlap_minutes=24 * 60)
    check_changes(deps)
    sim.add_orders(orders_between(7, start=1000, newest=NOW - timedelta(minutes=1)))
    mark = len(sim.requests())
    result = check_changes(deps)
    assert len(result.new_tasks) == 7 and len(result.already_known) == 40
    assert calls(sim, mark) == (1, 7)
