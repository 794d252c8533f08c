"""Every record the ConnectWise simulator serves, and what it answers to cwsync's writes, for the oracles.

`served(session)` reads every collection, list and by id (additions and adjustments under every
agreement); `written(seed)` makes the writes cwsync makes and returns the answers. Both oracle
tests (tests/contracts/test_cw_oracle.py, test_cw_go_oracle.py) check the same records.
"""
from __future__ import annotations

import json

from cwsync_local.simulators.common import load_seed
from cwsync_local.simulators.connectwise import records, start
from cwsync_local.simulators.connectwise.resources import BY_COLLECTION, Reference
from cwsync_local.simulators.connectwise.sample import sample_seed
from cwsync_local.simulators.connectwise.testing import ContractCheckingSession

SEEDS = {"demo": lambda: load_seed("demo"), "real-shaped": lambda: load_seed("real"),
         "generated": lambda: sample_seed(40), "vendor-full": lambda: load_seed("vendor-full")}
TOP_LEVEL = {"companies": "company/companies", "companyTypes": "company/companies/types",
             "companyStatuses": "company/companies/statuses", "countries": "company/countries",
             "productCategories": "procurement/categories", "productSubcategories": "procurement/subcategories",
             "productTypes": "procurement/types",
             "contacts": "company/contacts", "catalog": "procurement/catalog", "agreements": "finance/agreements",
             "agreementTypes": "finance/agreements/types", "billingCycles": "finance/billingCycles",
             "currencies": "finance/currencies"}
CHILDREN = {"additions": "additions", "adjustments": "adjustments"}


def all_problems(found: dict[str, list[dict]], problems) -> list[str]:
    """Every problem an oracle's `problems(collection, record)` finds in the records, named by record."""
    return [f"{name} {record.get('id')}: {problem}"
            for name, records_ in found.items() for record in records_ for problem in problems(name, record)]


def served(session: ContractCheckingSession) -> dict[str, list[dict]]:
    """Every record of every collection, as the simulator answers lists and single records."""
    found: dict[str, list[dict]] = {name: [] for name in [*TOP_LEVEL, *CHILDREN]}

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


def written(seed: dict) -> dict[str, list[dict]]:
    """What the simulator answers to the writes cwsync makes (an addition, an adjustment, a company,
    a catalog item, an agreement), on a simulator started from `seed`."""
    with start(seed) as sim, ContractCheckingSession(sim.url) as session:
        agreement = session.get(session.url("finance/agreements"), params={"pageSize": 1}).json()[0]
        product = session.get(session.url("procurement/catalog"), params={"pageSize": 1}).json()[0]
        base = f"finance/agreements/{agreement['id']}"
        return {
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


def _copying_reference_of(target: dict, reference: Reference) -> dict:
    """The simulator's old reference builder: fields copied from the referenced record as they are."""
    result = {"id": target["id"]}
    for key in reference.copy:
        if target.get(key) is not None:
            result[key] = target[key]
    return result


def copy_currency_records_into_references(monkeypatch, *, keep_check: bool = False) -> None:
    """Give the simulator back the copying bug: an agreement's `currency` built by copying the currency
    record's fields, `currencyCode` `{id, name}` included (`keep_check`: the reference check stays on)."""
    currency = BY_COLLECTION["agreements"].references["currency"]
    monkeypatch.setitem(BY_COLLECTION["agreements"].references, "currency",
                        Reference("currencies", ("symbol", "currencyCode", "currencyIdentifier", "name"),
                                  currency.label, currency.schema))
    if not keep_check:
        monkeypatch.setattr(records, "reference_of", _copying_reference_of)


def agreement_with_the_copying_bug(monkeypatch) -> dict:
    """Agreement 3101 of the demo data as the simulator serves it with the copying bug back."""
    copy_currency_records_into_references(monkeypatch)
    with start(load_seed("demo")) as sim, ContractCheckingSession(sim.url) as session:
        session.hooks["response"] = []  # the project's own contract check is not the oracle under test
        agreement = session.get(session.url("finance/agreements/3101")).json()
    assert agreement["currency"]["currencyCode"] == {"id": 1, "name": "USD"}  # the bug is back
    return agreement
