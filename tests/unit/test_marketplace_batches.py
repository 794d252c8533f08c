"""Batches of marketplace orders nobody wrote by hand (tests/mp_orders.py: valid but varied, and broken in
one field) through Check Changes and the SyncTask steps on the in-memory fakes: nothing crashes, one bad
order never fails the batch, and every order ends with a stated outcome whose reason a billing person
can read (the field named where one is wrong; never Python's text). Over HTTP and moto:
tests/integration/test_check_changes_varied.py."""
from __future__ import annotations

import copy
import json
import re
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings

from cwsync.adapters import mp_orders
from cwsync.errors import InvalidOrder
from cwsync.services import steps
from cwsync.services.check_changes import check_changes
from cwsync.services.steps.finish import UNEXPECTED
from fakes import FakeConnectWise, FakeMarketplace, FakeStore, FakeWorkflow
from mp_orders import CREATED_BEFORE, CUSTOMERS, DEMO, batches
from plain_text import PYTHON_TEXT
from tests.unit.test_steps import make_deps

NOW = CREATED_BEFORE.replace(hour=23)  # after every drawn creation time, whatever its offset
STEPS = (steps.load_task, steps.link_customer, steps.link_product, steps.select_agreement, steps.plan_changes)
GOES_ON = {"loaded", "linked"}
PYTHON_REPR = re.compile(r"\{'|'\}|\b(?:True|False|None)\b")  # a dict, a flag or a null as Python writes it
STATED = {"synced", "ignored", "invalid", "failed", "nothing_to_change", "planned", "needs a person", "pending"}


def connectwise() -> FakeConnectWise:
    cw = DEMO["connectwise"]
    return FakeConnectWise(companies=cw["companies"], catalog=cw["catalog"], agreements=cw["agreements"],
                           additions=cw["additions"])


def lambda_error(error: Exception) -> dict:
    """What the state machine's Catch hands FinishTask when a step raised `error`."""
    name = type(error).__name__
    return {"Error": name, "Cause": json.dumps({"errorMessage": str(error), "errorType": name})}


def run_task(deps, task_id: str) -> tuple[str, str]:
    """The steps as the state machine runs them, until the task ends, waits for a person or is planned."""
    for step in STEPS:
        try:
            answer = step(deps, task_id)
        except Exception as error:  # noqa: BLE001 - the state machine catches States.ALL into MarkFailed
            finished = steps.finish_task(deps, task_id, "failed", lambda_error(error))
            task = deps.store.get_task(task_id)
            assert task.get("errorName") != UNEXPECTED, (task_id, repr(error))
            return "failed", finished["reason"]
        outcome = answer["outcome"]
        if outcome == "needs_approval":
            approval = answer["approval"]
            return "needs a person", f"{approval['title']}. {approval.get('explanation') or ''}"
        if outcome == "nothing_to_change":
            return outcome, steps.finish_task(deps, task_id, outcome)["reason"]
        if outcome == "planned":
            return outcome, deps.store.get_task(task_id).get("reason") or "planned"
        assert outcome in GOES_ON, answer
    raise AssertionError("the steps never ended")


def run_batch(batch) -> dict[str, tuple[str, str]]:
    """Check Changes over the batch, then the steps of every new task: order id → (outcome, reason)."""
    store = FakeStore(clock=lambda: NOW)
    marketplace = FakeMarketplace(customers=CUSTOMERS, orders=[order for order, _ in batch])
    check = SimpleNamespace(store=store, marketplace=marketplace, workflow=FakeWorkflow(),
                            settings=SimpleNamespace(first_run_lookback_days=30, overlap_minutes=30))
    result = check_changes(check, now=NOW)
    deps = make_deps(store, connectwise=connectwise(), marketplace=marketplace,
                     env={"APPROVAL_POLICY": "never"})
    outcomes = {}
    for order, _ in batch:
        task = store.get_task(order["id"])
        if task is None:
            assert order["id"] in result.pending, (order, result.to_dict())
            outcomes[order["id"]] = ("pending", f"{order['orderNumber']} is read again on the next run")
        elif task["status"] == "new":
            outcomes[order["id"]] = run_task(deps, order["id"])
        else:
            outcomes[order["id"]] = (task["status"], task["reason"])
    assert len(result.new_tasks) + len(result.invalid) + len(result.ignored) + len(result.pending) == len(batch)
    return outcomes


def assert_stated(batch, outcomes) -> None:
    for order, broken in batch:
        outcome, reason = outcomes[order["id"]]
        assert outcome in STATED, (outcome, reason)
        assert reason and reason.strip(), (order, outcome)
        assert not PYTHON_TEXT.search(reason), reason
        if broken is not None:  # the broken value, if shown, as the API's JSON spells it
            assert not PYTHON_REPR.search(reason), reason
            if outcome in ("invalid", "failed"):
                assert broken in reason, (broken, reason)


BATCH = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))


@BATCH
@given(batches())
def test_a_batch_of_varied_and_broken_orders_ends_with_a_stated_outcome_for_every_order(batch):
    assert_stated(batch, run_batch(batch))


@BATCH
@given(batches(min_size=3, max_size=6))
def test_a_broken_order_cannot_change_what_happens_to_the_rest_of_its_batch(batch):
    # Against the same batch without its broken orders: valid orders may meet each other (two orders
    # of one subscription), so each valid order alone is not the comparison.
    valid = [(order, broken) for order, broken in batch if broken is None]
    without_broken = run_batch(valid) if valid else {}
    together = run_batch(batch)
    assert {k: together[k][0] for k in without_broken} == {k: v[0] for k, v in without_broken.items()}
    for order, broken in batch:
        if broken is not None:
            assert together[order["id"]][0] == run_batch([(order, broken)])[order["id"]][0]


@pytest.mark.parametrize("extra", [{"newerQuantity": 1.5e300}, {"newerField": {"": "a field without a name"}},
                                   {"newerCount": 10 ** 40}])
def test_an_order_detail_the_table_cannot_hold_is_kept_as_its_task_without_the_detail(extra):
    order = next(o for o in DEMO["marketplace"]["orders"] if o["orderNumber"] == "SO000112")
    order = {**copy.deepcopy(order), **extra, "id": "9100000", "orderNumber": "SO910000",
             "creationDate": "2026-11-25T10:00:00Z"}
    other = {**copy.deepcopy(order), "id": "9100001", "orderNumber": "SO910001"}
    for key in extra:
        other.pop(key)
    outcomes = run_batch([(order, None), (other, None)])
    assert outcomes["9100000"] == outcomes["9100001"] and outcomes["9100000"][0] == "planned", outcomes


def _unsupported(index: int, change) -> dict:
    order = copy.deepcopy(next(o for o in DEMO["marketplace"]["orders"] if o["orderNumber"] == "SO000112"))
    order.update(id=f"92000{index:02d}", orderNumber=f"SO92{index:04d}", creationDate=f"2026-11-25T10:{index:02d}:00Z")
    change(order)
    return order


def _line_type(kind):
    return lambda order: order["products"][0].update(type=kind)


# Item 6: what the sync does not sync yet, and the words its ignored task must carry.
UNSUPPORTED = [(lambda o: o.update(type="migration"), ["migration order"]),
               (lambda o: o.update(type="unknown"), ["an unknown order"]),
               (lambda o: o.update(status="error", statusCode="VENDOR_REFUSED"), ["ended as error", "VENDOR_REFUSED"]),
               (lambda o: o.update(status="cancelled"), ["ended as cancelled"]),
               *[(_line_type(kind), [f'"{kind}" (products[0].type)', "M365-BUSPREM-P1M"])
                 for kind in ("TRANSFER", "STOP_SERVICE", "DESTROY_SERVICE", "MIGRATION", "MOVE", "CHANGE_PLAN_PERIOD",
                              "FUTURE_KIND")]]


def test_orders_the_sync_does_not_sync_become_ignored_tasks_that_say_why_and_the_rest_of_the_batch_syncs():
    batch = [(_unsupported(i, change), None) for i, (change, _) in enumerate(UNSUPPORTED)]
    batch.append((_unsupported(len(UNSUPPORTED), lambda order: None), None))  # the same order, supported
    outcomes = run_batch(batch)
    for (order, _), (_, words) in zip(batch, UNSUPPORTED):
        outcome, reason = outcomes[order["id"]]
        assert outcome == "ignored" and all(word in reason for word in words), (order["orderNumber"], reason)
    assert outcomes[batch[-1][0]["id"]][0] == "planned"


@pytest.mark.parametrize("path, value, named", [
    (("products", 0, "billingPeriod", "duration"), 1.5e300, 'products[0].billingPeriod duration 1.5e+300 is not'),
    (("products",), "", 'products should be a list, got ""'),
    (("details", 0, "unitPrice", "currency"), 840, "details[0].unitPrice.currency should be a currency code"),
    (("products", 0, "vendor"), {"name": "Microsoft"}, 'products[0].vendor should be a string'),
])
def test_a_detail_field_of_a_shape_the_api_does_not_send_is_refused_naming_the_field(path, value, named):
    order = copy.deepcopy(next(o for o in DEMO["marketplace"]["orders"] if o["orderNumber"] == "SO000112"))
    node = order
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(InvalidOrder) as refused:
        mp_orders.order(order)
    assert named in str(refused.value)
