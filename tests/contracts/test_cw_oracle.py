"""The ConnectWise simulator against an independent oracle: the vendor's generated models.

Every collection the simulator serves, on every seed the suite uses (the demo data, the
real-shaped data set and a generated one), is read over HTTP, list and by id, and each record
must validate against its `pyconnectwise.models.manage` model with no key, at any depth, that
the model does not have (tests/cw_oracle.py). Records the simulator writes are checked too.
The last tests give the simulator back the bug this oracle exists for (an agreement's
`currency` copied from the currency record) and show that the oracle catches it.
"""
from __future__ import annotations

import json

import pytest

from cw_oracle import MODELS, NEWER_FIELDS, problems
from cwsync_local.simulators.common import load_seed
from cwsync_local.simulators.connectwise import records, start
from cwsync_local.simulators.connectwise.resources import BY_COLLECTION, Reference
from cwsync_local.simulators.connectwise.sample import sample_seed
from cwsync_local.simulators.connectwise.testing import ContractCheckingSession

SEEDS = {"demo": lambda: load_seed("demo"), "real-shaped": lambda: load_seed("real"),
         "generated": lambda: sample_seed(40)}
TOP_LEVEL = {"companies": "company/companies", "companyTypes": "company/companies/types",
             "companyStatuses": "company/companies/statuses", "countries": "company/countries",
             "productCategories": "procurement/categories", "productSubcategories": "procurement/subcategories",
             "productTypes": "procurement/types",
             "contacts": "company/contacts", "catalog": "procurement/catalog", "agreements": "finance/agreements",
             "agreementTypes": "finance/agreements/types", "billingCycles": "finance/billingCycles",
             "currencies": "finance/currencies"}
CHILDREN = {"additions": "additions", "adjustments": "adjustments"}


def served(session: ContractCheckingSession) -> dict[str, list[dict]]:
    """Every record of every collection, as the simulator answers lists and single records."""
    found: dict[str, list[dict]] = {name: [] for name in MODELS}

    def read(name: str, path: str) -> None:
        listed = session.get(session.url(path), params={"pageSize": 1000})
        assert listed.status_code == 200, (path, listed.text)
        for record in listed.json():
            found[name].append(record)
            single = session.get(session.url(f"{path}/{record['id']}"))
            assert single.status_code == 200, (path, record["id"], single.text)
            found[name].append(single.json())

    for name, path in TOP_LEVEL.items():
        read(name, path)
    for agreement in {record["id"]: record for record in found["agreements"]}.values():
        for name, child in CHILDREN.items():
            read(name, f"finance/agreements/{agreement['id']}/{child}")
    return found


def all_problems(found: dict[str, list[dict]]) -> list[str]:
    return [f"{name} {record.get('id')}: {problem}"
            for name, records_ in found.items() for record in records_ for problem in problems(name, record)]


@pytest.mark.parametrize("seed", list(SEEDS))
def test_every_record_of_every_collection_is_one_the_real_service_could_return(seed):
    with start(SEEDS[seed]()) as sim, ContractCheckingSession(sim.url) as session:
        found = served(session)
    assert all(found[name] for name in MODELS), {name: len(found[name]) for name in MODELS}
    assert all_problems(found) == []


@pytest.mark.parametrize("seed", list(SEEDS))
def test_records_the_simulator_writes_are_ones_the_real_service_could_return(seed):
    with start(SEEDS[seed]()) as sim, ContractCheckingSession(sim.url) as session:
        agreement = session.get(session.url("finance/agreements"), params={"pageSize": 1}).json()[0]
        product = session.get(session.url("procurement/catalog"), params={"pageSize": 1}).json()[0]
        base = f"finance/agreements/{agreement['id']}"
        written = {
            "additions": [session.post(session.url(f"{base}/additions"), json={
                "product": {"id": product["id"]}, "quantity": 2, "billCustomer": "Billable",
                "effectiveDate": "2026-11-12T00:00:00Z", "serialNumber": "MP-SUB-9-SO9"}).json()],
            "adjustments": [session.post(session.url(f"{base}/adjustments"), json={
                "amount": 75.0, "description": "Setup fee", "effectiveDate": "2026-11-12T00:00:00Z"}).json()],
            "companies": [session.post(session.url("company/companies"), json=new_company(session)).json()],
            "catalog": [session.post(session.url("procurement/catalog"), json=new_catalog_item(session)).json()],
            "agreements": [session.post(session.url("finance/agreements"), json={
                "name": "New agreement", "type": {"id": agreement["type"]["id"]},
                "company": {"id": agreement["company"]["id"]}, "contact": {"id": agreement["contact"]["id"]},
                "currency": {"id": agreement["currency"]["id"]}}).json()],
        }
    assert all_problems(written) == []
    assert isinstance(written["agreements"][0]["currency"]["currencyCode"], str)


def _references(session: ContractCheckingSession, paths: dict[str, str]):
    from cwsync.adapters.connectwise import REFERENCE_EXTRA_FIELDS
    from cwsync.domain.new_records import References, choices

    return References({name: choices(session.get(session.url(path)).json(),
                                     parent="category" if "category" in REFERENCE_EXTRA_FIELDS.get(name, ()) else None)
                       for name, path in paths.items()})


def new_company(session: ContractCheckingSession) -> dict:
    """The body cwsync sends for a company the approver creates (from a marketplace customer)."""
    from cwsync.adapters import mp_records
    from cwsync.adapters.connectwise import COMPANY_REFERENCE_PATHS
    from cwsync.domain.new_records import company_body, propose_company

    references = _references(session, COMPANY_REFERENCE_PATHS)
    customer = {"id": "1000049999", "name": "Zürich Café & Söhne \"Nord\" GmbH — Niederlassung Ost",
                "address": {"streetAddress": "Bahnhofstrasse 1", "postalCode": "8001", "city": "Zürich",
                            "countryCode": "US"},
                "contactPersons": [{"phoneNumber": "+41 44 555 01 01"}]}
    body, problems = company_body(propose_company(mp_records.customer(customer), references), references)
    assert problems == [] and body["types"] and body["status"]
    return body


def new_catalog_item(session: ContractCheckingSession) -> dict:
    """The body cwsync's plan sends for a product the approver adds (as JSON, as the adapter sends it)."""
    from decimal import Decimal

    from cwsync.adapters.connectwise import CATALOG_REFERENCE_PATHS
    from cwsync.adapters.connectwise_wire import prepare_body
    from cwsync.adapters.http import dumps
    from cwsync.domain.matching import CatalogSettings, propose_catalog_item
    from cwsync.adapters import mp_orders
    from cwsync.domain.new_records import catalog_item_body, propose_catalog_form

    references = _references(session, CATALOG_REFERENCE_PATHS)
    sub, kind = references.default("subcategory"), references.default("type")
    usd = lambda amount: {"amount": amount, "currency": "USD"}  # noqa: E731
    order = mp_orders.order({
        "id": "1", "orderNumber": "SO1", "type": "sales", "customerId": "1", "status": "completed",
        "creationDate": "2026-11-14T15:45:00Z", "total": usd("7.00"), "subscriptionId": "SUB-1",
        "products": [{"mpn": "NEW-PRODUCT-P1M", "name": "A new product", "quantity": 1, "subscriptionId": "SUB-1",
                      "billingPeriod": {"type": "month", "duration": 1}, "type": "CREATE"}],
        "details": [{"type": "recurring", "mpn": "NEW-PRODUCT-P1M", "quantity": 1, "unitPrice": usd("5.00"),
                     "salesUnitPrice": usd("7.00")}]})
    proposal = propose_catalog_item(order.lines[0], order.charges,
                                    CatalogSettings(subcategory_id=sub.id, type_id=kind.id))
    body, problems = catalog_item_body({**propose_catalog_form(proposal, references), "price": "8.25"}, proposal,
                                       references, currency="USD")
    assert problems == [] and body["price"] == Decimal("8.25")
    return json.loads(dumps(prepare_body(body)))


def test_the_allow_list_names_only_fields_the_generated_models_lack_and_says_where_each_is_documented():
    for (model_name, field), note in NEWER_FIELDS.items():
        model = next(model for model in MODELS.values() if model.__name__ == model_name)
        assert field not in {info.alias or name for name, info in model.model_fields.items()}, field
        assert note.startswith("ai-connor/connectwise") and note.endswith(".go"), note


@pytest.mark.parametrize(("collection", "record", "expected"), [
    ("currencies", {"id": 1, "currencyIdentifier": "USD", "name": "US Dollar", "currencyCode": "USD"},
     "currencyCode"),
    ("agreements", {"id": 1, "name": "A", "type": {"id": 1}, "company": {"id": 1}, "contact": {"id": 1},
                    "currency": {"id": 1, "currencyCode": {"id": 1, "name": "USD"}}}, "currency/currencyCode"),
    ("agreementTypes", {"id": 1, "name": "Cloud"}, "billTime"),
    ("additions", {"id": 1, "product": {"id": 1, "identifier": "X", "colour": "red"}, "billCustomer": "Billable"},
     "product/colour"),
    ("additions", {"id": 1, "product": {"id": 1}, "billCustomer": "Sometimes"}, "billCustomer"),
])
def test_the_oracle_refuses_shapes_the_real_service_never_returns(collection, record, expected):
    assert any(problem.startswith(expected) for problem in problems(collection, record)), problems(collection, record)


def _copying_reference_of(target: dict, reference: Reference) -> dict:
    """The simulator's old reference builder: fields copied from the referenced record as they are."""
    result = {"id": target["id"]}
    for key in reference.copy:
        if target.get(key) is not None:
            result[key] = target[key]
    return result


def test_the_oracle_catches_the_simulator_copying_a_currency_record_into_an_agreement(monkeypatch):
    currency = BY_COLLECTION["agreements"].references["currency"]
    monkeypatch.setitem(BY_COLLECTION["agreements"].references, "currency",
                        Reference("currencies", ("symbol", "currencyCode", "currencyIdentifier", "name"),
                                  currency.label, currency.schema))
    monkeypatch.setattr(records, "reference_of", _copying_reference_of)
    with start(load_seed("demo")) as sim, ContractCheckingSession(sim.url) as session:
        session.hooks["response"] = []  # the project's own contract check is not the oracle under test
        agreement = session.get(session.url("finance/agreements/3101")).json()
    assert agreement["currency"]["currencyCode"] == {"id": 1, "name": "USD"}  # the bug is back
    assert any(p.startswith("currency/currencyCode") for p in problems("agreements", agreement))


def test_the_simulator_refuses_to_build_a_reference_in_the_shape_of_a_different_record(monkeypatch):
    currency = BY_COLLECTION["agreements"].references["currency"]
    monkeypatch.setitem(BY_COLLECTION["agreements"].references, "currency",
                        Reference("currencies", ("symbol", "currencyCode", "currencyIdentifier", "name"),
                                  currency.label, currency.schema))
    with pytest.raises(ValueError, match="currency reference built from record 1 is not a CurrencyReference"):
        start(load_seed("demo"))
