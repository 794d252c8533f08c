"""An independent, widely used ConnectWise client library (connectpyse) against the simulator.

connectpyse takes the API URL and the auth headers per controller (`url=`, `auth=`), so no
config file is needed. Two of its habits the simulator meets the way the service does, not
by special-casing: every URL ends in a slash (`.../company/companies/`), and it sends its
parameter names in its own case (`childconditions`) plus two stray parameters
(`recordId`, `recordType`) carrying an object's repr, which the service ignores.
"""
import base64

import pytest

from connectpyse.company.companies_api import CompaniesAPI
from connectpyse.finance.agreement_addition import AgreementAddition
from connectpyse.finance.agreement_additions_api import AgreementAdditionsAPI
from connectpyse.finance.agreements_api import AgreementsAPI
from connectpyse.procurement.catalog_item_api import CatalogItemAPI
from connectpyse.restapi import ApiError

from cwsync_local.simulators.connectwise import CODEBASE, DEFAULT_CREDENTIALS, start
from cwsync_local.simulators.connectwise.sample import sample_seed


@pytest.fixture(scope="module")
def sim():
    with start(sample_seed(catalog_items=2500), request_log=None) as running:
        yield running


@pytest.fixture(scope="module")
def connection(sim):
    """The keyword arguments every connectpyse controller takes: API URL and auth headers."""
    c = DEFAULT_CREDENTIALS
    token = base64.b64encode(f"{c['companyId']}+{c['publicKey']}:{c['privateKey']}".encode()).decode()
    return {"url": f"{sim.url}/{CODEBASE}apis/3.0",
            "auth": {"Authorization": f"Basic {token}", "clientId": c["clientId"]}}


def test_wrong_credentials_are_refused(connection):
    api = CompaniesAPI(url=connection["url"], auth={**connection["auth"], "clientId": "wrong"})
    with pytest.raises(ApiError, match="401"):
        list(api.get_companies())


def test_list_companies_with_conditions(connection):
    api = CompaniesAPI(**connection)
    api.conditions = 'name like "Green*" and status/name = "Active"'
    api.orderBy = "name desc"
    companies = list(api.get_companies())
    assert [company.name for company in companies] == ['Greenfield "Quoted" (Labs)', "Green Lane LLC"]
    assert companies[1].identifier == "GreenLane"
    assert api.get_companies_count() == 2
    assert CompaniesAPI(**connection).get_company_by_id(252).name == "Zürich Café GmbH"


def test_page_through_a_catalog_of_2500_items(connection):
    api = CatalogItemAPI(**connection)
    api.pageSize = 1000
    identifiers, page = [], 1
    while True:
        api.page = page
        items = list(api.get_catalog_items())
        identifiers += [item.identifier for item in items]
        if len(items) < api.pageSize:
            break
        page += 1
    assert page == 3 and len(identifiers) == 2500 == len(set(identifiers))
    assert CatalogItemAPI(**connection).get_catalog_items_count() == 2500


def test_read_agreements_and_their_additions(connection):
    agreements = AgreementsAPI(**connection)
    agreements.conditions = 'company/id = 250 and agreementStatus = "Active"'
    found = list(agreements.get_agreements())
    assert [agreement.id for agreement in found] == [12, 13]
    assert found[0].company["name"] == "Green Lane LLC"
    additions = list(AgreementAdditionsAPI(parent=12, **connection).get_agreement_additions())
    assert additions[0].product["identifier"] == "SKU-00001" and additions[0].extPrice == 60.0


def test_create_patch_and_delete_an_addition(connection):
    api = AgreementAdditionsAPI(parent=12, **connection)
    addition = AgreementAddition()
    addition.product = {"id": 42}
    addition.quantity = 10
    addition.unitPrice = 6.0
    addition.billCustomer = "Billable"
    addition.serialNumber = "MP-SUB-9-ORD1"
    addition.effectiveDate = "2026-02-15T00:00:00Z"
    created = api.create_agreement_addition(addition)
    assert created.id and created.agreementId == 12 and created.extPrice == 60.0
    assert created.product == {"id": 42, "identifier": "SKU-00042"}

    patched = AgreementAdditionsAPI(parent=12, **connection).update_agreement_addition(created.id, "quantity", 12)
    assert patched.quantity == 12 and patched.extPrice == 72.0
    patched = AgreementAdditionsAPI(parent=12, **connection).update_agreement_addition_multiple_keys(
        created.id, {"cancelledDate": "2026-03-01T00:00:00Z", "description": "Cancelled by the marketplace"})
    assert patched.cancelledDate == "2026-03-01T00:00:00Z"

    AgreementAdditionsAPI(parent=12, **connection).delete_agreement_addition_by_id(created.id)
    with pytest.raises(ApiError, match="404"):
        AgreementAdditionsAPI(parent=12, **connection).get_agreement_addition_by_id(created.id)


def test_invalid_addition_is_refused_with_the_service_error(connection):
    addition = AgreementAddition()
    addition.product = {"id": 999999}
    addition.billCustomer = "Billable"
    with pytest.raises(ApiError, match="InvalidObject"):
        AgreementAdditionsAPI(parent=12, **connection).create_agreement_addition(addition)
