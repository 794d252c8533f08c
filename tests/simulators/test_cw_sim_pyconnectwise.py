"""A second independent ConnectWise client library (pyconnectwise) against the simulator.

pyconnectwise's `ConnectWiseManageAPIClient(company, site, clientId, publicKey, privateKey)`
finds the codebase itself with `GET /login/companyinfo/{company}` and then builds
`https://{site}/{codebase}/apis/3.0`. Both URLs are hard-wired to https, and the simulator
serves plain http on 127.0.0.1, so the test subclasses the client and overrides only its two
URL builders (`_get_url`, `_try_get_codebase_from_api`) to use the simulator's scheme;
everything else (auth header, clientId, endpoints, models, paging) is the library's own.

Its paging follows the `Link` header and reads the page number with `page=(\\d+)>; rel=`,
so it needs the service's habit of ending each link with `page=` (after `pageSize`).
A raw `requests` session at the end checks the same service with the version-pinning
`Accept` header and `pagination-type: forward-only`, as a generic client would.
"""
import base64
from datetime import datetime, timezone

import pytest
import requests

from pyconnectwise import ConnectWiseManageAPIClient
from pyconnectwise.exceptions import AuthenticationFailedException, MalformedRequestException, NotFoundException
from pyconnectwise.models.manage import Addition, Agreement, CatalogItem, Company, IvItemReference
from pyconnectwise.utils.helpers import cw_format_datetime

from cwsync_local.simulators.connectwise import CODEBASE, DEFAULT_CREDENTIALS, start
from cwsync_local.simulators.connectwise.sample import sample_seed


class SimulatorManageClient(ConnectWiseManageAPIClient):
    """pyconnectwise's client with its two https-only URL builders using the simulator's http."""

    scheme = "http"

    def _get_url(self) -> str:
        return f"{self.scheme}://{self.manage_url}/{self.codebase.strip('/')}/apis/3.0"

    def _try_get_codebase_from_api(self, manage_url: str, company_name: str, headers: dict[str, str]) -> str:
        url = f"{self.scheme}://{manage_url}/login/companyinfo/{company_name}"
        return self._make_request("GET", url, headers=headers).json().get("Codebase")


@pytest.fixture(scope="module")
def sim():
    with start(sample_seed(catalog_items=2500), request_log=None) as running:
        yield running


def client(sim, **overrides) -> SimulatorManageClient:
    c = {**DEFAULT_CREDENTIALS, **overrides}
    site = sim.url.split("://", 1)[1]  # "127.0.0.1:port", as a site name like "api-na.myconnectwise.net"
    return SimulatorManageClient(c["companyId"], site, c["clientId"], c["publicKey"], c["privateKey"])


@pytest.fixture(scope="module")
def cw(sim):
    return client(sim)


def test_codebase_is_discovered_and_wrong_credentials_are_refused(sim, cw):
    assert cw.codebase == CODEBASE
    assert cw._get_url() == f"{sim.url}/{CODEBASE}apis/3.0"
    with pytest.raises(AuthenticationFailedException):
        client(sim, clientId="00000000-0000-0000-0000-000000000000").company.companies.get()
    with pytest.raises(AuthenticationFailedException):
        client(sim, privateKey="wrong").company.companies.get()


def test_list_companies_with_conditions(cw):
    conditions = 'name like "Green*" and status/name = "Active"'
    companies = cw.company.companies.get(params={"conditions": conditions, "orderBy": "name desc"})
    assert all(isinstance(company, Company) for company in companies)
    assert [company.name for company in companies] == ['Greenfield "Quoted" (Labs)', "Green Lane LLC"]
    assert companies[1].identifier == "GreenLane" and companies[1].status.name == "Active"
    assert companies[1].custom_fields[0].value == "1000048531"
    assert companies[1].info["lastUpdated"].endswith("Z")  # every object carries `_info`
    assert cw.company.companies.count.get(params={"conditions": conditions}).count == 2
    assert cw.company.companies.id(252).get().name == "Zürich Café GmbH"


def test_page_through_a_catalog_of_2500_items(cw):
    pages = cw.procurement.catalog.paginated(1, 1000)
    assert (pages.has_next_page, pages.next_page, pages.last_page) == (True, 2, 3)
    items = list(pages.all())
    assert len(items) == 2500 == len({item.identifier for item in items})
    assert all(isinstance(item, CatalogItem) for item in items)
    assert [item.id for item in items] == list(range(1, 2501))
    # The query carries over to every page; the last page has no `next`.
    active = list(cw.procurement.catalog.paginated(1, 1000, {"conditions": "inactiveFlag = False"}).all())
    assert len(active) == 2250 and not any(item.inactive_flag for item in active)
    last = cw.procurement.catalog.paginated(3, 1000)
    assert len(last.data) == 500 and not last.has_next_page and last.prev_page == 2
    assert cw.procurement.catalog.count.get().count == 2500
    assert len(cw.procurement.catalog.get(params={"pageSize": 1000, "page": 3})) == 500


def test_read_agreements_and_their_additions(cw):
    found = cw.finance.agreements.get(params={"conditions": 'company/id = 250 and agreementStatus = "Active"'})
    assert all(isinstance(agreement, Agreement) for agreement in found)
    assert [agreement.id for agreement in found] == [12, 13]
    assert found[0].company.name == "Green Lane LLC" and found[0].company.identifier == "GreenLane"
    agreement = cw.finance.agreements.id(12).get()
    assert agreement.billing_cycle.name == "Monthly" and agreement.currency.currency_code == "USD"
    assert agreement.start_date == datetime(2025, 1, 1, tzinfo=timezone.utc)

    additions = cw.finance.agreements.id(12).additions.get()
    assert [addition.id for addition in additions] == [100, 101]
    first = additions[0]
    assert isinstance(first, Addition) and first.agreement_id == 12
    assert first.product.identifier == "SKU-00001" and first.ext_price == 60.0 and first.bill_customer == "Billable"
    assert additions[1].cancelled_date == datetime(2025, 9, 1, tzinfo=timezone.utc)
    assert [a.id for a in cw.finance.agreements.id(12).additions.paginated(1, 25).all()] == [100, 101]
    assert cw.finance.agreements.id(12).additions.count.get().count == 2
    assert cw.finance.agreements.id(12).adjustments.get()[0].amount == -12.5


def test_create_patch_and_delete_an_addition(cw):
    additions = cw.finance.agreements.id(12).additions
    addition = Addition(product=IvItemReference(id=42), quantity=10, unit_price=6.0, bill_customer="Billable",
                        serial_number="MP-SUB-9-ORD1", effective_date=datetime(2026, 2, 15, tzinfo=timezone.utc))
    created = additions.post(data=addition.model_dump(mode="json", by_alias=True, exclude_none=True))
    assert created.id and created.agreement_id == 12 and created.ext_price == 60.0
    assert (created.product.id, created.product.identifier) == (42, "SKU-00042")
    assert created.effective_date == datetime(2026, 2, 15, tzinfo=timezone.utc)

    patched = additions.id(created.id).patch(data=[{"op": "replace", "path": "quantity", "value": 12}])
    assert patched.quantity == 12 and patched.ext_price == 72.0
    cancelled = datetime(2026, 3, 1, tzinfo=timezone.utc)
    patched = additions.id(created.id).patch(data=[
        {"op": "replace", "path": "cancelledDate", "value": cw_format_datetime(cancelled)},
        {"op": "replace", "path": "description", "value": "Cancelled by the marketplace"}])
    assert patched.cancelled_date == cancelled and patched.description == "Cancelled by the marketplace"
    assert additions.id(created.id).get().cancelled_date == cancelled

    additions.id(created.id).delete()
    with pytest.raises(NotFoundException):
        additions.id(created.id).get()


def test_invalid_addition_is_refused_with_the_service_error(cw):
    with pytest.raises(MalformedRequestException) as caught:
        cw.finance.agreements.id(12).additions.post(data={"product": {"id": 999999}, "billCustomer": "Billable"})
    body = caught.value.response.json()
    assert body["code"] == "InvalidObject" and body["errors"][0]["field"] == "product"


# --- a generic client: raw requests, version-pinned Accept, forward-only paging ---------------

def test_raw_session_with_version_accept_and_forward_only_paging(sim):
    c = DEFAULT_CREDENTIALS
    session = requests.Session()
    token = base64.b64encode(f"{c['companyId']}+{c['publicKey']}:{c['privateKey']}".encode()).decode()
    session.headers.update({"Authorization": f"Basic {token}", "clientId": c["clientId"],
                            "Accept": "application/vnd.connectwise.com+json; version=2025.1"})
    info = session.get(f"{sim.url}/login/companyinfo/{c['companyId']}").json()
    api = f"{sim.url}/{info['Codebase']}apis/3.0"

    ids, pages, url, params = [], 0, f"{api}/procurement/catalog", {"pageSize": 1000}
    while url:
        response = session.get(url, params=params, headers={"pagination-type": "forward-only"})
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
        ids += [item["id"] for item in response.json()]
        pages += 1
        url, params = response.links.get("next", {}).get("url"), None
        if url:
            assert set(response.links) == {"next"} and url.endswith(f"pageId={ids[-1]}")
    assert pages == 3 and ids == list(range(1, 2501))

    numbered = session.get(f"{api}/procurement/catalog", params={"page": 1, "pageSize": 1000, "conditions": "id > 0"})
    assert numbered.links["next"]["url"].endswith("pageSize=1000&page=2")
    assert numbered.links["last"]["url"].endswith("pageSize=1000&page=3")
    assert "conditions=id+%3E+0" in numbered.links["next"]["url"]


def test_raw_session_searches_the_info_audit_fields(sim):
    """`lastUpdated`/`updatedBy` live in `_info`; the service searches them by those names."""
    c = DEFAULT_CREDENTIALS
    session = requests.Session()
    token = base64.b64encode(f"{c['companyId']}+{c['publicKey']}:{c['privateKey']}".encode()).decode()
    session.headers.update({"Authorization": f"Basic {token}", "clientId": c["clientId"],
                            "Accept": "application/vnd.connectwise.com+json; version=2025.1"})
    additions = f"{sim.url}/{CODEBASE}apis/3.0/finance/agreements/13/additions"
    created = session.post(additions, json={"product": {"id": 7}, "quantity": 1, "billCustomer": "Billable"}).json()

    def ids(**params):
        response = session.get(additions, params=params)
        assert response.status_code == 200, response.text
        return [record["id"] for record in response.json()]

    assert ids(conditions='updatedBy = "ApiMember"') == [created["id"]]
    assert ids(conditions="lastUpdated > [2099-01-01T00:00:00Z]") == []
    assert ids(conditions="_info/lastUpdated <= [2099-01-01T00:00:00Z]") == [created["id"]]
    assert ids(orderBy="lastUpdated desc") == [created["id"]]
    assert session.get(additions, params={"conditions": "lastTouched > [2020-01-01T00:00:00Z]"}).status_code == 400
    session.delete(f"{additions}/{created['id']}")
