"""Billing safety over real HTTP: what ends up live in ConnectWise after faults, edits and hand-made additions.

ConnectWise is the simulator (with "commit then fail": every write is saved, then
answered 500); applied-operation records live in DynamoDB on moto. Plans come from the
real planner; the applier is run again after each failure, as Step Functions retries it.
"""
from __future__ import annotations

import contextlib
import copy
from contextlib import closing
import itertools
import logging
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from cwsync.adapters import cw_records
from cwsync.adapters.connectwise import ConnectWiseClient
from cwsync.adapters.http import RetryPolicy
from cwsync.adapters.store import Store, create_table
from cwsync.adapters import mp_orders
from cwsync.domain.planning import PlanContext, PlanSettings, plan_task
from cwsync.errors import SyncFailed, TransientError
from cwsync.services.apply import Applier
from cwsync.services.steps import apply_edits
from cwsync_local.simulators import connectwise as simulator
from cwsync_local.simulators.common import Faults
from cwsync_local.simulators.connectwise.sample import sample_seed

logging.getLogger("werkzeug").setLevel(logging.ERROR)
CREDENTIALS = simulator.DEFAULT_CREDENTIALS
AGREEMENT, PRODUCT = 12, 3
_tables = itertools.count()


def client(sim) -> ConnectWiseClient:
    return ConnectWiseClient(f"{sim.url}/{simulator.CODEBASE}apis/3.0", CREDENTIALS["companyId"],
                             CREDENTIALS["publicKey"], CREDENTIALS["privateKey"], CREDENTIALS["clientId"],
                             retry=RetryPolicy.fast(2))


@pytest.fixture
def store(module_dynamodb):
    name = f"cwsync-safety-{next(_tables)}"
    create_table(module_dynamodb, name)
    return Store(name, client=module_dynamodb)


def order(number, kind, *, quantity, charges, subscription="SUB-9", line_type="CREATE", **extra):
    return mp_orders.order({
        "id": "ORD-" + number, "orderNumber": number, "type": kind, "customerId": "1000048531",
        "status": "completed", "creationDate": "2026-10-17T10:02:11Z", "subscriptionId": subscription,
        "provisioningDate": "2026-10-17T10:02:59Z",
        "lastBillingDate": "2026-10-01", "nextBillingDate": "2026-11-01",
        "products": [{"mpn": "M365-BB", "name": "Microsoft 365 Business Basic", "quantity": quantity,
                      "type": line_type, "subscriptionId": subscription,
                      "billingPeriod": {"type": "month", "duration": 1}}],
        "details": charges, **extra,
    })


def money(amount):
    return {"amount": amount, "currency": "USD"}


def plan_for(sim, task_type, the_order) -> dict:
    with closing(client(sim)) as cw:
        additions = cw.additions(AGREEMENT)
    context = PlanContext(agreement={"id": AGREEMENT}, additions=additions, settings=PlanSettings(),
                          catalog_items={"M365-BB": cw_records.catalog_item({"id": PRODUCT, "price": 6, "cost": 4.8})},
                          now=datetime(2026, 10, 17, 11, tzinfo=timezone.utc))
    return plan_task(task_type, the_order, context).to_dict()


def apply_until_done(sim, store, task_id, plan, *, max_runs=8) -> int:
    """Apply as Step Functions would: again after each transient failure. Returns the runs it took."""
    for run in range(1, max_runs + 1):
        with closing(client(sim)) as cw:
            try:
                Applier(cw, store).apply(task_id, copy.deepcopy(plan))
                return run
            except TransientError:
                continue
    raise AssertionError(f"the plan did not finish in {max_runs} runs")


def records(sim, name):
    with sim.state.lock:
        return copy.deepcopy(sim.state.data[name])


def live(sim, product=PRODUCT):
    return [a for a in records(sim, "additions") if a.get("agreementId") == AGREEMENT
            and (a.get("product") or {}).get("id") == product and not a.get("cancelledDate")]


def test_an_edited_adjustment_description_under_commit_then_fail_is_written_exactly_once():
    usage = order("BO000110", "sales", quantity=1, line_type="BILLING_SUBSCRIPTION", charges=[
        {"type": "overuse", "mpn": "M365-BB", "description": "Backup storage over 100 GB", "quantity": 38,
         "unitPrice": money("0.05"), "salesUnitPrice": money("0.06")}])
    with simulator.start(sample_seed(), faults=Faults(commit_then_fail_rate=1.0, random_seed=7)) as sim:
        before = len(records(sim, "adjustments"))
        plan = plan_for(sim, "billing", usage)
        (op,) = plan["operations"]
        edited = "Overuse: backup storage 38 GB over 100 GB, Oct 2026"
        plan = apply_edits(plan, {op["key"]: {"description": edited}})
        store_ = _store()
        apply_until_done(sim, store_, "ORD-BO000110", plan)
        apply_until_done(sim, store_, "ORD-BO000110", plan)  # a retry of the whole step finds it too
        created = records(sim, "adjustments")[before:]
    assert [(a["amount"], a["description"]) for a in created] == [
        (2.28, f"{op['match']['tag']} {edited}")]


def test_a_transient_failure_message_claims_only_the_check_it_made(store):
    with simulator.start(sample_seed(), faults=Faults(fail_rate=1.0, random_seed=3)) as sim:
        plan = {"taskId": "T1", "agreementId": AGREEMENT, "currency": "USD", "operations": [
            {"key": "create-adjustment:MP-SUB-9-X:setup:1", "action": "create_adjustment", "agreementId": AGREEMENT,
             "match": {"tag": "MP-SUB-9-X:setup:1"},
             "fields": {"amount": "5.00", "description": "Setup", "effectiveDate": "2026-10-17T00:00:00Z"}}]}
        with closing(client(sim)) as cw, pytest.raises(TransientError) as failed:
            Applier(cw, store).apply("T1", plan)
    assert "nothing was duplicated" not in str(failed.value)


def test_a_change_over_a_hand_made_addition_leaves_exactly_the_new_quantity_live():
    change = order("CH000116", "change", quantity=12, line_type="UPGRADE", charges=[
        {"type": "recurring", "mpn": "M365-BB", "quantity": 2, "duration": {"type": "day", "duration": 15},
         "unitPrice": money("2.32"), "salesUnitPrice": money("2.90")}])
    with simulator.start(sample_seed(), faults=Faults(commit_then_fail_rate=0.5, random_seed=11)) as sim:
        with closing(client(sim)) as cw, contextlib.suppress(TransientError):  # saved, then answered 500
            cw.create_addition(AGREEMENT, {"product": {"id": PRODUCT}, "quantity": 10, "unitPrice": 6, "unitCost": 4.8,
                                           "billCustomer": "Billable", "effectiveDate": "2026-01-01T00:00:00Z"})
        hand_made = live(sim)
        assert len(hand_made) == 1 and not hand_made[0].get("serialNumber")
        plan = plan_for(sim, "change", change)
        adjustments_before = len(records(sim, "adjustments"))
        apply_until_done(sim, _store(), "ORD-CH000116", plan)
        after = live(sim)
        charges = records(sim, "adjustments")[adjustments_before:]
        ended = next(a for a in records(sim, "additions") if a["id"] == hand_made[0]["id"])
    assert [(a["quantity"], a["unitPrice"], a["serialNumber"]) for a in after] == [(12, 6, "MP-SUB-9-CH000116")]
    assert ended["cancelledDate"] and ended["serialNumber"] == "MP-SUB-9-CH000116-adopted"
    # 2 more licences × 6.00 × 15 of 31 days left in October (17th to 31st): one charge, not "0 → 12".
    assert [(Decimal(str(a["amount"])), "10 → 12" in a["description"]) for a in charges] == [(Decimal("5.81"), True)]


def test_two_hand_made_additions_of_the_product_stop_the_plan_before_any_write():
    change = order("CH000117", "change", quantity=12, line_type="UPGRADE", charges=[
        {"type": "recurring", "mpn": "M365-BB", "quantity": 2, "duration": {"type": "day", "duration": 15},
         "salesUnitPrice": money("2.90")}])
    with simulator.start(sample_seed()) as sim:
        with closing(client(sim)) as cw:
            for quantity in (10, 4):
                cw.create_addition(AGREEMENT, {"product": {"id": PRODUCT}, "quantity": quantity, "unitPrice": 6,
                                               "billCustomer": "Billable", "effectiveDate": "2026-01-01T00:00:00Z"})
        before = live(sim)
        with pytest.raises(SyncFailed, match="A person must decide"):
            plan_for(sim, "change", change)
        assert live(sim) == before


_shared_client = {}


def _store() -> Store:
    """A fresh applied-operation table on the module's moto DynamoDB."""
    dynamodb = _shared_client["client"]
    name = f"cwsync-safety-{next(_tables)}"
    create_table(dynamodb, name)
    return Store(name, client=dynamodb)


@pytest.fixture(autouse=True)
def _dynamodb(module_dynamodb):
    _shared_client["client"] = module_dynamodb
    yield
