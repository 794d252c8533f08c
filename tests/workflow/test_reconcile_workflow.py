"""Reconciliation through the real state machine: every kind of difference found with its money
impact, each repaired through a confirmation to the expected ConnectWise state, and a second
reconciliation right after finding everything in step without starting a task.

The data (`cwsync_local.data.reconcile_seed.kinds_seed`) has one customer per kind, none linked
yet (a first connection): the repair tasks link customers and products by matching, as sync
tasks do, and wait for the approver's confirmation (ApprovalPolicy=always).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from cwsync_local.data.reconcile_seed import KIND_SUBSCRIPTIONS, first_of_next_month, kinds_seed

from acceptance import connectwise, decide, notification_link, start_runtime, view, wait_for_status

TODAY = datetime.now(timezone.utc).date()
NEXT_INVOICE = f"{first_of_next_month(TODAY).isoformat()}T00:00:00Z"
SUB = KIND_SUBSCRIPTIONS
# kind -> money impact a period (positive: not billed; negative: billed too much)
IMPACT = {"not_billed": "60.00", "still_billed": "-60.00", "quantity_differs": "12.00",
          "unit_price_differs": "5.00", "unit_cost_differs": "0.00", "wrong_agreement": "0.00",
          "cancelled_agreement": "60.00", "billed_twice": "-60.00", "adopt_candidate": "0.00"}


@pytest.fixture(scope="module")
def reconciled(tmp_path_factory):
    rt = start_runtime(tmp_path_factory.mktemp("reconcile"), seed=kinds_seed(TODAY),
                       parameters={"ApprovalPolicy": "always", "ReconcileNotBilledThreshold": "100"})
    try:
        before = connectwise(rt)
        first = rt.reconcile(repair=True)
        rt.wait_until_settled(timeout=240)
        pages = {}
        for task_id in first["tasks"]:
            approval_id, link = notification_link(rt, task_id, "confirm", timeout=120)
            pages[task_id] = view(link)[1]
            status, answer = decide(link, {"decision": "approve", "choice": "apply"})
            assert status == 200, answer
        for task_id in first["tasks"]:
            wait_for_status(rt, task_id, timeout=180)
        rt.wait_until_settled(timeout=240)
        after = connectwise(rt)
        second = rt.reconcile(repair=True)
        yield {"rt": rt, "first": first, "second": second, "before": before, "after": after, "pages": pages,
               "tasks": {t: rt.task(t) for t in first["tasks"]}}
    finally:
        rt.stop()


def additions_of(state: dict, sub: str) -> list[dict]:
    return [a for a in state["additions"] if f"MP-{sub}-" in str(a.get("serialNumber") or "")]


def live(additions: list[dict], state: dict | None = None) -> list[dict]:
    """Additions that bill the next period: not ended by then, on an agreement that invoices."""
    active = None if state is None else {a["id"] for a in state["agreements"] if a["agreementStatus"] == "Active"}
    return [a for a in additions if (not a.get("cancelledDate") or a["cancelledDate"] > NEXT_INVOICE)
            and (active is None or a["agreementId"] in active)]


def test_every_kind_of_difference_is_found_with_its_money_impact_per_billing_period(reconciled):
    differences = reconciled["first"]["differences"]
    found = {(d["subscriptionId"], d["kind"]): d for d in differences}
    for kind, impact in IMPACT.items():
        difference = found.get((SUB[kind], kind))
        assert difference is not None, (kind, [(d["subscriptionId"], d["kind"]) for d in differences])
        assert difference["impactPerPeriod"] == impact, (kind, difference)
        assert difference["currency"] == "USD"
    assert found[(SUB["quantity_differs"], "quantity_differs")]["marketplace"] == "10"
    assert found[(SUB["quantity_differs"], "quantity_differs")]["connectwise"] == "8"
    assert found[(SUB["wrong_agreement"], "wrong_agreement")]["connectwise"] == "Yearly"
    assert not any(d["subscriptionId"] == SUB["in_step"] for d in differences)
    totals = reconciled["first"]["totals"]
    assert totals["subscriptionsChecked"] == len(SUB) and totals["inStep"] == 1
    # 60 + 12 + 5 + 60 not billed; 60 + 60 billed too much
    assert totals["notBilledPerMonth"] == {"USD": "137.00"}
    assert totals["overBilledPerMonth"] == {"USD": "120.00"}


def test_money_not_billed_above_the_threshold_is_notified(reconciled):
    notes = [e for e in reconciled["rt"].outbox() if e.get("subject") == "Reconciliation: money not billed"]
    assert notes and "137.00 USD a month" in notes[0]["message"]


def test_each_subscription_with_differences_is_repaired_through_a_confirmation(reconciled):
    tasks = reconciled["tasks"]
    assert sorted(t["subscriptionId"] for t in tasks.values()) == sorted(s for k, s in SUB.items() if k != "in_step")
    for task in tasks.values():
        assert task["taskType"] == "reconcile" and task["status"] == "synced", task
        assert any("confirmed by the approver" in (h.get("reason") or "") for h in task["history"]), task["history"]
    for page in reconciled["pages"].values():
        assert page["kind"] == "confirm"
        assert "periods already invoiced are not changed" in page["plan"]["summary"]
    # Ending the additions of a terminated subscription needs no agreement chosen for it.
    (stopped,) = [t for t in tasks.values() if t["subscriptionIds"] == [SUB["still_billed"]]]
    assert any("No agreement to choose" in (h.get("reason") or "") for h in stopped["history"]), stopped["history"]
    assert not stopped.get("agreementId")


def test_repairs_leave_connectwise_billing_what_the_marketplace_says(reconciled):
    after = reconciled["after"]
    for kind, sub in SUB.items():
        billing = live(additions_of(after, sub), after)
        if kind == "still_billed":
            assert billing == [], kind
            continue
        assert len(billing) == 1, (kind, billing)
        (addition,) = billing
        assert (Decimal(str(addition["quantity"])), Decimal(str(addition["unitPrice"])),
                Decimal(str(addition["unitCost"]))) == (10, Decimal("6.00"), Decimal("4.80")), kind
    by_id = {a["id"]: a for a in after["agreements"]}
    (moved,) = live(additions_of(after, SUB["wrong_agreement"]))
    assert by_id[moved["agreementId"]]["billingCycle"]["name"] == "Monthly"
    (recreated,) = live(additions_of(after, SUB["cancelled_agreement"]), after)
    assert by_id[recreated["agreementId"]]["agreementStatus"] == "Active"


def test_an_adopted_hand_made_addition_is_tagged_and_no_addition_is_created(reconciled):
    before, after = reconciled["before"], reconciled["after"]
    company_agreements = {a["id"] for a in before["agreements"]
                          if a["company"]["id"] == next(c["id"] for c in before["companies"]
                                                        if c["identifier"] == "2000000009")}
    hand_made = [a for a in before["additions"] if a["agreementId"] in company_agreements]
    now = [a for a in after["additions"] if a["agreementId"] in company_agreements]
    assert [a["id"] for a in now] == [a["id"] for a in hand_made]
    assert now[0]["serialNumber"].startswith(f"MP-{SUB['adopt_candidate']}-")


def test_a_repair_never_changes_an_invoiced_period(reconciled):
    before = {a["id"]: a for a in additions_of(reconciled["before"], SUB["quantity_differs"])}
    after = additions_of(reconciled["after"], SUB["quantity_differs"])
    (old_id,) = before
    old = next(a for a in after if a["id"] == old_id)
    # The invoiced addition keeps its quantity, price and start; it ends on the first day not invoiced.
    for name in ("quantity", "unitPrice", "unitCost", "effectiveDate"):
        assert old[name] == before[old_id][name], name
    assert old["cancelledDate"] == NEXT_INVOICE
    (replacement,) = [a for a in after if a["id"] != old_id]
    assert replacement["effectiveDate"] == NEXT_INVOICE and replacement["quantity"] == 10
    # A price not invoiced yet is patched in place; an ended subscription stops at the next invoice.
    (patched,) = additions_of(reconciled["after"], SUB["unit_price_differs"])
    assert Decimal(str(patched["unitPrice"])) == Decimal("6.00") and "cancelledDate" not in patched
    (stopped,) = additions_of(reconciled["after"], SUB["still_billed"])
    assert stopped["cancelledDate"] == NEXT_INVOICE


def test_nothing_is_billed_twice_after_the_repairs(reconciled):
    tags = Counter((a["agreementId"], a["product"]["id"], a.get("serialNumber", "").rsplit("-", 1)[0])
                   for a in live(reconciled["after"]["additions"], reconciled["after"]))
    assert all(count == 1 for count in tags.values()), tags


def test_a_second_reconciliation_right_after_finds_everything_in_step_and_starts_no_task(reconciled):
    second = reconciled["second"]
    assert second["differences"] == [], [(d["kind"], d["field"], d["marketplace"], d["connectwise"])
                                          for d in second["differences"]]
    assert second["totals"]["inStep"] == second["totals"]["subscriptionsChecked"] == len(SUB)
    assert second["tasks"] == []
    assert {t["taskId"] for t in reconciled["rt"].tasks()} == set(reconciled["tasks"])


def test_edits_made_in_connectwise_after_cwsync_wrote_are_shown_field_by_field_and_repaired(reconciled):
    rt = reconciled["rt"]
    with rt.connectwise.state.lock:
        (made,) = [a for a in rt.connectwise.state.data["additions"]
                   if str(a.get("serialNumber") or "").startswith(f"MP-{SUB['not_billed']}-")]
        made.update({"description": "Basic (typed over)", "billCustomer": "DoNotBill",
                     "effectiveDate": "2026-01-15T00:00:00Z"})
    found = rt.reconcile(customer_id="2000000001", repair=True)
    edits = {d["field"]: (d["marketplace"], d["connectwise"], d["impactPerPeriod"]) for d in found["differences"]}
    assert edits == {"description": ("Microsoft 365 Business Basic", "Basic (typed over)", "0.00"),
                     "billCustomer": ("Billable", "DoNotBill", "60.00"),
                     "effectiveDate": (NEXT_INVOICE, "2026-01-15T00:00:00Z", "0.00")}
    assert {d["kind"] for d in found["differences"]} == {"edited_in_connectwise"}
    (task_id,) = found["tasks"]
    _, link = notification_link(rt, task_id, "confirm", timeout=120)
    status, answer = decide(link, {"decision": "approve", "choice": "apply"})
    assert status == 200, answer
    assert wait_for_status(rt, task_id, timeout=180)["status"] == "synced"
    now = next(a for a in connectwise(rt)["additions"] if a["id"] == made["id"])
    # What cwsync wrote is written back; the date edited by hand is kept (a repair never moves dates).
    assert (now["description"], now["billCustomer"], now["effectiveDate"]) == \
        ("Microsoft 365 Business Basic", "Billable", "2026-01-15T00:00:00Z")
    again = rt.reconcile(customer_id="2000000001", repair=True)
    assert again["differences"] == [] and again["tasks"] == []
