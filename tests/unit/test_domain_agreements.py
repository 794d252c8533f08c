"""Choosing the agreement a subscription's additions go on; never an ineligible one."""
import pytest

from cwsync.adapters import cw_records, mp_orders
from cwsync.errors import InvalidOrder
from cwsync.domain.agreements import billing_cycle_name, select_agreement
from cwsync.domain.models import BillingPeriod

MONTHLY = BillingPeriod("month", 1)


@pytest.mark.parametrize("period, name", [
    (BillingPeriod("month", 1), "Monthly"),
    (BillingPeriod("month", 3), "Quarterly"),
    (BillingPeriod("month", 6), "SemiAnnual"),
    (BillingPeriod("year", 1), "Yearly"),
    (BillingPeriod("statement_day", 15), "Monthly"),
    (mp_orders.billing_period({"type": "year", "duration": 1}), "Yearly"),
])
def test_a_billing_period_maps_to_its_connectwise_billing_cycle(period, name):
    assert billing_cycle_name(period) == name


@pytest.mark.parametrize("period", [BillingPeriod("month", 2), BillingPeriod("year", 3), BillingPeriod("day", 30)])
def test_a_period_with_no_billing_cycle_is_a_clear_error(period):
    with pytest.raises(InvalidOrder, match=f"A {period} billing period has no matching ConnectWise billing cycle"):
        billing_cycle_name(period)


def agreement(id_, name="Cloud services", *, company=250, cycle="Monthly", currency="USD", status="Active",
              cancelled=False):
    return {"id": id_, "name": name, "company": {"id": company}, "agreementStatus": status,
            "cancelledFlag": cancelled, "billingCycle": {"id": 1, "name": cycle},
            "currency": {"id": 1, "currencyCode": currency}}


def parsed(agreements):
    """The agreements as the ConnectWise adapter hands them to the domain."""
    return [cw_records.agreement(a) for a in agreements]


def select(agreements, period=MONTHLY, currency="USD", remembered=None):
    return select_agreement(parsed(agreements), company_id="250", period=period, currency=currency, remembered_id=remembered)


@pytest.mark.parametrize("agreements, period, chosen", [
    ([agreement(1, cycle="Yearly"), agreement(2)], MONTHLY, "2"),
    ([agreement(1, cycle="Yearly"), agreement(2)], BillingPeriod("year", 1), "1"),
    ([agreement(1, cycle="Quarterly"), agreement(2)], BillingPeriod("month", 3), "1"),
    ([agreement(1, cycle="Semi-Annual"), agreement(2)], BillingPeriod("month", 6), "1"),
    ([agreement(1), agreement(2, company=999)], MONTHLY, "1"),  # other companies' agreements do not count
])
def test_the_only_eligible_agreement_is_chosen(agreements, period, chosen):
    match = select(agreements, period)
    assert match.chosen == chosen
    assert "is the only Active" in match.explanation


@pytest.mark.parametrize("bad, reason", [
    (agreement(1, cycle="Yearly"), "Billing cycle is Yearly, the subscription bills Monthly"),
    (agreement(1, currency="EUR"), "Currency is EUR, the order is in USD"),
    (agreement(1, status="Cancelled", cancelled=True), "Agreement is Cancelled"),
    (agreement(1, status="Expired"), "Agreement is Expired"),
    (agreement(1, cycle="Yearly", currency="EUR"),
     "Billing cycle is Yearly, the subscription bills Monthly; Currency is EUR, the order is in USD"),
    ({**agreement(1), "currency": None}, "ConnectWise agreement 1 has no currency code, the order is in USD; "
                                         "set the agreement's currency in ConnectWise and check again"),
    ({**agreement(1), "currency": {"id": 1}}, "ConnectWise agreement 1 has no currency code, the order is in USD; "
                                               "set the agreement's currency in ConnectWise and check again"),
    ({**agreement(1), "currency": {"id": 1, "currencyCode": {"id": 2, "name": "EUR"}}},
     "Currency is EUR, the order is in USD"),
])
def test_an_ineligible_agreement_is_never_chosen_and_says_why(bad, reason):
    match = select([bad])
    assert match.chosen is None and match.recommended is None
    assert [o.to_dict() for o in match.options] == [
        {"id": "1", "label": match.options[0].label, "eligible": False, "reason": reason}]
    assert match.explanation.startswith("The company has 1 agreement(s), none eligible")


def test_two_eligible_agreements_go_to_a_person_with_every_agreement_listed():
    match = select([agreement(3, "Old Yearly", cycle="Yearly"), agreement(2, "Cloud A"), agreement(1, "Cloud B")])
    assert match.chosen is None
    assert [(o.id, o.eligible) for o in match.options] == [("1", True), ("2", True), ("3", False)]
    assert match.options[0].label == "Cloud B (#1, Monthly, USD)"
    assert match.options[0].reason == "Active Monthly agreement in USD"
    assert match.recommended == "1"
    assert match.explanation == "2 agreements are eligible (Monthly agreement in USD); choose one"


def test_a_remembered_eligible_agreement_is_chosen_among_several():
    match = select([agreement(1), agreement(2)], remembered=2)
    assert match.chosen == "2"
    assert match.options[0].id == "2"
    assert match.options[0].reason == "Remembered for this subscription; active Monthly agreement in USD"


def test_a_remembered_agreement_that_became_ineligible_is_not_chosen_and_a_person_confirms_the_move():
    match = select([agreement(1, status="Cancelled", cancelled=True), agreement(2)], remembered="1")
    assert match.chosen is None
    assert match.recommended == "2"
    assert match.explanation == ("The remembered agreement #1 cannot be used (it is no longer eligible: "
                                 "Agreement is Cancelled); choose an Active Monthly agreement in USD")


def test_a_company_without_agreements_asks_for_one():
    match = select([agreement(1, company=7)], currency="EUR")
    assert (match.chosen, match.options) == (None, [])
    assert match.explanation == "The company has no agreements; add an Active Monthly agreement in EUR in ConnectWise"


def test_without_a_billing_period_only_status_and_currency_count():
    match = select([agreement(1, cycle="Yearly")], period=None)
    assert match.chosen == "1"


def test_an_agreement_past_its_end_date_is_not_eligible_and_says_why():
    from datetime import date

    ended = {**agreement(1), "endDate": "2026-06-30T00:00:00Z", "noEndingDateFlag": False}
    open_ended = {**agreement(2), "endDate": "2026-06-30T00:00:00Z", "noEndingDateFlag": True}
    match = select_agreement(parsed([ended, open_ended]), company_id=250, period=MONTHLY, currency="USD",
                             today=date(2026, 10, 17))
    assert match.chosen == "2"
    (passed_over,) = [o for o in match.options if o.id == "1"]
    assert not passed_over.eligible and passed_over.reason == "Agreement ended on 2026-06-30"
    alone = select_agreement(parsed([ended]), company_id=250, period=MONTHLY, currency="USD", today=date(2026, 10, 17))
    assert alone.chosen is None and alone.recommended is None
