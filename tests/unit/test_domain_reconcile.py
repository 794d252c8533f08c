"""Reconciliation rules on typed records (agreements and additions as the ConnectWise adapter types
them, subscriptions as the marketplace adapter does): every kind of difference with its money
impact, and the repair each one plans (never into an invoiced period)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cwsync.adapters import cw_records, mp_records
from cwsync.domain import reconcile as r
from cwsync.domain.reconcile_repair import SUBSCRIPTIONS_PER_TASK, RepairSettings, repair_groups, repair_plan
from cwsync.domain.reconcile_report import report
from cwsync.confirm_form import amounts

TODAY = date(2026, 11, 20)
MONTHLY = {"id": 1, "name": "Monthly"}
USD = {"id": 1, "currencyCode": "USD"}


def agreement(agreement_id=3101, *, cycle=MONTHLY, currency=USD, status="Active", cancelled=False,
              next_invoice="2026-12-01T00:00:00Z"):
    return cw_records.agreement({
        "id": agreement_id, "name": f"Agreement {agreement_id}", "company": {"id": 1, "identifier": "GreenLane"},
        "agreementStatus": status, "cancelledFlag": cancelled, "billingCycle": cycle, "currency": currency,
        "billStartDate": "2025-01-01T00:00:00Z", "nextInvoiceDate": next_invoice})


def subscription(sub_id="SUB-1", *, status="active", quantity=10, price="6.00", cost="4.80", mpn="M365-BASIC",
                 period=None):
    return mp_records.subscription({
        "id": sub_id, "customerId": "C1", "name": "Basic", "status": status,
        "billingPeriod": period or {"type": "month", "duration": 1},
        "products": [] if status != "active" else [{
            "mpn": mpn, "name": "Basic", "quantity": quantity, "unitPrice": {"amount": price, "currency": "USD"},
            "unitCost": {"amount": cost, "currency": "USD"}}]})


def addition(addition_id, *, serial=None, quantity=10, price="6.00", cost="4.80", product=701,
             effective="2026-01-01T00:00:00Z", cancelled=None, **extra):
    return cw_records.addition({
        "id": addition_id, "serialNumber": serial, "product": {"id": product, "identifier": "M365-BASIC"},
        "quantity": quantity, "unitPrice": Decimal(price), "unitCost": Decimal(cost),
        "effectiveDate": effective, "cancelledDate": cancelled, "billCustomer": "Billable", **extra})


def compare(subs, additions, *, agreements=None, targets=None, baselines=None):
    agreements = agreements or {"3101": agreement()}
    ctx = r.CustomerContext(customer="Green Lane", agreements=agreements,
                            additions={a: additions.get(a, []) for a in agreements},
                            products={"m365-basic": "701"}, targets=targets or {s.id: "3101" for s in subs},
                            baselines=baselines or {}, today=TODAY)
    return r.compare_customer(subs, ctx), agreements


def kinds(findings):
    return [(d.kind, d.field, d.impact_per_period) for f in findings for d in f.differences]


def plan_for(findings, agreements, target="3101"):
    return repair_plan("RC-1", findings, target=target, agreements=agreements, products={"m365-basic": "701"},
                       settings=RepairSettings(), today=TODAY)


def test_a_subscription_billed_as_the_marketplace_says_is_in_step_and_needs_no_repair():
    findings, agreements = compare([subscription()], {"3101": [addition(9001, serial="MP-SUB-1-SO1")]})
    assert kinds(findings) == []
    assert report(findings)["totals"]["inStep"] == 1
    assert plan_for(findings, agreements)["nothingToChange"] is True


def test_an_active_subscription_without_a_live_addition_is_not_billed_for_its_whole_amount():
    findings, agreements = compare([subscription()], {"3101": [
        addition(9001, serial="MP-SUB-1-SO1", cancelled="2026-10-31T00:00:00Z")]})
    assert kinds(findings) == [("not_billed", "quantity", Decimal("60.00"))]
    plan = plan_for(findings, agreements)
    (op,) = plan["operations"]
    assert op["action"] == "create_addition"
    assert op["fields"]["quantity"] == "10" and op["fields"]["unitPrice"] == "6.00"
    # The period up to the next invoice (1 December) is already invoiced: the addition starts then.
    assert op["fields"]["effectiveDate"] == "2026-12-01T00:00:00Z"
    assert op["fields"]["serialNumber"].startswith("MP-SUB-1-")


def test_a_terminated_subscription_still_billed_is_over_billed_and_its_addition_ends_at_the_next_invoice():
    findings, agreements = compare([subscription(status="terminated")],
                                   {"3101": [addition(9001, serial="MP-SUB-1-SO1")]})
    assert kinds(findings) == [("still_billed", "status", Decimal("-60.00"))]
    (op,) = plan_for(findings, agreements)["operations"]
    assert (op["action"], op["match"]["id"], op["fields"]["cancelledDate"]) == \
        ("cancel_addition", 9001, "2026-12-01T00:00:00Z")


def test_quantity_and_price_differences_say_which_side_says_what_and_their_impacts_add_up():
    findings, _ = compare([subscription(quantity=12, price="6.50")],
                          {"3101": [addition(9001, serial="MP-SUB-1-SO1", quantity=10, price="6.00")]})
    found = {d.kind: d for f in findings for d in f.differences}
    assert (found["quantity_differs"].marketplace, found["quantity_differs"].connectwise) == (Decimal(12), Decimal(10))
    assert found["quantity_differs"].impact_per_period == Decimal("12.00")    # 2 more × 6.00 billed now
    assert found["unit_price_differs"].impact_per_period == Decimal("6.00")   # 0.50 more × 12
    # Together: 12 × 6.50 − 10 × 6.00
    assert sum(d.impact_per_period for d in found.values()) == Decimal("18.00")


def test_a_cost_difference_is_reported_without_money_impact_on_the_customers_bill():
    findings, _ = compare([subscription(cost="5.00")], {"3101": [addition(9001, serial="MP-SUB-1-SO1")]})
    assert kinds(findings) == [("unit_cost_differs", "unitCost", Decimal(0))]


def test_an_invoiced_addition_with_the_wrong_quantity_is_ended_and_replaced_never_patched_in_place():
    findings, agreements = compare([subscription(quantity=12)],
                                   {"3101": [addition(9001, serial="MP-SUB-1-SO1", quantity=10)]})
    ops = plan_for(findings, agreements)["operations"]
    assert [op["action"] for op in ops] == ["cancel_addition", "create_addition"]
    assert ops[0]["fields"] == {"cancelledDate": "2026-12-01T00:00:00Z"}
    assert ops[1]["fields"]["effectiveDate"] == "2026-12-01T00:00:00Z" and ops[1]["fields"]["quantity"] == "12"


def test_an_addition_not_invoiced_yet_is_patched_in_place():
    findings, agreements = compare([subscription(quantity=12)], {"3101": [
        addition(9001, serial="MP-SUB-1-SO1", quantity=10, effective="2026-12-01T00:00:00Z")]})
    plan = plan_for(findings, agreements)
    (op,) = plan["operations"]
    assert (op["action"], op["fields"], op["match"]) == \
        ("update_addition", {"quantity": "12"}, {"id": 9001, "serialNumber": "MP-SUB-1-SO1"})
    assert "+12.00 USD a period" in op["explanation"]
    assert amounts(plan)["recurringChange"] == Decimal(plan["total"]) == Decimal("12.00")


def test_an_addition_on_an_agreement_of_another_billing_cycle_is_on_the_wrong_agreement_and_moves():
    agreements = {"3101": agreement(), "3102": agreement(3102, cycle={"id": 4, "name": "Yearly"})}
    findings, _ = compare([subscription()], {"3102": [addition(9001, serial="MP-SUB-1-SO1")]},
                          agreements=agreements)
    (difference,) = [d for f in findings for d in f.differences]
    assert (difference.kind, difference.field, difference.marketplace, difference.connectwise) == \
        ("wrong_agreement", "billingCycle", "Monthly", "Yearly")
    ops = plan_for(findings, agreements)["operations"]
    assert [(op["action"], op["agreementId"]) for op in ops] == [("cancel_addition", 3102), ("create_addition", 3101)]


def test_an_addition_on_an_agreement_without_a_currency_is_on_the_wrong_agreement_and_says_what_to_set():
    agreements = {"3101": agreement(), "3102": agreement(3102, currency={"id": 9, "currencyCode": None})}
    assert agreements["3102"].currency_code is None
    findings, _ = compare([subscription()], {"3102": [addition(9001, serial="MP-SUB-1-SO1")]},
                          agreements=agreements)
    (difference,) = [d for f in findings for d in f.differences]
    assert (difference.kind, difference.field, difference.marketplace, difference.connectwise) == \
        ("wrong_agreement", "currency", "USD", None)
    assert "ConnectWise agreement 3102 has no currency code" in difference.explanation
    assert "set the agreement's currency in ConnectWise" in difference.explanation
    ops = plan_for(findings, agreements)["operations"]
    assert [(op["action"], op["agreementId"]) for op in ops] == [("cancel_addition", 3102), ("create_addition", 3101)]


def test_an_addition_on_a_cancelled_agreement_is_not_billed_and_is_recreated_without_touching_that_agreement():
    agreements = {"3101": agreement(), "3109": agreement(3109, status="Cancelled", cancelled=True)}
    findings, _ = compare([subscription()], {"3109": [addition(9001, serial="MP-SUB-1-SO1")]}, agreements=agreements)
    assert kinds(findings) == [("cancelled_agreement", "agreementStatus", Decimal("60.00"))]
    ops = plan_for(findings, agreements)["operations"]
    assert [(op["action"], op["agreementId"]) for op in ops] == [("create_addition", 3101)]


def test_two_live_additions_for_one_line_are_billed_twice_and_the_extra_one_ends():
    findings, agreements = compare([subscription()], {"3101": [addition(9001, serial="MP-SUB-1-SO1"),
                                                               addition(9005, serial="MP-SUB-1-SO2")]})
    assert kinds(findings) == [("billed_twice", "serialNumber", Decimal("-60.00"))]
    (op,) = plan_for(findings, agreements)["operations"]
    assert (op["action"], op["match"]["id"]) == ("cancel_addition", 9005)


def test_a_matching_hand_made_addition_is_adopted_by_tagging_it_never_by_creating_another():
    findings, agreements = compare([subscription()], {"3101": [addition(9001, serial=None)]})
    assert kinds(findings) == [("adopt_candidate", "serialNumber", Decimal(0))]
    (op,) = plan_for(findings, agreements)["operations"]
    assert op["action"] == "update_addition" and op["match"] == {"id": 9001}
    assert op["fields"]["serialNumber"].startswith("MP-SUB-1-")


def test_two_subscriptions_of_one_product_adopt_two_different_hand_made_additions_best_match_first():
    subs = [subscription("SUB-1", quantity=5), subscription("SUB-2", quantity=10)]
    findings, _ = compare(subs, {"3101": [addition(9001, quantity=10), addition(9002, quantity=5)]})
    adopted = {f.subscription.id: f.primary.id for f in findings if f.adopt}
    assert adopted == {"SUB-1": 9002, "SUB-2": 9001}
    assert {d.kind for f in findings for d in f.differences} == {"adopt_candidate"}


def test_edits_made_in_connectwise_are_listed_field_by_field_with_what_cwsync_wrote():
    baseline = {"9001": {"description": "Basic", "billCustomer": "Billable", "effectiveDate": "2026-01-01T00:00:00Z"}}
    findings, agreements = compare([subscription()], {"3101": [addition(
        9001, serial="MP-SUB-1-SO1", description="Basic (discounted)", billCustomer="DoNotBill",
        effectiveDate="2026-02-01T00:00:00Z")]}, baselines=baseline)
    edits = sorted((d.field, d.to_dict()["marketplace"], d.to_dict()["connectwise"], d.impact_per_period)
                   for f in findings for d in f.differences)  # as the report shows them
    assert edits == [("billCustomer", "Billable", "DoNotBill", Decimal("60.00")),
                     ("description", "Basic", "Basic (discounted)", Decimal(0)),
                     ("effectiveDate", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", Decimal(0))]
    plan = plan_for(findings, agreements)
    (op,) = plan["operations"]
    assert op["fields"] == {"description": "Basic", "billCustomer": "Billable"}
    assert plan["acceptEdits"] == [{"additionId": "9001", "agreementId": "3101",
                                    "fields": {"effectiveDate": "2026-02-01T00:00:00Z"}}]


def test_totals_give_money_not_billed_and_over_billed_per_month_per_currency():
    yearly = {"type": "year", "duration": 1}
    findings, _ = compare([subscription("SUB-1", period=yearly, price="120.00"), subscription("SUB-2", status="removed")],
                          {"3101": [addition(9009, serial="MP-SUB-2-SO1", price="6.00")]},
                          agreements={"3101": agreement(cycle={"id": 4, "name": "Yearly"})})
    totals = report(findings)["totals"]
    assert totals["notBilledPerMonth"] == {"USD": "100.00"}  # 10 × 120.00 a year
    assert totals["overBilledPerMonth"] == {"USD": "60.00"}
    assert totals["byKind"]["not_billed"] == 1 and totals["byKind"]["still_billed"] == 1
    assert (totals["subscriptionsChecked"], totals["inStep"]) == (2, 0)


@pytest.mark.parametrize("status", ["pending", "hold"])
def test_subscription_statuses_other_than_active_and_ended_are_parsed(status):
    sub = mp_records.subscription({"id": "S", "customerId": "C", "status": status,
                                   "billingPeriod": {"type": "month", "duration": 1}})
    assert sub.billed is (status == "hold")


def test_flags_cwsync_wrote_and_connectwise_still_has_are_not_edits():
    baseline = {"9001": {"taxableFlag": False, "billCustomer": "Billable", "effectiveDate": "2026-01-01T00:00:00Z"}}
    findings, _ = compare([subscription()], {"3101": [addition(9001, serial="MP-SUB-1-SO1", taxableFlag=False)]},
                          baselines=baseline)
    assert kinds(findings) == []


# --- one repair per customer agreement -----------------------------------------------------------

def test_the_subscriptions_of_one_agreement_are_repaired_in_one_plan_each_row_naming_its_subscription():
    subs = [subscription("SUB-1", quantity=5), subscription("SUB-2"), subscription("SUB-3", status="terminated")]
    findings, agreements = compare(subs, {"3101": [addition(9001, quantity=5), addition(9003, serial="MP-SUB-3-SO1")]})
    (group,) = repair_groups(findings)
    plan = plan_for(group, agreements)
    rows = {op["explanation"].split(":", 1)[0]: op for op in plan["operations"]}
    assert sorted(rows) == ["Basic (SUB-1)", "Basic (SUB-2)", "Basic (SUB-3)"]
    assert (rows["Basic (SUB-1)"]["action"], rows["Basic (SUB-1)"]["match"]) == ("update_addition", {"id": 9001})
    assert rows["Basic (SUB-1)"]["fields"]["serialNumber"] == "MP-SUB-1-RC20261201"
    assert "5 × 6.00 USD = 30.00 USD a period" in rows["Basic (SUB-1)"]["explanation"]
    assert rows["Basic (SUB-2)"]["action"] == "create_addition"
    assert rows["Basic (SUB-2)"]["fields"]["serialNumber"] == "MP-SUB-2-RC20261201"
    assert (rows["Basic (SUB-3)"]["action"], rows["Basic (SUB-3)"]["match"]["id"]) == ("cancel_addition", 9003)
    assert plan["summary"].startswith("Reconcile 3 subscriptions (SUB-1, SUB-2, SUB-3): 3 difference(s), 3 change(s)")
    assert plan["total"] == "0.00"  # + 60.00 created, − 60.00 ended, the adopted one bills as before
    # The confirm page's change to the bill is the plan's: what each row adds or ends.
    shown = amounts(plan)
    assert (shown["recurringAdded"], shown["recurringRemoved"], shown["recurringChange"]) == \
        (Decimal("60.00"), Decimal("60.00"), Decimal(0))


def test_subscriptions_on_other_agreements_or_billing_periods_get_their_own_repair():
    yearly = {"id": 4, "name": "Yearly"}
    agreements = {"3101": agreement(), "3102": agreement(3102), "3103": agreement(3103, cycle=yearly)}
    subs = [subscription("SUB-1"), subscription("SUB-2"), subscription("SUB-3", period={"type": "year", "duration": 1})]
    findings, _ = compare(subs, {}, agreements=agreements,
                          targets={"SUB-1": "3101", "SUB-2": "3102", "SUB-3": "3103"})
    groups = repair_groups(findings)
    assert sorted(sorted(f.subscription.id for f in g) for g in groups) == [["SUB-1"], ["SUB-2"], ["SUB-3"]]


def test_an_ended_subscription_joins_the_repair_of_the_agreement_billing_it_and_busy_ones_are_left_out():
    subs = [subscription("SUB-1"), subscription("SUB-2"), subscription("SUB-3", status="terminated")]
    findings, _ = compare(subs, {"3101": [addition(9003, serial="MP-SUB-3-SO1")]})
    (group,) = repair_groups(findings)
    assert sorted({f.subscription.id for f in group}) == ["SUB-1", "SUB-2", "SUB-3"]
    (group,) = repair_groups(findings, busy={"SUB-2"})
    assert sorted({f.subscription.id for f in group}) == ["SUB-1", "SUB-3"]
    (alone,) = repair_groups([f for f in findings if f.subscription.id == "SUB-3"])
    assert [f.subscription.id for f in alone] == ["SUB-3"]


def test_a_big_agreement_is_repaired_in_parts_of_bounded_size():
    subs = [subscription(f"SUB-{n:03d}") for n in range(SUBSCRIPTIONS_PER_TASK + 3)]
    findings, _ = compare(subs, {})
    groups = repair_groups(findings)
    assert [len(g) for g in groups] == [SUBSCRIPTIONS_PER_TASK, 3]
    assert len({f.subscription.id for g in groups for f in g}) == len(subs)


def test_an_addition_carrying_another_subscriptions_tag_is_never_adopted_as_the_sync_decides_too():
    from cwsync.domain import handmade

    other = addition(9001, serial="MP-SUB-9-SO1")
    findings, _ = compare([subscription()], {"3101": [other]})
    assert kinds(findings) == [("not_billed", "quantity", Decimal("60.00"))]
    # The sync reads the same additions typed (as the ConnectWise adapter hands them on).
    assert handmade.untagged([other], 701, handmade.tag_literal(RepairSettings().tag_format)) == []
    typed = addition(9002, serial="licence pack 2024")
    findings, _ = compare([subscription()], {"3101": [typed]})
    assert kinds(findings) == [("adopt_candidate", "serialNumber", Decimal(0))]
    assert handmade.untagged([typed], 701, "MP-") == [typed]


def test_the_comparison_works_on_records_built_in_memory_without_any_json():
    from datetime import datetime, timezone

    from cwsync.domain.models import BillingPeriod
    from cwsync.domain.records import AdditionRecord, AgreementRecord

    typed_agreement = AgreementRecord(id=3101, name="Managed", company_id=1, status="Active", cancelled=False,
                                      billing_cycle="Monthly", currency_code="USD",
                                      next_invoice_date=date(2026, 12, 1))
    sub = r.Subscription("SUB-1", "C1", "Basic", "active", "USD", BillingPeriod("month", 1),
                         (r.SubscriptionLine("M365-BASIC", "Basic", Decimal(12), Decimal("6.00"), None),))
    billed = AdditionRecord(id=9001, product_id=701, quantity=Decimal(10), unit_price=Decimal("6.00"),
                            effective_date=datetime(2026, 1, 1, tzinfo=timezone.utc), serial_number="MP-SUB-1-SO1")
    findings, agreements = compare([sub], {"3101": [billed]}, agreements={"3101": typed_agreement})
    assert kinds(findings) == [("quantity_differs", "quantity", Decimal("12.00"))]
    ops = plan_for(findings, agreements)["operations"]
    assert [(op["action"], op["fields"].get("cancelledDate") or op["fields"].get("quantity")) for op in ops] == \
        [("cancel_addition", "2026-12-01T00:00:00Z"), ("create_addition", "12")]
    # What the approver sees of the addition as ConnectWise has it: its fields, in ConnectWise's names.
    assert (ops[0]["before"]["quantity"], ops[0]["before"]["unitPrice"], ops[0]["before"]["serialNumber"]) == \
        ("10", "6.00", "MP-SUB-1-SO1")
