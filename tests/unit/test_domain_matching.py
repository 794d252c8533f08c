"""Linking a marketplace customer to a ConnectWise company and a product to a catalog item."""
from decimal import Decimal

import pytest

from cwsync.adapters import cw_records, mp_records
from cwsync.domain.matching import (CatalogSettings, match_customer, match_product, normalise_company_name,
                                    propose_catalog_item, truncate)
from cwsync.domain.models import BillingPeriod, Charge, OrderLine


@pytest.mark.parametrize("a, b", [
    ("Green Lane LLC", "GREEN LANE, L.L.C."),
    ("Green Lane LLC", "green   lane"),
    ("Smith & Jones Ltd", "Smith and Jones"),
    ('O"Brien & Sons (EU)', "OBrien and Sons EU"),
    ("O’Brien & Sons (EU) Inc.", "o'brien and sons (eu)"),
    ("Müller GmbH", "MULLER"),                  # accents folded on purpose
    ("Straße AG", "STRASSE"),
    ("Ｇｒｅｅｎ Ｌａｎｅ", "Green Lane"),             # full-width letters (NFKC)
    ("Acme GmbH & Co. KG", "ACME"),
    ("Koala Pty Ltd", "Koala"),
    ("Nordic B.V.", "nordic"),
    ("Iberia S.A.", "IBERIA"),
])
def test_company_names_that_mean_the_same_company_normalise_equal(a, b):
    assert normalise_company_name(a) == normalise_company_name(b)


@pytest.mark.parametrize("a, b", [
    ("Müller GmbH", "Mueller GmbH"),            # a different spelling is only a candidate
    ("Green Lane LLC", "Green Lanes LLC"),
    ("O'Brien & Sons (EU)", "O'Brien & Sons (US)"),
])
def test_different_companies_stay_different(a, b):
    assert normalise_company_name(a) != normalise_company_name(b)


def test_a_name_that_is_only_a_legal_form_keeps_it():
    assert normalise_company_name("Inc.") == "inc"


CUSTOMER = {"id": "1000048531", "name": "Green Lane LLC", "externalId": "GL-77"}


def company(id_, name, identifier="", deleted=False, custom=None, **more):
    """A company as the ConnectWise adapter hands it on (parsed from its JSON)."""
    return cw_records.company({"id": id_, "name": name, "identifier": identifier, "deletedFlag": deleted,
                               "customFields": custom or [], **more})


@pytest.mark.parametrize("companies, id_field, chosen, explanation", [
    ([company(1, "Someone Else", "1000048531"), company(2, "Green Lane LLC")], None,
     "1", "Company identifier equals marketplace customer id 1000048531"),
    ([company(1, "GL", "gl-77")], None, "1", "Company identifier equals marketplace customer externalId GL-77"),
    ([company(3, "Green Lane", "GreenLane", custom=[{"id": 9, "caption": "Marketplace ID", "value": "1000048531"}])],
     "Marketplace ID", "3", "Custom field 'Marketplace ID' equals marketplace customer id 1000048531"),
    ([company(3, "GL", custom=[{"id": 9, "caption": "Marketplace ID", "value": "1000048531"}])],
     "9", "3", "Custom field '9' equals marketplace customer id 1000048531"),
    ([company(4, "GREEN LANE, L.L.C.", "GreenLane"), company(5, "Green Lanes Inc")], None,
     "4", "Name matches after ignoring case, punctuation and legal suffix"),
    ([company(6, "Green Lane LLC", "1000048531", deleted=True), company(7, "Green Lane")], None,
     "7", "Name matches after ignoring case, punctuation and legal suffix"),
])
def test_a_customer_is_linked_automatically_on_an_id_or_the_same_name(companies, id_field, chosen, explanation):
    match = match_customer(mp_records.customer(CUSTOMER), companies, id_field=id_field)
    assert match.chosen == chosen
    assert match.explanation == explanation
    assert match.options[0].id == chosen and match.options[0].reason == explanation


def test_two_companies_with_the_same_name_go_to_a_person():
    match = match_customer(mp_records.customer(CUSTOMER),
                           [company(1, "Green Lane LLC", "GL1"), company(2, "Green Lane Inc", "GL2")])
    assert match.chosen is None
    assert [o.id for o in match.options] == ["1", "2"]
    assert match.explanation == "2 ConnectWise records match the name 'Green Lane LLC'; choose one"
    assert match.recommended == "1"


def test_without_evidence_up_to_five_similar_companies_are_ranked_and_none_chosen():
    companies = [company(i, name) for i, name in enumerate(
        ["Green Lanes Ltd", "Green Lane Garden Centre", "Greenline Services", "Blue Lane LLC",
         "Lane Green", "Green", "Totally Unrelated Bakery", "Gren Lane"], start=1)]
    companies.append(company(99, "Green Lane Holdings", deleted=True))
    match = match_customer(mp_records.customer({"id": "555", "name": "Green Lane LLC"}), companies)
    assert match.chosen is None
    assert len(match.options) == 5
    ids = [o.id for o in match.options]
    assert "99" not in ids and "7" not in ids
    assert ids[0] in {"1", "8"}  # the closest spellings first
    assert all(o.eligible and o.reason.startswith("Name is ") for o in match.options)
    assert match.explanation == ("No active ConnectWise company has identifier 555, or the name 'Green Lane LLC'; "
                                 "5 similar name(s) listed, none recommended")


@pytest.mark.parametrize("candidate, recommended", [
    ("Northgate Bakery Supply", None),     # another business that merely sounds alike
    ("Northwind Bakery Co", None),         # exact after the legal suffix: chosen, not merely recommended
    ("Northwind Bakeries", None),          # even a near-identical spelling is a guess a person makes
])
def test_a_similar_name_is_offered_but_never_recommended(candidate, recommended):
    match = match_customer(mp_records.customer({"id": "555", "name": "Northwind Bakery"}), [company(1, candidate)])
    if candidate == "Northwind Bakery Co":
        assert match.chosen == "1"
        return
    assert match.chosen is None
    assert [o.id for o in match.options] == ["1"]
    assert match.recommended == recommended
    assert match.to_dict()["recommended"] == recommended


def test_a_quoted_name_is_matched_and_shown_as_is():
    match = match_customer(mp_records.customer({"id": "1", "name": 'O"Brien & Sons (EU)'}),
                           [company(8, "O'Brien and Sons (EU) Ltd", "OBRIEN")])
    assert match.chosen == "8"
    assert match.options[0].label == "O'Brien and Sons (EU) Ltd (OBRIEN)"


CATALOG = [cw_records.catalog_item(item) for item in [
    {"id": 7, "identifier": "M365-BB", "description": "Microsoft 365 Business Basic", "manufacturerPartNumber": "CFQ7TTC0LH18"},
    {"id": 8, "identifier": "M365-BS", "description": "Microsoft 365 Business Standard", "vendorSku": "cfq7ttc0ldpb "},
    {"id": 9, "identifier": "OLD-BB", "description": "Business Basic (old)", "manufacturerPartNumber": "CFQ7TTC0LH18",
     "inactiveFlag": True},
    {"id": 10, "identifier": "AZ-PLAN", "description": "Azure plan"},
]]


@pytest.mark.parametrize("mpn, chosen, reason", [
    ("CFQ7TTC0LH18", "7", "Catalog item manufacturerPartNumber equals marketplace MPN CFQ7TTC0LH18"),
    (" CFQ7TTC0LDPB", "8", "Catalog item vendorSku equals marketplace MPN CFQ7TTC0LDPB"),
    ("az-plan", "10", "Catalog item identifier equals marketplace MPN az-plan"),
])
def test_an_active_catalog_item_with_the_mpn_is_chosen(mpn, chosen, reason):
    match = match_product(mpn, CATALOG)
    assert (match.chosen, match.explanation) == (chosen, reason)


def test_an_inactive_item_with_the_mpn_is_listed_but_never_chosen():
    match = match_product("CFQ7TTC0LH18", CATALOG)
    assert match.chosen == "7"
    assert [(o.id, o.eligible) for o in match.options] == [("7", True), ("9", False)]
    assert match.options[1].reason.endswith("but the item is inactive")


def test_an_unknown_mpn_offers_similar_items_and_adding_the_product():
    match = match_product("CFQ7TTC0LF8Q", CATALOG, name="Microsoft 365 Business Premium")
    assert match.chosen is None
    assert "9" not in [o.id for o in match.options]
    assert {o.id for o in match.options} >= {"7", "8"}
    assert match.explanation.startswith("No active catalog item has MPN CFQ7TTC0LF8Q;")
    assert match.explanation.endswith("or add the product to ConnectWise")


@pytest.mark.parametrize("text, limit, expected", [
    ("Microsoft 365 Business Basic", 60, "Microsoft 365 Business Basic"),
    ("Microsoft 365 Business Premium and Microsoft Defender for Business", 40, "Microsoft 365 Business Premium and…"),
    ("Supercalifragilisticexpialidocious", 10, "Supercali…"),
])
def test_long_text_is_cut_at_a_word_within_the_limit(text, limit, expected):
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= limit


def test_a_proposed_catalog_item_is_a_complete_body_within_the_contract_lengths():
    name = "Microsoft 365 E5 (no Teams) with Defender, Purview and Intune Suite — annual commitment"
    line = OrderLine(mpn="X" * 80, name=name, quantity=Decimal(5), type="CREATE", subscription_id="SUB-1",
                     billing_period=BillingPeriod("month", 1))
    charges = [Charge("setup", "X" * 80, "", Decimal(1), "USD", {"salesUnitPrice": Decimal("99")}),
               Charge("recurring", "X" * 80, "", Decimal(5), "USD",
                      {"unitPrice": Decimal("30.40"), "salesUnitPrice": Decimal("38.00")})]
    body = propose_catalog_item(line, charges, CatalogSettings(subcategory_id="12", type_id=3, taxable=False))
    assert body == {
        "identifier": "X" * 75, "description": "Microsoft 365 E5 (no Teams) with Defender, Purview and…",
        "customerDescription": name, "subcategory": {"id": 12}, "type": {"id": 3},
        "productClass": "NonInventory", "taxableFlag": False, "price": Decimal("38.00"), "cost": Decimal("30.40"),
        "manufacturerPartNumber": "X" * 50, "vendorSku": "X" * 50, "recurringFlag": True, "inactiveFlag": False,
        "recurringRevenue": Decimal("38.00"), "recurringCost": Decimal("30.40"),
    }
    assert len(body["description"]) <= 60


def test_the_price_and_cost_fields_of_a_proposal_follow_the_settings():
    line = OrderLine("SKU", "Thing", Decimal(1), "CREATE", "S", BillingPeriod("month", 1))
    charges = [Charge("recurring", "sku", "", Decimal(1), "USD",
                      {"unitPrice": Decimal("4"), "salesUnitPrice": Decimal("5"), "extendedPrice": Decimal("3")})]
    body = propose_catalog_item(line, charges, CatalogSettings(1, 2, cost_field="extendedPrice", price_field="unitPrice"))
    assert (body["price"], body["cost"]) == (Decimal("4"), Decimal("3"))


def test_an_inactive_company_is_never_chosen_even_by_its_id_and_the_reason_is_shown():
    inactive = company(1, "Northwind Bakery", identifier="555", status={"id": 2, "name": "Inactive"})
    match = match_customer(mp_records.customer({"id": "555", "name": "Northwind Bakery"}), [inactive])
    assert match.chosen is None and match.recommended is None
    (option,) = match.options
    assert not option.eligible and "the company's status is Inactive" in option.reason


def test_a_loosely_similar_company_is_offered_as_a_guess_never_recommended():
    match = match_customer(mp_records.customer({"id": "555", "name": "Northwind Bakery"}),
                           [company(1, "Northgate Bakery Supply")])
    assert match.chosen is None and match.recommended is None
    assert [o.id for o in match.options] == ["1"] and "check it is the same company" in match.options[0].reason


def test_a_similar_catalog_item_is_offered_never_recommended():
    catalog = [cw_records.catalog_item({"id": 3, "identifier": "M365-BUSPREM-P1M",
                                        "description": "Microsoft 365 Business Premium",
                                        "manufacturerPartNumber": "M365-BUSPREM-P1M"})]
    match = match_product("TEAMS-PREMIUM-P1M", catalog, name="Microsoft Teams Premium")
    assert match.chosen is None and match.recommended is None
