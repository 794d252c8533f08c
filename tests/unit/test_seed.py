"""The demo data (local/cwsync_local/data/demo_seed.json) is reproducible, well-formed and
covers every task type and approval kind that docs/SEED.md promises.

The matching rules are restated here from docs/SEED.md on purpose: the demo must work
by the documented rules, whatever the implementation does.
"""
from __future__ import annotations

import importlib.util
import json
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

import cwsync_local
from cwsync_local.simulators.marketplace.contract import CONNECTWISE_CONTRACT, ContractValidator, validator

DATA = Path(cwsync_local.__file__).parent / "data"
SEED = json.loads((DATA / "demo_seed.json").read_text(encoding="utf-8"))
MP, CW = SEED["marketplace"], SEED["connectwise"]
ORDERS = {o["orderNumber"]: o for o in MP["orders"]}
FIRST_RUN = datetime(2026, 11, 25, tzinfo=timezone.utc) - timedelta(days=30)
CYCLES = {("month", 1): "Monthly", ("month", 3): "Quarterly", ("year", 1): "Yearly"}
LEGAL = {"llc", "inc", "ltd", "gmbh", "llp", "sarl", "corp", "co", "limited", "sa"}


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def normalise(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.casefold().replace("&", " and "))
    text = "".join(c for c in text if not unicodedata.combining(c)).replace(".", "").replace("'", "")
    words = re.sub(r"[^0-9a-z]+", " ", text).split()
    while len(words) > 1 and words[-1] in LEGAL:
        words.pop()
    return " ".join(words)


def company_of(customer: dict) -> dict | None:
    keys = {customer["id"], customer.get("externalId")}
    by_id = [c for c in CW["companies"] if c["identifier"] in keys]
    by_name = [c for c in CW["companies"] if normalise(c["name"]) == normalise(customer["name"])]
    found = by_id or by_name
    assert len(found) <= 1, f"{customer['name']} links to several companies"
    return found[0] if found else None


def customer(order: dict) -> dict:
    return next(c for c in MP["customers"] if c["id"] == order["customerId"])


def eligible_agreements(order: dict) -> list[dict]:
    company = company_of(customer(order))
    period = order["products"][0]["billingPeriod"]
    return [a for a in CW["agreements"] if a["company"]["id"] == company["id"] and a["agreementStatus"] == "Active"
            and not a["cancelledFlag"] and a["billingCycle"]["name"] == CYCLES[(period["type"], period["duration"])]
            and a["currency"]["currencyCode"] == order["total"]["currency"]]


def catalog_item(mpn: str) -> dict | None:
    return next((c for c in CW["catalog"] if mpn in (c.get("manufacturerPartNumber"), c.get("vendorSku"),
                                                      c["identifier"])), None)


def load_generator():
    spec = importlib.util.spec_from_file_location("make_demo_seed", DATA / "make_demo_seed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- format -------------------------------------------------------------------------------------
def test_the_committed_demo_seed_is_what_the_script_makes():
    assert (DATA / "demo_seed.json").read_text(encoding="utf-8") == load_generator().render()


def test_the_file_has_every_section_of_the_seed_format():
    assert set(MP) == {"customers", "products", "subscriptions", "orders"}
    assert set(CW) == {"companyTypes", "companyStatuses", "countries", "productCategories", "productSubcategories",
                       "productTypes", "companies", "catalog", "agreementTypes", "agreements", "additions", "adjustments",
                       "billingCycles", "currencies", "contacts"}


@pytest.mark.parametrize("collection, schema", [("customers", "Customer"), ("products", "Product"),
                                                ("subscriptions", "SubscriptionDetailed"),
                                                ("orders", "OrderDetailed")])
def test_marketplace_records_match_the_contract(collection, schema):
    for record in MP[collection]:
        validator().validate(schema, record, f"{collection} {record['id']}")


@pytest.mark.parametrize("collection, schema", [
    ("companies", "Company"), ("catalog", "CatalogItem"), ("agreementTypes", "AgreementType"),
    ("agreements", "Agreement"), ("additions", "Addition"), ("adjustments", "Agreement.Adjustment"),
    ("currencies", "Currency"), ("contacts", "Contact"), ("companyTypes", "CompanyType")])
def test_connectwise_records_match_the_contract(collection, schema):
    check = ContractValidator(CONNECTWISE_CONTRACT)
    for record in CW[collection]:
        check.validate(schema, record, f"{collection} {record['id']}")


def test_billing_cycles_have_the_documented_shape():
    # Not in the contract subset; the shape documented in docs/SEED.md.
    schema = {"type": "object", "additionalProperties": False,
              "required": ["id", "identifier", "name", "defaultFlag", "billingOptions"],
              "properties": {"id": {"type": "integer"}, "identifier": {"type": "string", "maxLength": 5},
                             "name": {"type": "string"}, "defaultFlag": {"type": "boolean"},
                             "billingOptions": {"enum": ["Weekly", "BiWeekly", "Monthly", "BiMonthly", "Quarterly",
                                                         "SemiAnnual", "Yearly", "NotRecurring"]}}}
    for cycle in CW["billingCycles"]:
        assert not list(Draft7Validator(schema).iter_errors(cycle)), cycle


def test_ids_are_strings_on_the_marketplace_and_unique_ints_in_connectwise():
    for name, records in MP.items():
        ids = [r["id"] for r in records]
        assert all(isinstance(i, str) for i in ids) and len(set(ids)) == len(ids), name
    for name, records in CW.items():
        ids = [r["id"] for r in records]
        assert all(type(i) is int for i in ids) and len(set(ids)) == len(ids), name


def test_references_resolve():
    customers, products = {c["id"] for c in MP["customers"]}, {p["mpn"] for p in MP["products"]}
    subscriptions = {s["id"] for s in MP["subscriptions"]}
    for order in MP["orders"]:
        assert order["customerId"] in customers and order["subscriptionId"] in subscriptions
        assert all(line["mpn"] in products for line in order["products"])
        assert all(d["mpn"] in products for d in order["details"])
    ids = {name: {r["id"] for r in CW[name]} for name in CW}
    for agreement in CW["agreements"]:
        assert agreement["company"]["id"] in ids["companies"] and agreement["contact"]["id"] in ids["contacts"]
        assert agreement["type"]["id"] in ids["agreementTypes"]
        assert agreement["billingCycle"]["id"] in ids["billingCycles"]
        assert agreement["currency"]["id"] in ids["currencies"]
    for record in CW["additions"] + CW["adjustments"]:
        assert record["agreementId"] in ids["agreements"]
    for addition in CW["additions"]:
        assert addition["product"]["id"] in ids["catalog"]


def test_order_money_adds_up_in_one_currency():
    for order in MP["orders"]:
        currency = order["total"]["currency"]
        for line in order["details"]:
            quantity = Decimal(str(line["quantity"]))
            for unit, extended in (("unitPrice", "extendedPrice"), ("salesUnitPrice", "salesExtendedPrice")):
                assert line[unit]["currency"] == line[extended]["currency"] == currency
                assert Decimal(line[unit]["amount"]) * quantity == Decimal(line[extended]["amount"]), order["id"]
        assert sum(Decimal(d["salesExtendedPrice"]["amount"]) for d in order["details"]) == \
            Decimal(order["total"]["amount"])


# -- the story the demo tells -----------------------------------------------------------------
def test_green_lane_is_there_and_links_to_its_company_by_name():
    green = next(c for c in MP["customers"] if c["name"] == "Green Lane LLC")
    assert green["id"] == "1000048531"
    assert company_of(green)["name"] == "GREEN LANE, L.L.C."


def test_there_is_variety_of_customers_currencies_and_periods():
    assert len(MP["customers"]) >= 6
    assert {o["total"]["currency"] for o in MP["orders"]} == {"USD", "EUR"}
    assert {o["products"][0]["billingPeriod"]["type"] for o in MP["orders"]} == {"month", "year"}


def test_recent_orders_fall_in_a_first_runs_window_and_history_before_it():
    recent = [o for o in MP["orders"] if when(o["creationDate"]) >= FIRST_RUN]
    assert all("2026-11-10" <= o["creationDate"][:10] <= "2026-11-24" for o in recent)
    assert len(recent) == 13


def test_every_task_type_is_there():
    kinds = {number[:2] for number, o in ORDERS.items() if when(o["creationDate"]) >= FIRST_RUN}
    assert {"SO", "CH", "BO", "CL", "RN"} <= kinds
    sales = ORDERS["SO000112"]
    assert {d["type"] for d in sales["details"]} == {"recurring", "setup"}
    assert ORDERS["CH000116"]["products"][0]["quantity"] == 12 and ORDERS["CH000118"]["products"][0]["quantity"] == 3
    billing = ORDERS["BO000110"]
    assert billing["billingModel"] == "chargeAfterBillingPeriod" and "overuse" in {d["type"] for d in billing["details"]}
    assert "cancellation" in {d["type"] for d in ORDERS["CL000119"]["details"]}
    assert ORDERS["RN000115"]["type"] == "renewal"
    assert ORDERS["SO000122"]["status"] == "processing" and ORDERS["SO000111"]["type"] == "migration"


@pytest.mark.parametrize("number, original", [("CH000116", "SO000101"), ("CH000118", "SO000102"),
                                              ("CL000119", "SO000103"), ("RN000115", "SO000100"),
                                              ("BO000110", "SO000104")])
def test_orders_on_existing_subscriptions_find_their_tagged_active_addition(number, original):
    order = ORDERS[number]
    tag = f"MP-{order['subscriptionId']}-{original}"
    [addition] = [a for a in CW["additions"] if a.get("serialNumber") == tag]
    assert len(tag) <= 50 and "cancelledDate" not in addition
    assert ORDERS[original]["subscriptionId"] == order["subscriptionId"]
    [agreement] = eligible_agreements(order)
    assert addition["agreementId"] == agreement["id"]
    assert catalog_item(order["products"][0]["mpn"])["id"] == addition["product"]["id"]


def test_renewal_matches_its_addition_so_there_is_nothing_to_change():
    renewal = ORDERS["RN000115"]
    [addition] = [a for a in CW["additions"] if a.get("serialNumber") == "MP-SUB-301-SO000100"]
    line = renewal["details"][0]
    assert addition["quantity"] == renewal["products"][0]["quantity"] == line["quantity"]
    assert Decimal(str(addition["unitPrice"])) == Decimal(line["salesUnitPrice"]["amount"])
    assert Decimal(str(addition["unitCost"])) == Decimal(line["unitPrice"]["amount"])


def test_the_straight_through_orders_need_no_approval():
    for number in ("SO000112", "CH000116", "CH000118", "CL000119", "RN000115", "BO000110"):
        order = ORDERS[number]
        assert company_of(customer(order)) is not None, number
        assert catalog_item(order["products"][0]["mpn"]) is not None, number
        assert len(eligible_agreements(order)) == 1, number


def test_every_approval_kind_is_there():
    assert company_of(customer(ORDERS["SO000114"])) is None  # no company in ConnectWise
    assert catalog_item(ORDERS["SO000113"]["products"][0]["mpn"]) is None  # no catalog item
    assert len(eligible_agreements(ORDERS["SO000117"])) == 2  # two eligible agreements
    for number, reason in (("SO000120", "billingCycle"), ("SO000121", "currency")):
        order = ORDERS[number]
        company = company_of(customer(order))
        [only] = [a for a in CW["agreements"] if a["company"]["id"] == company["id"]]
        assert only["agreementStatus"] == "Active" and eligible_agreements(order) == [], reason
    for number in ("SO000113", "SO000117", "SO000120", "SO000121"):  # one problem each
        assert company_of(customer(ORDERS[number])) is not None


def test_ownership_tags_are_unique_and_hand_made_additions_have_none():
    tags = [a["serialNumber"] for a in CW["additions"] if "serialNumber" in a]
    assert len(tags) == len(set(tags)) and all(t.startswith("MP-") and len(t) <= 50 for t in tags)
    assert any("serialNumber" not in a for a in CW["additions"])


# -- the real-shaped data set (real_seed.json) ----------------------------------------------------
REAL = json.loads((DATA / "real_seed.json").read_text(encoding="utf-8"))


def test_the_committed_real_shaped_seed_is_what_its_script_makes():
    from cwsync_local.data import make_real_seed

    assert (DATA / "real_seed.json").read_text(encoding="utf-8") == make_real_seed.render()


def without_info(value):
    """A record without the `_info` audit blocks, at any depth."""
    if isinstance(value, dict):
        return {k: without_info(v) for k, v in value.items() if k != "_info"}
    return [without_info(v) for v in value] if isinstance(value, list) else value


def test_the_real_shaped_seed_tells_the_demo_story_with_fuller_records():
    """Same marketplace; every demo ConnectWise record is there with the same values, plus more fields."""
    assert REAL["marketplace"] == MP
    for name, records in CW.items():
        real = {r["id"]: r for r in REAL["connectwise"][name]}
        for record in records:
            fuller = without_info(real[record["id"]])
            assert {k: fuller[k] for k in record} == without_info(record), (name, record["id"])
            assert len(real[record["id"]]) > len(record), (name, record["id"])


def test_the_real_shaped_seed_has_what_real_tenants_hold():
    cw = REAL["connectwise"]
    untagged = [a for a in cw["additions"] if "serialNumber" not in a]
    assert len(untagged) >= 2
    by_product = {}
    for a in untagged:
        by_product.setdefault((a["agreementId"], a["product"]["id"]), []).append(a)
    assert any(len(same) > 1 for same in by_product.values())             # one product twice on one agreement
    assert any(a["agreementStatus"] == "Expired" and a["endDate"] < "2026-11-25" for a in cw["agreements"])
    assert any(c["status"]["name"] == "Inactive" for c in cw["companies"])
    assert any(c["inactiveFlag"] for c in cw["catalog"])
    assert all(isinstance(c["currencyCode"], dict) for c in cw["currencies"])
    assert all(isinstance(a["currency"]["currencyCode"], str) for a in cw["agreements"])


# -- the vendor-full data set (vendor_full_seed.json) ---------------------------------------------
VENDOR_FULL = json.loads((DATA / "vendor_full_seed.json").read_text(encoding="utf-8"))


def test_the_committed_vendor_full_seed_is_what_its_script_makes():
    from cwsync_local.data import make_vendor_full_seed

    assert (DATA / "vendor_full_seed.json").read_text(encoding="utf-8") == make_vendor_full_seed.render()


def test_the_vendor_full_seed_tells_the_demo_story_with_every_field_of_the_newer_models():
    """Same marketplace; every real-shaped record is there, with the values cwsync reads unchanged."""
    from cwsync_local.data.make_vendor_full_seed import READ

    assert VENDOR_FULL["marketplace"] == MP
    kept = {"additions": READ["Addition"] | {"product", "effectiveDate", "cancelledDate", "serialNumber"},
            "agreements": READ["Agreement"] | {"company", "billingCycle", "currency", "endDate", "name", "type"},
            "catalog": READ["CatalogItem"] | {"identifier", "description", "manufacturerPartNumber", "vendorSku"},
            "companies": READ["Company"] | {"identifier", "name", "status", "customFields"}}
    for name, fields in kept.items():
        full = {r["id"]: r for r in VENDOR_FULL["connectwise"][name]}
        for record in REAL["connectwise"][name]:
            assert {k: without_info(full[record["id"]].get(k)) for k in fields} == \
                {k: without_info(record.get(k)) for k in fields}, (name, record["id"])
            assert len(full[record["id"]]) >= len(record), (name, record["id"])
