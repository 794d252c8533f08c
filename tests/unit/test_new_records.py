"""A company or catalog item cwsync adds to ConnectWise: filled in from the marketplace, every
field checked with its problem named, found again by its identifier instead of created twice."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from cwsync.adapters.mp_records import customer
from cwsync.domain.models import CustomerRecord
from cwsync.domain.new_records import (COMPANY_LIMITS, Choice, References, catalog_item_body, company_body,
                                       company_identifier, propose_catalog_form, propose_company)
from cwsync.errors import SyncFailed
from cwsync.services import steps
from cwsync.wizard_forms import check_new_record, found_choice, search_view
from fakes import FakeConnectWise, FakeMarketplace
from test_steps import add_task, make_deps, sales_order, store  # noqa: F401 (fixture)

COMPANY_REFS = References({"type": (Choice(1, "Client", True), Choice(2, "Vendor")),
                           "status": (Choice(1, "Active", True), Choice(2, "Inactive")),
                           "country": (Choice(1, "United States", code="US"), Choice(2, "Germany", code="DE"))})
CATALOG_REFS = References({"category": (Choice(5, "Software", True), Choice(6, "Services")),
                           "subcategory": (Choice(11, "Cloud Licensing", True, 5), Choice(13, "Onboarding", False, 6)),
                           "type": (Choice(3, "Subscription", True), Choice(4, "Licence"))})
NORTHWIND = {"id": "1000048534", "name": "Northwind Bakery Ltd", "externalId": "NW-7",
             "address": {"streetAddress": "77 Harbour Road", "addressExtension": "Unit 4", "postalCode": "02110",
                         "city": "Boston", "state": "MA", "countryCode": "DE"},
             "contactPersons": [{"type": "admin", "firstName": "Ann", "lastName": "Lee", "email": "a@nw.example",
                                 "phoneNumber": "+1 617 555 0199"}],
             "attributes": {"website": "northwind.example"}}


# --- companies: the form filled in ----------------------------------------------------------

def test_the_company_form_is_filled_from_the_marketplace_customer_and_connectwise_defaults():
    assert propose_company(customer(NORTHWIND), COMPANY_REFS) == {
        "identifier": "1000048534", "name": "Northwind Bakery Ltd", "addressLine1": "77 Harbour Road",
        "addressLine2": "Unit 4", "city": "Boston", "state": "MA", "zip": "02110", "country": "2",
        "phoneNumber": "+1 617 555 0199", "website": "northwind.example", "type": "1", "status": "1"}


def test_an_identifier_too_long_or_strange_for_connectwise_is_made_from_the_name():
    identifier = company_identifier(CustomerRecord(id="x" * 31,
                                                   name="Zürich Café & Söhne GmbH — Niederlassung Nord-Ost Bayern"))
    assert identifier == "ZurichCafeSohneGmbHNiederlassu" and len(identifier) == COMPANY_LIMITS["identifier"]
    assert company_identifier(CustomerRecord(id="A B", name="***")) == "Customer"


def test_an_address_the_marketplace_sends_oddly_is_left_out_of_the_form_and_blocks_nothing():
    odd = customer({"id": "1000048599", "name": "Odd Ltd", "address": {"streetAddress": 12, "city": "  Bern  "},
                    "contactPersons": "nobody", "attributes": ["website"]})
    assert (odd.street, odd.city, odd.phone, odd.website) == (None, "Bern", None, None)
    assert propose_company(odd, COMPANY_REFS)["city"] == "Bern"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.text(max_size=200))
def test_any_customer_gets_a_form_connectwise_accepts_as_it_is(customer_id, name):
    fields = propose_company(CustomerRecord(id=customer_id, name=name or "x", city="Bern"), COMPANY_REFS)
    body, problems = company_body(fields, COMPANY_REFS)
    assert [p for p in problems if p.field != "name"] == []
    assert len(body["identifier"]) <= 30 and len(body.get("name", "")) <= 50


def test_a_company_body_has_connectwise_s_shape():
    body, problems = company_body(propose_company(customer(NORTHWIND), COMPANY_REFS), COMPANY_REFS)
    assert problems == []
    assert body == {"identifier": "1000048534", "name": "Northwind Bakery Ltd", "addressLine1": "77 Harbour Road",
                    "addressLine2": "Unit 4", "city": "Boston", "state": "MA", "zip": "02110",
                    "phoneNumber": "+1 617 555 0199", "website": "northwind.example", "country": {"id": 2},
                    "status": {"id": 1}, "types": [{"id": 1}]}


def test_every_wrong_company_field_is_named_at_once():
    fields = {"identifier": "has space", "name": "", "addressLine1": "", "city": "", "zip": "1234567890123",
              "phoneNumber": "call me", "website": "not a site", "type": "9", "status": "", "country": "77"}
    _, problems = company_body(fields, COMPANY_REFS)
    by_field = {p.field: p.message for p in problems}
    assert set(by_field) == {"identifier", "name", "zip", "phoneNumber", "website", "type", "status", "country",
                             "addressLine1"}  # the too-long zip is no address ConnectWise could keep
    assert "at most 12" in by_field["zip"] and "letters, digits" in by_field["identifier"]
    _, problems = company_body({"identifier": "A1", "name": "A", "type": "1", "status": "1"}, COMPANY_REFS)
    assert [p.field for p in problems] == ["addressLine1"] and "at least one address field" in problems[0].message


# --- catalog items ---------------------------------------------------------------------------

PROPOSAL = {"identifier": "TEAMS-PREMIUM-P1M", "description": "Teams Premium", "customerDescription": "Teams Premium",
            "subcategory": {"id": 11}, "type": {"id": 3}, "productClass": "NonInventory", "taxableFlag": True,
            "price": Decimal("7.00"), "cost": Decimal("5.60"), "manufacturerPartNumber": "TEAMS-PREMIUM-P1M",
            "recurringFlag": True, "recurringRevenue": Decimal("7.00"), "recurringCost": Decimal("5.60")}


def test_the_catalog_form_is_filled_from_the_proposal_and_the_reference_lists():
    assert propose_catalog_form(PROPOSAL, CATALOG_REFS) == {
        "identifier": "TEAMS-PREMIUM-P1M", "description": "Teams Premium", "customerDescription": "Teams Premium",
        "price": "7.00", "cost": "5.60", "category": "5", "subcategory": "11", "type": "3", "taxableFlag": "true"}


def test_edited_price_cost_and_category_reach_the_catalog_body():
    form = {**propose_catalog_form(PROPOSAL, CATALOG_REFS), "price": "9.50", "cost": "7.25", "category": "6",
            "subcategory": "13", "type": "4", "taxableFlag": "false"}
    body, problems = catalog_item_body(form, PROPOSAL, CATALOG_REFS, currency="USD")
    assert problems == []
    assert (body["price"], body["cost"], body["recurringRevenue"], body["recurringCost"]) == (
        Decimal("9.50"), Decimal("7.25"), Decimal("9.50"), Decimal("7.25"))
    assert (body["category"], body["subcategory"], body["type"], body["taxableFlag"]) == (
        {"id": 6}, {"id": 13}, {"id": 4}, False)
    assert body["manufacturerPartNumber"] == "TEAMS-PREMIUM-P1M"


def test_every_wrong_catalog_field_is_named_at_once():
    form = {"identifier": "", "description": "d" * 61, "customerDescription": "ok", "price": "-1", "cost": "abc",
            "category": "5", "subcategory": "13", "type": "99"}
    _, problems = catalog_item_body(form, PROPOSAL, CATALOG_REFS, currency="USD")
    by_field = {p.field: p.message for p in problems}
    assert set(by_field) == {"identifier", "description", "price", "cost", "subcategory", "type"}
    assert "not in category Software" in by_field["subcategory"] and "at most 60" in by_field["description"]


# --- the page's checks against ConnectWise -------------------------------------------------------

def customer_approval():
    return {"kind": "customer", "options": [{"id": "21", "label": "Green Lane Landscaping", "eligible": True},
                                            {"id": "create-company", "eligible": True},
                                            {"id": "found-company", "eligible": True}],
            "proposal": propose_company(customer(NORTHWIND), COMPANY_REFS), "references": COMPANY_REFS.to_dict()}


def test_a_company_chosen_from_the_search_must_exist_and_be_active():
    cw = FakeConnectWise(companies=[{"id": 30, "identifier": "NWB", "name": "Northwind Bakeries",
                                     "status": {"id": 1, "name": "Active"}},
                                    {"id": 31, "identifier": "NWOLD", "name": "Northwind (closed)",
                                     "status": {"id": 2, "name": "Inactive"}}])
    body = found_choice(customer_approval(), {"choice": "30"})
    assert body["choice"] == "found-company"
    assert check_new_record(customer_approval(), "found-company", body["changes"], cw) == (
        {"company": {"id": "30", "name": "Northwind Bakeries"}}, [])
    for company_id, words in (("31", "Inactive"), ("99", "no usable company")):
        _, [problem] = check_new_record(customer_approval(), "found-company", {"company": {"id": company_id}}, cw)
        assert words in problem.message and (problem.key, problem.field) == ("search", "query")
    view = search_view(cw, '  North"wind  ') or {}
    assert view["query"] == 'North"wind' and view["results"] == []
    assert [r["eligible"] for r in search_view(cw, "northwind")["results"]] == [True, False]


def test_a_new_company_whose_identifier_is_taken_is_refused_at_its_field():
    cw = FakeConnectWise(companies=[{"id": 40, "identifier": "1000048534", "name": "Someone else"}])
    _, [problem] = check_new_record(customer_approval(), "create-company", {"company": {"name": "Northwind"}}, cw)
    assert (problem.key, problem.field) == ("company", "identifier") and "already used by" in problem.message


# --- the customer step: link what was found, create once ------------------------------------------

def test_a_company_found_by_search_is_linked_after_checking_it_again(store):
    cw = FakeConnectWise(companies=[{"id": 30, "identifier": "NWB", "name": "Northwind Bakeries",
                                     "status": {"id": 1, "name": "Inactive"}}])
    deps = make_deps(store, connectwise=cw, marketplace=FakeMarketplace([NORTHWIND]))
    task_id = add_task(deps, sales_order(customer_id="1000048534"))
    decision = {"decision": "approve", "choice": "found-company", "changes": {"company": {"id": "30"}}}
    with pytest.raises(SyncFailed, match="Inactive"):  # it became inactive after the page showed it
        steps.link_customer(deps, task_id, decision=decision)
    cw.companies_list[0]["status"] = {"id": 1, "name": "Active"}
    assert steps.link_customer(deps, task_id, decision=decision)["companyId"] == "30"
    assert deps.store.get_customer_link("1000048534")["companyName"] == "Northwind Bakeries"


def asked_to_create(store):
    """Northwind's customer approval, asked and stored: (fake ConnectWise, deps, task id, approval, its id)."""
    cw = FakeConnectWise(companies=[])
    deps = make_deps(store, connectwise=cw, marketplace=FakeMarketplace([NORTHWIND]))
    task_id = add_task(deps, sales_order(customer_id="1000048534"))
    asked = steps.link_customer(deps, task_id)
    requested = steps.request_approval(deps, task_id, asked["approval"], "TOKEN")
    return cw, deps, task_id, asked["approval"], requested["approvalId"]


def test_a_new_company_is_created_once_and_a_retry_links_the_one_created(store):
    cw, deps, task_id, approval, approval_id = asked_to_create(store)
    form = {**approval["proposal"], "name": "Northwind Bakery (Boston)"}
    decision = {"decision": "approve", "choice": "create-company", "changes": {"company": form},
                "approvalId": approval_id}
    first = steps.link_customer(deps, task_id, decision=decision)
    again = steps.link_customer(deps, task_id, decision=decision)  # the step ran again after a lost answer
    assert first["companyId"] == again["companyId"] and first["source"] == "created"
    [created] = [body for action, body in cw.written if action == "create_company"]
    assert created["name"] == "Northwind Bakery (Boston)" and created["identifier"] == "1000048534"
    assert created["types"] == [{"id": 1}] and created["status"] == {"id": 1}
    assert deps.store.get_customer_link("1000048534")["companyId"] == first["companyId"]


def test_a_new_company_sent_around_the_page_with_a_bad_field_writes_nothing(store):
    cw, deps, task_id, approval, approval_id = asked_to_create(store)
    decision = {"decision": "approve", "choice": "create-company", "approvalId": approval_id,
                "changes": {"company": {**approval["proposal"], "identifier": "no spaces allowed"}}}
    with pytest.raises(SyncFailed, match="Identifier may hold only"):
        steps.link_customer(deps, task_id, decision=decision)
    assert cw.written == []


def test_the_product_page_s_edits_become_the_catalog_item_the_plan_creates(store):
    from test_steps import agreement

    cw = FakeConnectWise(catalog=[], agreements=[agreement(12)])
    deps = make_deps(store, connectwise=cw, env={"APPROVAL_POLICY": "never"})
    task_id = add_task(deps, sales_order(mpn="TEAMS-PREMIUM-P1M"))
    asked = steps.link_product(deps, task_id)
    form = asked["approval"]["proposal"]
    assert (form["identifier"], form["price"], form["cost"], form["subcategory"]) == (
        "TEAMS-PREMIUM-P1M", "6.00", "4.80", "11")
    steps.link_product(deps, task_id)  # asked again in the same attempt: the lists are not read again
    assert cw.calls.count("catalog references") == 1
    requested = steps.request_approval(deps, task_id, asked["approval"], "T")
    edits = {**form, "identifier": "TEAMS-PREM", "price": "8.10", "cost": "6.20", "taxableFlag": "false"}
    steps.link_product(deps, task_id, decision={"decision": "approve", "choice": "add-to-connectwise",
                                                "approvalId": requested["approvalId"], "changes": {"catalog": edits}})
    deps.store.set_task_attributes(task_id, companyId="17", agreementId="12")
    steps.plan_changes(deps, task_id)
    create, addition = deps.store.get_task(task_id)["plan"]["operations"][:2]
    assert create["action"] == "create_catalog_item" and create["match"] == {"identifier": "TEAMS-PREM"}
    assert (Decimal(str(create["fields"]["price"])), Decimal(str(create["fields"]["cost"]))) == (
        Decimal("8.10"), Decimal("6.20"))
    assert create["fields"]["taxableFlag"] is False and create["fields"]["subcategory"] == {"id": 11}
    assert create["fields"]["manufacturerPartNumber"] == "TEAMS-PREMIUM-P1M"
    assert addition["fields"]["product"] == {"identifier": "TEAMS-PREM"}


def test_a_new_catalog_item_whose_identifier_is_taken_is_refused_at_its_field():
    cw = FakeConnectWise(catalog=[{"id": 703, "identifier": "TEAMS-PREMIUM-P1M", "description": "Teams (old)"}])
    approval = {"kind": "product", "options": [{"id": "add-to-connectwise", "eligible": True}],
                "proposal": propose_catalog_form(PROPOSAL, CATALOG_REFS), "references": CATALOG_REFS.to_dict(),
                "task": {"currency": "USD"}}
    _, [problem] = check_new_record(approval, "add-to-connectwise", {"catalog": {"price": "8.00"}}, cw)
    assert (problem.key, problem.field) == ("catalog", "identifier")
    assert "already used by ConnectWise catalog item Teams (old) (record 703)" in problem.message
    assert check_new_record(approval, "add-to-connectwise", {"catalog": {"identifier": "TEAMS-NEW"}}, cw)[1] == []
