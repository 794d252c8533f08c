"""Varied and broken marketplace orders (tests/mp_orders.py) served by the marketplace simulator over real
HTTP, checked into DynamoDB on moto, and every new task run through the real steps against the ConnectWise
simulator (no person asked for a plan: ApprovalPolicy=never): no crash, one bad order never fails the
batch, every order ends with a stated outcome that names the field where one is wrong, and what a task
synced is in ConnectWise at the order's quantity and price. The same on the fakes, with more examples:
tests/unit/test_marketplace_batches.py."""
from __future__ import annotations

import copy
import itertools
import logging
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings

from cwsync.adapters.connectwise import ConnectWiseClient
from cwsync.adapters.http import RetryPolicy
from cwsync.adapters.marketplace import MarketplaceClient
from cwsync.adapters.store import Store, create_table
from cwsync.config import Settings
from cwsync.services import steps
from cwsync.services.check_changes import check_changes
from cwsync.services.deps import Dependencies
from cwsync_local.simulators import connectwise as cw_simulator
from cwsync_local.simulators import marketplace as mp_simulator
from mp_orders import DEMO, batches
from tests.integration.test_request_economy import Notifications
from tests.unit.test_marketplace_batches import NOW, assert_stated, lambda_error

logging.getLogger("werkzeug").setLevel(logging.ERROR)
TABLES = itertools.count()
UP_TO_A_PLAN = (steps.load_task, steps.link_customer, steps.link_product, steps.select_agreement,
                steps.plan_changes)


class Workflow:
    def __init__(self):
        self.started = []

    def start(self, task_id):
        self.started.append(task_id)
        return True


def real_deps(client, table, connectwise, marketplace) -> Dependencies:
    """The real adapters over HTTP and moto, no person asked to confirm a plan (ApprovalPolicy=never)."""
    settings = Settings.from_environment({"TABLE_NAME": table, "APPROVAL_POLICY": "never",
                                          "FIRST_RUN_LOOKBACK_DAYS": "30", "OVERLAP_MINUTES": "30"})
    return Dependencies(
        settings, store=Store(table, client=client), notifier=Notifications(), clock=lambda: NOW,
        connectwise=ConnectWiseClient.from_secret({"siteUrl": connectwise.url, **cw_simulator.DEFAULT_CREDENTIALS},
                                                  retry=RetryPolicy.fast()),
        marketplace=MarketplaceClient.from_secret({"baseUrl": marketplace.url, **mp_simulator.DEFAULT_CREDENTIALS},
                                                  retry=RetryPolicy.fast()))


def served(marketplace, batch):
    """The orders the simulator takes (it refuses, as the marketplace cannot send, an order without
    a required field or with a status or type the API does not have)."""
    taken = []
    for order, broken in batch:
        try:
            marketplace.add_orders([order])
        except ValueError:
            continue
        taken.append((order, broken))
    return taken


def run_task(deps, task_id):
    """The steps as the state machine runs them when no person is needed; `needs a person` stops it."""
    for step in UP_TO_A_PLAN:
        try:
            answer = step(deps, task_id)
        except Exception as error:  # noqa: BLE001 - the state machine catches States.ALL into MarkFailed
            return "failed", steps.finish_task(deps, task_id, "failed", lambda_error(error))["reason"]
        if answer["outcome"] == "needs_approval":
            return "needs a person", answer["approval"]["title"]
        if answer["outcome"] == "nothing_to_change":
            return "nothing_to_change", steps.finish_task(deps, task_id, "nothing_to_change")["reason"]
    if answer.get("needsConfirmation"):
        return "needs a person", "confirm the plan"
    try:
        steps.apply_changes(deps, task_id)
    except Exception as error:  # noqa: BLE001
        return "failed", steps.finish_task(deps, task_id, "failed", lambda_error(error))["reason"]
    return "synced", steps.finish_task(deps, task_id, "synced")["reason"]


def additions_tagged(connectwise, subscription_id, order_number):
    tag = f"MP-{subscription_id}-{order_number}"
    with connectwise.state.lock:
        return [dict(a) for a in connectwise.state.data["additions"] if str(a.get("serialNumber")) == tag]


@pytest.fixture(scope="module")
def client(module_dynamodb):
    return module_dynamodb


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(batch=batches(min_size=4, max_size=8))
def test_a_batch_of_varied_and_broken_orders_over_http_ends_with_a_stated_outcome_and_syncs_what_it_can(
        client, batch):
    table = f"cwsync-varied-{next(TABLES)}"
    create_table(client, table)
    seed = {"marketplace": {**copy.deepcopy(DEMO["marketplace"]), "orders": []}}
    with cw_simulator.start() as connectwise, mp_simulator.start(seed) as marketplace:
        batch = served(marketplace, batch)
        deps = real_deps(client, table, connectwise, marketplace)
        store = deps.store
        result = check_changes(SimpleNamespace(store=store, marketplace=deps.marketplace, workflow=Workflow(),
                                               settings=deps.settings), now=NOW)
        outcomes = {}
        for order, _ in batch:
            task = store.get_task(order["id"])
            if task is None:
                assert order["id"] in result.pending, result.to_dict()
                outcomes[order["id"]] = ("pending", "read again on the next run")
            elif task["status"] == "new":
                outcomes[order["id"]] = run_task(deps, order["id"])
            else:
                outcomes[order["id"]] = (task["status"], task["reason"])
        assert_stated(batch, outcomes)
        for order, _ in batch:
            charges = order.get("details") if isinstance(order.get("details"), list) else []
            recurring = [c for c in charges if isinstance(c, dict) and c.get("type") == "recurring"]
            if outcomes[order["id"]][0] == "synced" and store.get_task(order["id"])["taskType"] == "sales" \
                    and len(recurring) == 1:
                (line,) = order["products"]
                (added,) = additions_tagged(connectwise, line["subscriptionId"], order["orderNumber"])
                (recurring,) = recurring
                assert Decimal(str(added["quantity"])) == Decimal(str(line["quantity"]))
                assert Decimal(str(added["unitPrice"])) == Decimal(str(recurring["salesUnitPrice"]["amount"]))


def test_orders_the_sync_does_not_sync_are_ignored_over_http_with_the_reason_and_the_supported_one_syncs(client):
    from tests.unit.test_marketplace_batches import UNSUPPORTED, _unsupported

    table = f"cwsync-varied-{next(TABLES)}"
    create_table(client, table)
    batch = [_unsupported(i, change) for i, (change, _) in enumerate(UNSUPPORTED)]
    supported = _unsupported(len(UNSUPPORTED), lambda order: None)
    seed = {"marketplace": {**copy.deepcopy(DEMO["marketplace"]), "orders": [*batch, supported]}}
    with cw_simulator.start() as connectwise, mp_simulator.start(seed) as marketplace:
        deps = real_deps(client, table, connectwise, marketplace)
        store = deps.store
        result = check_changes(SimpleNamespace(store=store, marketplace=deps.marketplace, workflow=Workflow(),
                                               settings=deps.settings), now=NOW)
        assert sorted(result.ignored) == sorted(o["id"] for o in batch) and result.new_tasks == [supported["id"]]
        for order, (_, words) in zip(batch, UNSUPPORTED):
            task = store.get_task(order["id"])
            assert task["status"] == "ignored" and all(word in task["reason"] for word in words), task["reason"]
        assert run_task(deps, supported["id"])[0] == "synced"
        (added,) = additions_tagged(connectwise, "SUB-104", supported["orderNumber"])
        assert Decimal(str(added["quantity"])) == 10 and Decimal(str(added["unitPrice"])) == Decimal("22.00")
