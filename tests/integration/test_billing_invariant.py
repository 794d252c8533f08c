"""The billing invariant, for generated orders, existing additions, approver edits and faults.

For every subscription line exactly the marketplace's quantity is live, at the marketplace's
(or the approver's) price, and no write exists twice. Orders, existing additions (tagged,
hand-made, several hand-made), approver edits and ConnectWise faults (5xx, commit then
fail) are generated; the plan comes from the real planner and is applied over real HTTP
to the simulator, retried as Step Functions retries. The expected end state is computed
here from the generated scenario alone, never from the plan.
"""
from __future__ import annotations

import contextlib
import copy
import itertools
import random
from collections import Counter
from decimal import Decimal

import pytest

from cwsync.domain.money import round_money
from cwsync.errors import SyncFailed
from cwsync.services.steps import apply_edits
from cwsync_local.simulators import connectwise as simulator
from cwsync_local.simulators.common import Faults
from cwsync_local.simulators.connectwise.sample import sample_seed
from cwsync.adapters.store import Store, create_table
from tests.integration.test_billing_safety import (AGREEMENT, PRODUCT, apply_until_done, client, money, order,
                                                   plan_for, records)

hypothesis = pytest.importorskip("hypothesis", reason="install the development extras: make venv")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

SUBSCRIPTION = "SUB-P"
EXISTING_COST = "1.00"  # the unit cost of every addition the scenario starts with
PREFIX = f"MP-{SUBSCRIPTION}-"
PRICES = st.decimals(min_value=Decimal("0.50"), max_value=Decimal("300"), places=2)

scenarios = st.fixed_dictionaries({
    "kind": st.sampled_from(["sales", "change", "cancellation", "renewal"]),
    "existing": st.sampled_from(["none", "tagged", "hand_made", "two_hand_made"]),
    "old": st.integers(1, 40), "new": st.integers(1, 40),
    "price": PRICES, "old_price": PRICES,
    "edit": st.one_of(st.none(), st.fixed_dictionaries({"quantity": st.integers(1, 60)}),
                      st.fixed_dictionaries({"unitPrice": PRICES})),
    "edit_charge_text": st.booleans(),
    "commit_then_fail": st.sampled_from([0.0, 0.5, 1.0]),
    "fail": st.sampled_from([0.0, 0.25]),
    "seed": st.integers(0, 10_000),
})


def marketplace_order(s):
    kind, old, new, price = s["kind"], s["old"], s["new"], s["price"]
    full = {"type": "renew" if kind == "renewal" else "recurring", "mpn": "M365-BB", "quantity": new,
            "unitPrice": money(str(price * Decimal("0.8"))), "salesUnitPrice": money(str(price))}
    if kind == "sales":
        return order("SO1", "sales", quantity=new, charges=[full], subscription=SUBSCRIPTION)
    if kind == "cancellation":
        return order("CL1", "cancellation", quantity=old, line_type="CANCEL", subscription=SUBSCRIPTION, charges=[
            {"type": "cancellation", "mpn": "M365-BB", "quantity": 1, "salesUnitPrice": money("10.00")}])
    if kind == "renewal":
        return order("RN1", "renewal", quantity=new, line_type="RENEW", charges=[full], subscription=SUBSCRIPTION)
    charges = [full]
    if new != old:  # the rest of the period, as the marketplace states it
        more = new > old
        charges.append({"type": "recurring" if more else "downgrade", "mpn": "M365-BB", "quantity": abs(new - old),
                        "duration": {"type": "day", "duration": 15},
                        "salesUnitPrice": money(str((price if more else -price) / 2))})
    return order("CH1", "change", quantity=new, line_type="UPGRADE", charges=charges, subscription=SUBSCRIPTION)


def existing_additions(s) -> list[dict]:
    base = {"product": {"id": PRODUCT}, "unitPrice": float(s["old_price"]), "unitCost": float(EXISTING_COST),
            "billCustomer": "Billable", "effectiveDate": "2026-01-01T00:00:00Z"}
    if s["kind"] == "sales" or s["existing"] == "none":
        return []
    if s["existing"] == "tagged":
        return [{**base, "quantity": s["old"], "serialNumber": f"{PREFIX}SO0"}]
    if s["existing"] == "hand_made":
        return [{**base, "quantity": s["old"]}]
    return [{**base, "quantity": s["old"]}, {**base, "quantity": s["old"] + 1}]


def expected(s):
    """('person', None) when a person must decide, else the (quantity, price) pairs live for the subscription."""
    kind, existing = s["kind"], s["existing"] if s["kind"] != "sales" else "none"
    previous = {"change": s["old"] if s["new"] != s["old"] else None, "renewal": s["new"],
                "cancellation": s["old"]}.get(kind)
    if existing == "two_hand_made" or (existing == "hand_made" and previous != s["old"]):
        return "person", None
    if kind == "cancellation":
        return "done", []
    quantity, price = s["new"], s["price"]
    # A renewal keeps the additions only when quantity, price and cost all stay (the existing additions cost
    # EXISTING_COST; the order's cost is its unitPrice, 0.8 × the price, compared in cents as the planner does).
    same_cost = Decimal(EXISTING_COST) == round_money(s["price"] * Decimal("0.8"), "USD")
    if kind == "renewal" and existing != "none" and (s["old"], s["old_price"]) == (s["new"], s["price"]) and same_cost:
        return "done", [(Decimal(s["old"]), s["old_price"])]  # nothing to change but the tag
    edit = s["edit"] or {}
    return "done", [(Decimal(edit.get("quantity", quantity)), Decimal(edit.get("unitPrice", price)))]


def live_for_subscription(state, initial):
    """Every live addition of the product on the agreement beyond the seed's, tagged or typed by hand."""
    seeded = {a["id"] for a in initial["additions"]}
    return sorted((Decimal(str(a["quantity"])), Decimal(str(a["unitPrice"])).quantize(Decimal("0.01")))
                  for a in state if a.get("agreementId") == AGREEMENT and not a.get("cancelledDate")
                  and a["id"] not in seeded and (a.get("product") or {}).get("id") == PRODUCT)


def assert_nothing_twice(sim):
    serials = Counter(a["serialNumber"] for a in records(sim, "additions") if a.get("serialNumber"))
    assert not [s for s, n in serials.items() if n > 1], serials
    tags = Counter(str(a["description"]).split(" ", 1)[0] for a in records(sim, "adjustments")
                   if str(a.get("description") or "").startswith("MP-"))
    assert not [t for t, n in tags.items() if n > 1], tags


@pytest.fixture(scope="module")
def world(module_dynamodb):
    """One simulator and one table for every example; each example starts from the seed again."""
    create_table(module_dynamodb, "cwsync-invariant")
    with simulator.start(sample_seed()) as sim:
        with sim.state.lock:
            initial = copy.deepcopy(sim.state.data)
        yield sim, Store("cwsync-invariant", client=module_dynamodb), initial, itertools.count()


def reset(sim, initial) -> None:
    injector = sim.server.app  # the fault injector in front of the simulator
    injector.faults = Faults()
    with sim.state.lock:
        sim.state.data.clear()
        sim.state.data.update(copy.deepcopy(initial))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=scenarios)
def test_exactly_the_marketplace_quantity_is_live_at_the_chosen_price_and_nothing_is_written_twice(world, s):
    sim, store, initial, numbers = world
    reset(sim, initial)
    outcome, wanted = expected(s)
    with contextlib.closing(client(sim)) as cw:
        for addition in existing_additions(s):
            cw.create_addition(AGREEMENT, addition)
    the_order = marketplace_order(s)
    if outcome == "person":
        before = records(sim, "additions")
        with pytest.raises(SyncFailed, match="A person must decide"):
            plan_for(sim, s["kind"], the_order)
        assert records(sim, "additions") == before
        return
    plan = plan_for(sim, s["kind"], the_order)
    edits = {}
    for op in plan["operations"]:
        if op["action"] == "create_addition" and s["edit"]:
            edits[op["key"]] = {k: str(v) for k, v in s["edit"].items()}
        if op["action"] == "create_adjustment" and s["edit_charge_text"]:
            edits[op["key"]] = {"description": "Edited by the approver"}
    plan = apply_edits(plan, edits)
    injector = sim.server.app
    injector.faults = Faults(fail_rate=s["fail"], commit_then_fail_rate=s["commit_then_fail"])
    injector.random = random.Random(s["seed"])
    if plan["operations"]:
        apply_until_done(sim, store, f"T-{next(numbers)}", plan, max_runs=40)
    injector.faults = Faults()
    assert live_for_subscription(records(sim, "additions"), initial) == sorted(wanted)
    assert_nothing_twice(sim)


def test_the_expected_outcome_of_a_renewal_that_changes_only_the_cost_is_the_renewed_addition():
    """The oracle itself: same quantity and price but another cost is a change (the planner renews the addition)."""
    renewal = {"kind": "renewal", "existing": "tagged", "old": 2, "new": 2, "price": Decimal("0.50"),
               "old_price": Decimal("0.50"), "edit": {"quantity": 1}}
    assert expected(renewal) == ("done", [(Decimal(1), Decimal("0.50"))])
    kept = {**renewal, "price": Decimal("1.25"), "old_price": Decimal("1.25")}  # 0.8 × 1.25 = the existing cost
    assert expected(kept) == ("done", [(Decimal(2), Decimal("1.25"))])
