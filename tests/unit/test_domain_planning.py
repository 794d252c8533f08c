"""What the sync plans to write to ConnectWise for each kind of order, value by value."""
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from cwsync.adapters import cw_records
from cwsync.errors import ConfigurationError, SyncFailed
from cwsync.adapters import mp_orders
from cwsync.vocabulary import TaskType
from cwsync.domain.planning import PlanContext, PlanSettings, plan_task

MONTHLY = {"type": "month", "duration": 1}
NAME = "Microsoft 365 Business Basic"


def charge(kind, quantity, price, cost=None, mpn="M365-BB", description=""):
    line = {"type": kind, "mpn": mpn, "quantity": quantity, "description": description,
            "salesUnitPrice": {"amount": price, "currency": "USD"}}
    if cost is not None:
        line["unitPrice"] = {"amount": cost, "currency": "USD"}
    return line


def order(number, type_, *, created="2026-02-15T09:30:00Z", quantity=10, period=MONTHLY,
          charges=(), subscription="SUB-1", mpn="M365-BB", line_type="CREATE", **extra):
    return mp_orders.order({
        "id": "ORD-" + number, "orderNumber": number, "type": type_, "customerId": "1000048531",
        "status": "completed", "creationDate": created, "subscriptionId": subscription,
        "total": {"amount": "0", "currency": "USD"},
        "products": [{"mpn": mpn, "name": NAME, "quantity": quantity, "type": line_type,
                      "subscriptionId": subscription, "billingPeriod": period}],
        "details": list(charges), **extra,
    })


def addition(id_, serial, quantity=10, price=6.0, cost=4.8, cancelled=None):
    return {"id": id_, "serialNumber": serial, "quantity": quantity, "unitPrice": price, "unitCost": cost,
            "product": {"id": 7}, "cancelledDate": cancelled}


def context(additions=(), **settings):
    item = cw_records.catalog_item({"id": 7, "price": 5.5, "cost": 4.4})
    return PlanContext(agreement={"id": 12}, catalog_items={mpn: item for mpn in ("M365-BB", "AZ-PLAN", "M365-BS")},
                       additions=[cw_records.addition(a) for a in additions], settings=PlanSettings(**settings),
                       now=datetime(2026, 2, 15, 10, tzinfo=timezone.utc))


def ops(plan, action=None):
    return [op for op in plan.to_dict()["operations"] if action is None or op["action"] == action]


def test_a_sales_order_plans_a_recurring_addition_and_a_one_time_setup_fee():
    sale = order("SO000012", "sales", charges=[charge("recurring", 10, "6.00", "4.80"),
                                                charge("setup", 1, "25.00", "0", description="Onboarding")])
    plan = plan_task(TaskType.SALES, sale, context()).to_dict()
    assert plan["operations"] == [
        {"key": "create-addition:MP-SUB-1-SO000012", "action": "create_addition", "agreementId": 12,
         "match": {"serialNumber": "MP-SUB-1-SO000012"},
         "fields": {"product": {"id": 7}, "quantity": "10", "unitPrice": "6.00", "unitCost": "4.80",
                    "billCustomer": "Billable", "taxableFlag": True, "effectiveDate": "2026-02-15T00:00:00Z",
                    "serialNumber": "MP-SUB-1-SO000012", "description": NAME,
                    "invoiceDescription": f"{NAME} (subscription SUB-1)"},
         "explanation": "New subscription SUB-1; price and cost from the marketplace order's charge line",
         "prices": {"chosen": "marketplace", "options": {
             "marketplace": {"unitPrice": "6.00", "unitCost": "4.80"},
             "catalog": {"unitPrice": "5.50", "unitCost": "4.40"}}},
         "mpn": "M365-BB"},
        {"key": "create-adjustment:MP-SUB-1-SO000012:setup:1", "action": "create_adjustment", "agreementId": 12,
         "match": {"tag": "MP-SUB-1-SO000012:setup:1"},
         "fields": {"amount": "25.00", "description": "Setup fee: Onboarding × 1",
                    "effectiveDate": "2026-02-15T00:00:00Z"},
         "explanation": "One-time setup fee from the order's setup charge line"},
    ]
    assert plan["total"] == "85.00" and plan["decrease"] is False and plan["nothingToChange"] is False
    assert plan["summary"] == f"New subscription from 2026-02-15: 10 × {NAME} at 6.00 USD; setup fee 25.00 USD"
    assert plan["taskId"] == "ORD-SO000012" and plan["plannedAt"] == "2026-02-15T10:00:00Z"
    json.dumps(plan)


@pytest.mark.parametrize("created, period, price, days, amount", [
    # 10 → 12 licences at 6.00 a month: 12.00 more per month for the rest of February.
    ("2028-02-15T08:00:00Z", MONTHLY, "6.00", "15 of 29 days (2028-02-15 to 2028-02-29)", "6.21"),
    ("2026-02-15T08:00:00Z", MONTHLY, "6.00", "14 of 28 days (2026-02-15 to 2026-02-28)", "6.00"),
    # At 72.00 a year: 144.00 more per year for the rest of the calendar year.
    ("2028-02-15T08:00:00Z", {"type": "year", "duration": 1}, "72.00", "321 of 366 days (2028-02-15 to 2028-12-31)", "126.30"),
    ("2026-02-15T08:00:00Z", {"type": "year", "duration": 1}, "72.00", "320 of 365 days (2026-02-15 to 2026-12-31)", "126.25"),
    # At 18.00 a quarter: 36.00 more for the rest of the first quarter.
    ("2028-02-15T08:00:00Z", {"type": "month", "duration": 3}, "18.00", "46 of 91 days (2028-02-15 to 2028-03-31)", "18.20"),
    ("2026-02-15T08:00:00Z", {"type": "month", "duration": 3}, "18.00", "45 of 90 days (2026-02-15 to 2026-03-31)", "18.00"),
])
def test_an_upgrade_ends_the_old_addition_starts_a_new_one_and_charges_the_rest_of_the_period(
        created, period, price, days, amount):
    change = order("CH000020", "change", created=created, quantity=12, period=period, line_type="UPGRADE",
                   charges=[charge("recurring", 2, price, "4.80")])
    plan = plan_task("change", change, context([addition(100, "MP-SUB-1-SO000012", price=float(price))]))
    cancel, create, prorate = ops(plan)
    day = created[:10] + "T00:00:00Z"
    assert (cancel["action"], cancel["match"], cancel["fields"]) == (
        "cancel_addition", {"id": 100, "serialNumber": "MP-SUB-1-SO000012"}, {"cancelledDate": day})
    assert create["fields"]["quantity"] == "12" and create["fields"]["unitPrice"] == price
    assert create["fields"]["effectiveDate"] == day and create["fields"]["serialNumber"] == "MP-SUB-1-CH000020"
    assert create["fields"]["prorateCurrentPeriodFlag"] is False   # the plan prorates, not the agreement
    assert prorate["action"] == "create_adjustment"
    assert prorate["fields"]["amount"] == amount
    assert prorate["match"] == {"tag": "MP-SUB-1-CH000020:prorate"}
    assert prorate["fields"]["description"] == f"Prorated upgrade {NAME}: 10 → 12, {days}"
    assert plan.decrease is False
    assert plan.summary == f"{NAME}: 10 → 12 from {created[:10]}"


def test_proration_is_exact_until_the_edge():
    change = order("CH000021", "change", created="2028-02-15T00:00:00Z", quantity=12, line_type="UPGRADE",
                   charges=[charge("recurring", 2, "6.00", "4.80")])
    plan = plan_task("change", change, context([addition(100, "MP-SUB-1-SO000012")]))
    adjustment = plan.operations[-1]
    assert adjustment.fields["amount"] == Decimal("12.00") * 15 / 29   # unrounded inside
    assert plan.total == Decimal("12.00") + Decimal("12.00") * 15 / 29
    assert plan.to_dict()["total"] == "18.21"


def test_a_downgrade_credits_the_difference_and_is_marked_as_a_decrease():
    change = order("CH000022", "change", created="2028-02-15T00:00:00Z", quantity=7, line_type="UPGRADE",
                   charges=[charge("recurring", 7, "6.00", "4.80")])
    plan = plan_task("change", change, context([addition(100, "MP-SUB-1-SO000012")]))
    adjustment = ops(plan, "create_adjustment")[0]
    assert adjustment["fields"]["amount"] == "-9.31"               # -18.00 × 15/29
    assert adjustment["fields"]["description"].startswith("Prorated downgrade")
    assert plan.decrease is True
    assert plan.to_dict()["total"] == "-27.31"                     # 42 − 60 − 9.31


def test_stated_billing_dates_are_the_proration_period():
    change = order("CH000023", "change", created="2028-02-15T00:00:00Z", quantity=12, line_type="UPGRADE",
                   charges=[charge("recurring", 2, "6.00")], lastBillingDate="2028-02-10", nextBillingDate="2028-03-10")
    plan = plan_task("change", change, context([addition(100, "MP-SUB-1-SO000012")]))
    assert ops(plan, "create_adjustment")[0]["fields"]["amount"] == "9.93"   # 12 × 24/29


def test_when_connectwise_prorates_there_is_no_adjustment_and_the_addition_asks_for_proration():
    change = order("CH000024", "change", quantity=12, line_type="UPGRADE", charges=[charge("recurring", 2, "6.00")])
    plan = plan_task("change", change, context([addition(100, "MP-SUB-1-SO000012")], proration="connectwise"))
    assert [op["action"] for op in ops(plan)] == ["cancel_addition", "create_addition"]
    assert ops(plan, "create_addition")[0]["fields"]["prorateCurrentPeriodFlag"] is True


def test_only_active_additions_tagged_for_the_subscription_are_ended():
    existing = [addition(100, "MP-SUB-1-SO000012"), addition(101, "MP-SUB-10-SO000013"),
                addition(102, "MP-SUB-1-CH000001", cancelled="2026-01-10T00:00:00Z"),
                addition(103, None), addition(104, "MP-SUB-1")]
    change = order("CH000025", "change", quantity=12, line_type="UPGRADE", charges=[charge("recurring", 2, "6.00")])
    plan = plan_task("change", change, context(existing))
    assert [op["match"]["id"] for op in ops(plan, "cancel_addition")] == [100, 104]


def test_with_connectwise_prices_a_change_keeps_the_current_addition_price():
    change = order("CH000026", "change", quantity=12, line_type="UPGRADE", charges=[charge("recurring", 2, "6.00")])
    plan = plan_task("change", change, context([addition(100, "MP-SUB-1-SO000012", price=5.5, cost=4.1)],
                                                price_source="connectwise"))
    create = ops(plan, "create_addition")[0]
    assert (create["fields"]["unitPrice"], create["fields"]["unitCost"]) == ("5.50", "4.10")
    assert create["explanation"].endswith("price and cost from the current ConnectWise addition")


def test_with_connectwise_prices_a_new_subscription_takes_the_catalog_price():
    sale = order("SO000027", "sales", charges=[charge("recurring", 10, "6.00", "4.80")])
    create = ops(plan_task("sales", sale, context(price_source="connectwise")))[0]
    assert (create["fields"]["unitPrice"], create["fields"]["unitCost"]) == ("5.50", "4.40")


def test_a_usage_billing_order_charges_recurring_and_overuse_for_the_billed_period():
    bill = order("BO000030", "renewal", created="2026-02-02T03:00:00Z", mpn="AZ-PLAN", line_type="BILLING_SUBSCRIPTION",
                 charges=[charge("recurring", 1, "50.00", "40.00", mpn="AZ-PLAN", description="Azure plan"),
                          charge("overuse", "125.5", "0.10", "0.08", mpn="AZ-PLAN", description="Azure usage"),
                          charge("discount", 1, "-1.00", mpn="AZ-PLAN")],
                 billingModel="chargeAfterBillingPeriod")
    plan = plan_task("billing", bill, context())
    recurring, overuse = ops(plan)
    assert recurring["fields"] == {
        "amount": "50.00", "effectiveDate": "2026-02-02T00:00:00Z",
        "description": "Recurring charge: Azure plan, 1 × 50.00 USD, period 2026-01-01 to 2026-01-31"}
    assert overuse["fields"]["amount"] == "12.55"                  # 125.5 × 0.10
    assert overuse["fields"]["description"] == ("Overuse: Azure usage, 125.5 × 0.10 USD, "
                                                "period 2026-01-01 to 2026-01-31")
    assert overuse["explanation"] == "Overuse for 2026-01-01 to 2026-01-31: 125.5 × 0.10 USD; cost 10.04 USD"
    assert plan.summary == ("Usage for 2026-01-01 to 2026-01-31: recurring charge 50.00 USD; "
                            "overuse 12.55 USD (charge lines not synced: discount)")


def test_a_cancellation_ends_the_subscription_additions_and_charges_the_fee():
    cancel = order("CL000040", "cancellation", line_type="CANCEL",
                   charges=[charge("cancellation", 1, "30.00", description="Early termination")])
    plan = plan_task("cancellation", cancel, context([addition(100, "MP-SUB-1-SO000012"), addition(101, "MP-SUB-2-SO1")]))
    end, fee = ops(plan)
    assert (end["key"], end["fields"]) == ("cancel-addition:100", {"cancelledDate": "2026-02-15T00:00:00Z"})
    assert fee["fields"] == {"amount": "30.00", "effectiveDate": "2026-02-15T00:00:00Z",
                             "description": "Cancellation fee: Early termination × 1"}
    assert plan.decrease is True
    assert plan.to_dict()["total"] == "-30.00"                     # −60 recurring + 30 fee
    assert plan.summary == "Cancel subscription SUB-1: 1 addition(s) end on 2026-02-15; cancellation fee 30.00 USD"


def test_a_cancellation_of_a_subscription_without_additions_has_nothing_to_change():
    plan = plan_task("cancellation", order("CL000041", "cancellation", line_type="CANCEL",
                                           charges=[charge("recurring", 0, "0")]), context())
    assert plan.nothing_to_change is True and plan.operations == []
    assert plan.summary == ("Nothing to change: subscription SUB-1 has no active addition on agreement 12 "
                            "and no cancellation fee")


def test_a_renewal_on_the_same_terms_has_nothing_to_change():
    renewal = order("RN000050", "renewal", line_type="RENEW", charges=[charge("renew", 10, "6.00", "4.80")])
    plan = plan_task("renewal", renewal, context([addition(100, "MP-SUB-1-SO000012")]))
    assert plan.to_dict()["nothingToChange"] is True and plan.operations == []
    assert plan.summary == "Nothing to change: renewal keeps 10 × 6.00 (cost 4.80) USD for subscription SUB-1"
    assert plan.to_dict()["total"] == "0.00"


def test_a_renewal_with_a_new_price_replaces_the_addition():
    renewal = order("RN000051", "renewal", created="2027-02-15T00:00:00Z", line_type="RENEW",
                    charges=[charge("renew", 10, "6.50", "5.20")])
    plan = plan_task("renewal", renewal, context([addition(100, "MP-SUB-1-SO000012")]))
    assert [(op["action"], op["key"]) for op in ops(plan)] == [
        ("cancel_addition", "cancel-addition:100"), ("create_addition", "create-addition:MP-SUB-1-RN000051")]
    assert ops(plan, "create_addition")[0]["fields"]["unitPrice"] == "6.50"
    assert plan.summary == ("Renewal of subscription SUB-1 from 2027-02-15: 10 × 6.00 (cost 4.80) USD → "
                            "10 × 6.50 (cost 5.20) USD")
    assert plan.decrease is False and plan.to_dict()["total"] == "5.00"


def test_a_product_not_in_connectwise_yet_is_created_first_and_the_addition_refers_to_it():
    proposal = {"identifier": "M365-BB", "description": NAME, "price": Decimal("6"), "cost": Decimal("4.8")}
    ctx = PlanContext(agreement={"id": 12}, catalog_proposals={"M365-BB": proposal})
    plan = plan_task("sales", order("SO000060", "sales", charges=[charge("recurring", 10, "6.00")]), ctx)
    first, second = ops(plan)
    assert (first["action"], first["key"], first["match"], first["agreementId"]) == (
        "create_catalog_item", "create-catalog-item:M365-BB", {"identifier": "M365-BB"}, None)
    assert (first["fields"]["price"], first["fields"]["cost"]) == ("6.00", "4.80")
    assert second["fields"]["product"] == {"identifier": "M365-BB"}


def test_a_product_without_a_catalog_item_cannot_be_planned():
    ctx = PlanContext(agreement={"id": 12})
    with pytest.raises(SyncFailed, match="Product M365-BB is not linked to a ConnectWise catalog item"):
        plan_task("sales", order("SO000061", "sales", charges=[charge("recurring", 10, "6.00")]), ctx)


def test_two_lines_of_one_subscription_get_distinct_tags():
    raw_order = order("SO000062", "sales", charges=[charge("recurring", 10, "6.00")])
    second = raw_order.lines[0].__class__(**{**raw_order.lines[0].__dict__, "mpn": "M365-BS"})
    two_lines = raw_order.__class__(**{**raw_order.__dict__, "lines": raw_order.lines + (second,)})
    plan = plan_task("sales", two_lines, context())
    assert [op["fields"]["serialNumber"] for op in ops(plan)] == ["MP-SUB-1-SO000062-1", "MP-SUB-1-SO000062-2"]


def test_a_long_tag_is_shortened_to_50_characters_deterministically():
    subscription = "2f0e8b1c-5d4a-4e7b-9c3d-1a2b3c4d5e6f"
    sale = order("SO0000000000000000099", "sales", subscription=subscription, charges=[charge("recurring", 1, "6")])
    tags = {ops(plan_task("sales", sale, context()))[0]["fields"]["serialNumber"] for _ in range(2)}
    [tag] = tags
    assert len(tag) == 50
    assert tag.startswith(f"MP-{subscription}-")


def test_the_tag_format_is_configurable():
    sale = order("SO000070", "sales", charges=[charge("recurring", 1, "6")])
    plan = plan_task("sales", sale, context(tag_format="SYNC/{subscription_id}/{order_id}"))
    assert ops(plan)[0]["fields"]["serialNumber"] == "SYNC/SUB-1/ORD-SO000070"


@pytest.mark.parametrize("settings", [
    {"tag_format": "{order_number}-{subscription_id}"},    # subscription not first: prefix search breaks
    {"tag_format": "MP-{subscription_id}"},                 # one tag for every order: retries would collide
    {"tag_format": "MP-{subscription_id}{order_number}"},   # no separator: SUB-1 would find SUB-10
    {"price_source": "vendor"},
    {"proration": "none"},
    {"bill_customer": "Yes"},
    {"price_field": "listPrice"},
])
def test_settings_that_would_plan_wrongly_are_refused(settings):
    with pytest.raises(ConfigurationError):
        PlanSettings(**settings)


def test_replanning_the_same_task_gives_the_same_operation_keys():
    change = order("CH000080", "change", quantity=12, line_type="UPGRADE", charges=[charge("recurring", 2, "6.00")])
    first = plan_task("change", change, context([addition(100, "MP-SUB-1-SO000012")])).to_dict()
    second = plan_task("change", change, context([addition(100, "MP-SUB-1-SO000012")])).to_dict()
    assert first == second
    keys = [op["key"] for op in first["operations"]]
    assert keys == ["cancel-addition:100", "create-addition:MP-SUB-1-CH000080",
                    "create-adjustment:MP-SUB-1-CH000080:prorate"]
