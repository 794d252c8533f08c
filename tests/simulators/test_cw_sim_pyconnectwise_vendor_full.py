"""pyconnectwise's own client reads the vendor-full data set (docs/SEED.md) from the simulator.

Every collection cwsync reads, through the library's own endpoints, paging and models (the client
subclass only swaps https for the simulator's http, test_cw_sim_pyconnectwise.py): as many records
as the data set holds, each typed by the library, with the values that matter to cwsync intact
while every newer field, `_info` link, custom field and `null` rides along.
"""
from __future__ import annotations

import pytest

from pyconnectwise.models import manage

from cwsync_local.simulators.common import load_seed
from cwsync_local.simulators.connectwise import start
from test_cw_sim_pyconnectwise import client

SEED = load_seed("vendor-full")["connectwise"]
PAGE = {"pageSize": 1000}


@pytest.fixture(scope="module")
def cw():
    with start(load_seed("vendor-full"), request_log=None) as sim:
        yield client(sim)


@pytest.mark.parametrize(("collection", "read", "model"), [
    ("companies", lambda cw: cw.company.companies.get(params=PAGE), manage.Company),
    ("companyTypes", lambda cw: cw.company.companies.types.get(params=PAGE), manage.CompanyType),
    ("companyStatuses", lambda cw: cw.company.companies.statuses.get(params=PAGE), manage.CompanyStatus),
    ("countries", lambda cw: cw.company.countries.get(params=PAGE), manage.Country),
    ("catalog", lambda cw: cw.procurement.catalog.get(params=PAGE), manage.CatalogItem),
    ("productCategories", lambda cw: cw.procurement.categories.get(params=PAGE), manage.Category),
    ("productTypes", lambda cw: cw.procurement.types.get(params=PAGE), manage.ProductType),
    ("agreements", lambda cw: cw.finance.agreements.get(params=PAGE), manage.Agreement),
    ("agreementTypes", lambda cw: cw.finance.agreements.types.get(params=PAGE), manage.AgreementType),
    ("billingCycles", lambda cw: cw.finance.billing_cycles.get(params=PAGE), manage.BillingCycle),
    ("currencies", lambda cw: cw.finance.currencies.get(params=PAGE), manage.FinanceCurrency),
])
def test_the_library_reads_every_record_of_each_collection_cwsync_uses(cw, collection, read, model):
    records = read(cw)
    assert all(isinstance(record, model) for record in records)
    assert sorted(record.id for record in records) == sorted(record["id"] for record in SEED[collection])


def test_the_library_reads_subcategories_one_by_one_as_it_has_no_list_endpoint(cw):
    for record in SEED["productSubcategories"]:
        read = cw.procurement.subcategories.id(record["id"]).get()
        assert isinstance(read, manage.SubCategory) and read.category.id == record["category"]["id"]


def test_additions_and_adjustments_of_every_agreement_read_with_every_billing_option(cw):
    additions, adjustments = [], []
    for agreement in SEED["agreements"]:
        additions += cw.finance.agreements.id(agreement["id"]).additions.get(params=PAGE)
        adjustments += cw.finance.agreements.id(agreement["id"]).adjustments.get(params=PAGE)
    assert sorted(a.id for a in additions) == sorted(a["id"] for a in SEED["additions"])
    assert sorted(a.id for a in adjustments) == sorted(a["id"] for a in SEED["adjustments"])
    assert {a.bill_customer for a in additions} == {"Billable", "DoNotBill", "NoCharge"}
    tagged = {a.serial_number: a for a in additions if a.serial_number}
    line = tagged["MP-SUB-101-SO000101"]
    assert (line.product.id, line.quantity, line.unit_price, line.unit_cost) == (701, 10, 6.0, 4.8)


def test_the_values_cwsync_reads_arrive_intact_beside_the_newer_fields(cw):
    agreement = cw.finance.agreements.id(3101).get()
    assert agreement.currency.currency_code == "USD" and agreement.billing_cycle.name == "Monthly"
    assert agreement.company.info["company_href"].endswith("/company/companies/19301")
    assert {record.currency_code.name for record in cw.finance.currencies.get()} == {"USD", "EUR"}
    assert {t.bill_time for t in cw.finance.agreements.types.get(params=PAGE)} == {
        "Billable", "DoNotBill", "NoCharge", "NoDefault"}
    legacy = cw.finance.agreements.get(params={**PAGE, "conditions": "company/id = 19308"})
    assert {a.application_units for a in legacy} == {"Amount", "Hours", "Incidents"}
    contact = cw.company.contacts.get(params=PAGE)[0]
    assert {field.type for field in contact.custom_fields} >= {"Currency", "Date", "Checkbox", "Number"}
