"""The ConnectWise client over real HTTP against the ConnectWise simulator."""
from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from cwsync.adapters.conditions import field
from cwsync.adapters.connectwise import ConnectWiseClient, discover_base_url
from cwsync.adapters.http import RetryPolicy
from cwsync.errors import NotFound
from cwsync.errors import ConfigurationError, ExternalApiError, TransientError
from cwsync_local.simulators import connectwise as simulator
from cwsync_local.simulators.common import Faults
from cwsync_local.simulators.connectwise.sample import sample_seed

CREDENTIALS = simulator.DEFAULT_CREDENTIALS
TRICKY_NAMES = ['O"Brien & Sons (EU)', "Back\\slash Ltd\\", "Zürich Café GmbH"]

logging.getLogger("werkzeug").setLevel(logging.ERROR)


def seed(catalog_items: int = 40) -> dict:
    data = sample_seed(catalog_items)
    companies = data["connectwise"]["companies"]
    for offset, name in enumerate(TRICKY_NAMES[:2]):
        companies.append({"id": 300 + offset, "identifier": f"Tricky{offset}", "name": name,
                          "status": {"id": 1, "name": "Active"}, "types": [{"id": 1}], "deletedFlag": False})
    return data


def client_for(sim, *, retry: RetryPolicy | None = None, **credentials) -> ConnectWiseClient:
    keys = {**CREDENTIALS, **credentials}
    return ConnectWiseClient.discover(sim.url, keys["companyId"], keys["publicKey"], keys["privateKey"],
                                      keys["clientId"], retry=retry or RetryPolicy.fast())


def api_requests(sim, method: str | None = None) -> list[dict]:
    return [entry for entry in sim.requests()
            if "/apis/3.0" in entry["path"] and (method is None or entry["method"] == method)]


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    log = tmp_path_factory.mktemp("cw") / "requests.jsonl"
    with simulator.start(seed(2500), request_log=log) as sim:
        yield sim


@pytest.fixture
def sim(tmp_path):
    with simulator.start(seed(), request_log=tmp_path / "requests.jsonl") as running:
        yield running


@pytest.fixture
def cw(sim):
    client = client_for(sim)
    yield client
    client.close()


def test_discovery_reads_the_codebase_from_company_info(sim):
    assert discover_base_url(sim.url, CREDENTIALS["companyId"]) == f"{sim.url}/{simulator.CODEBASE}apis/3.0"


def test_discovery_of_an_unknown_company_tells_the_operator_what_to_check(sim):
    with pytest.raises(ConfigurationError, match="companyId"):
        discover_base_url(sim.url, "nosuchcompany")


def test_wrong_keys_are_a_configuration_error_that_never_repeats_the_keys(sim):
    client = client_for(sim, privateKey="wrong-private-key-123")
    with pytest.raises(ConfigurationError, match="HTTP 401") as caught:
        client.companies()
    assert "wrong-private-key-123" not in str(caught.value)
    assert CREDENTIALS["publicKey"] not in str(caught.value)


def test_a_wrong_client_id_is_refused_as_configuration(sim):
    with pytest.raises(ConfigurationError, match="clientId"):
        client_for(sim, clientId="00000000-0000-0000-0000-000000000000").companies()


def test_2500_catalog_items_arrive_in_three_pages_following_the_link_header(big):
    before = len(api_requests(big))
    client = client_for(big)
    items = client.catalog_items(fields=["id", "identifier"])
    assert len(items) == 2500
    assert len({item.id for item in items}) == 2500
    pages = api_requests(big)[before:]
    assert pages[0]["query"]["fields"] == "id,identifier"  # only the fields asked for come back
    assert items[0].identifier and items[0].description == "" and items[0].price is None
    assert len(pages) == 3 and all(entry["path"].endswith("/procurement/catalog") for entry in pages)
    assert all(entry["query"]["pageSize"] == "1000" for entry in pages)


def test_forward_only_paging_reads_every_item_once_by_id(big):
    client = client_for(big)
    before = len(api_requests(big))
    ids = [item["id"] for item in client.list("/procurement/catalog", fields=["id"], forward_only=True)]
    assert ids == sorted(ids) and len(ids) == 2500 == len(set(ids))
    pages = api_requests(big)[before:]
    assert len(pages) == 3 and "pageId" in pages[1]["query"]


def test_a_list_never_costs_a_count_call(big):
    client = client_for(big)
    before = len(api_requests(big))
    client.catalog_items(field("inactiveFlag").eq(True), fields=["id"])
    assert not any(entry["path"].endswith("/count") for entry in api_requests(big)[before:])


@pytest.mark.parametrize("name", TRICKY_NAMES)
def test_companies_with_quotes_backslashes_and_unicode_are_found_by_exact_name(sim, cw, name):
    found = cw.companies(field("name").eq(name), fields=["id", "name"])
    assert [company.name for company in found] == [name]


def test_conditions_combine_nested_fields_in_lists_and_booleans(cw):
    agreements = cw.agreements(250, field("billingCycle/name").eq("Monthly") & field("cancelledFlag").ne(True),
                               fields=["id", "name"])
    assert [agreement["id"] for agreement in agreements] == [12]
    items = cw.catalog_items(field("identifier").in_(["SKU-00001", "SKU-00002", 'NO"SUCH']), fields=["id"])
    assert sorted(item.id for item in items) == [1, 2]


def test_a_lookup_by_tag_is_one_request_with_conditions_fields_and_page_size(sim, cw):
    before = len(api_requests(sim))
    found = cw.find_additions(12, "MP-SUB-1-ORD1")
    assert [addition.id for addition in found] == [100]
    (entry,) = api_requests(sim)[before:]
    assert entry["query"]["conditions"] == 'serialNumber="MP-SUB-1-ORD1"'
    assert "fields" in entry["query"] and "pageSize" in entry["query"]
    before = len(api_requests(sim))
    assert cw.find_catalog_item("SKU-00003").id == 3
    (entry,) = api_requests(sim)[before:]
    assert entry["query"]["pageSize"] == "1"


def test_additions_are_created_cancelled_and_updated_with_exact_money(cw):
    created = cw.create_addition(12, {
        "product": {"id": 1}, "billCustomer": "Billable", "quantity": "12", "unitPrice": "6.10",
        "unitCost": Decimal("4.80"), "effectiveDate": "2026-02-15T00:00:00Z", "serialNumber": "MP-SUB-9-SO1"})
    assert created.unit_price == Decimal("6.10") and created.quantity == 12
    cancelled = cw.cancel_addition(12, created.id, "2026-03-01T00:00:00Z")
    assert cancelled["cancelledDate"] == "2026-03-01T00:00:00Z"
    updated = cw.update_addition(12, created.id, {"quantity": "13", "unitPrice": "0.000001"})
    assert updated["quantity"] == 13 and updated["unitPrice"] == Decimal("0.000001")
    (found,) = cw.find_additions(12, "MP-SUB-9-SO1")
    assert found.to_fields()["cancelledDate"] == "2026-03-01T00:00:00Z" and found.quantity == 13
    assert found.cancelled_date == datetime(2026, 3, 1, tzinfo=timezone.utc)


def test_adjustments_are_created_and_found_by_their_tagged_description(cw):
    description = 'MP-SUB-9-SO1 setup fee: "Pro" plan \\ EU × 1'
    created = cw.create_adjustment(12, {"amount": "-12.35", "description": description,
                                        "effectiveDate": "2026-02-15T00:00:00Z"})
    assert created.amount == Decimal("-12.35") and created.description == description
    assert [item.id for item in cw.find_adjustments(12, description)] == [created.id]
    assert cw.find_adjustments(12, description + " (other)") == []


def test_a_catalog_item_is_created_and_found_by_identifier(cw):
    created = cw.create_catalog_item({"identifier": "MS-365-BB", "description": "Microsoft 365 Business Basic",
                                      "customerDescription": "Microsoft 365 Business Basic (monthly)",
                                      "subcategory": {"id": 1}, "type": {"id": 1}, "price": "6.00",
                                      "cost": "4.80"})
    assert cw.find_catalog_item("MS-365-BB").id == created.id
    assert (created.identifier, created.price, created.cost) == ("MS-365-BB", Decimal("6.00"), Decimal("4.80"))


def test_a_400_names_the_fields_connectwise_complained_about(cw):
    with pytest.raises(ExternalApiError) as caught:
        cw.create_addition(12, {"quantity": 1, "serialNumber": "x" * 60})
    message = str(caught.value)
    assert caught.value.status == 400
    for name in ("billCustomer", "product", "serialNumber"):
        assert name in message
    assert {detail["field"] for detail in caught.value.details} >= {"billCustomer", "product", "serialNumber"}


def test_an_invalid_condition_is_reported_not_retried(sim, cw):
    before = len(api_requests(sim))
    with pytest.raises(ExternalApiError, match="conditions"):
        cw.companies(conditions='name = "unterminated')
    assert len(api_requests(sim)) - before == 1


def test_a_missing_object_is_not_found(cw):
    with pytest.raises(NotFound, match="99999"):
        cw.addition(12, 99999)


def test_server_errors_on_reads_are_retried_then_transient(tmp_path):
    with simulator.start(seed(), faults=Faults(fail_rate=1.0), request_log=tmp_path / "log.jsonl") as sim:
        base = f"{sim.url}/{simulator.CODEBASE}apis/3.0"
        client = ConnectWiseClient(base, CREDENTIALS["companyId"], CREDENTIALS["publicKey"],
                                   CREDENTIALS["privateKey"], CREDENTIALS["clientId"], retry=RetryPolicy.fast(3))
        with pytest.raises(TransientError, match="HTTP 500"):
            client.companies()
        assert len(api_requests(sim, "GET")) == 4


def test_a_create_that_fails_with_500_is_sent_exactly_once(tmp_path):
    with simulator.start(seed(), faults=Faults(fail_rate=1.0), request_log=tmp_path / "log.jsonl") as sim:
        base = f"{sim.url}/{simulator.CODEBASE}apis/3.0"
        client = ConnectWiseClient(base, CREDENTIALS["companyId"], CREDENTIALS["publicKey"],
                                   CREDENTIALS["privateKey"], CREDENTIALS["clientId"], retry=RetryPolicy.fast(3))
        with pytest.raises(TransientError):
            client.create_addition(12, {"product": {"id": 1}, "billCustomer": "Billable", "serialNumber": "T"})
        assert len(api_requests(sim, "POST")) == 1


def test_throttling_waits_as_long_as_connectwise_asks_then_reports_a_transient_error(tmp_path):
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=2, backoff_factor=0.001, retry_after_max=120, sleep=sleeps.append)
    with simulator.start(seed(), faults=Faults(throttle=3), request_log=tmp_path / "log.jsonl") as sim:
        client = client_for(sim, retry=policy)  # discovery is the first request of the minute
        client.companies()
        client.catalog_items()
        with pytest.raises(TransientError, match="HTTP 429") as caught:
            client.company_agreements(1)
    assert caught.value.retry_after is not None
    assert len(sleeps) == 2 and all(50 <= wait <= 61 for wait in sleeps)  # the simulator's Retry-After


def _scripted_server(status: int, body: dict):
    def app(environ, start_response):
        return Response(json.dumps(body), status=status, content_type="application/json")(environ, start_response)

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def test_a_403_says_the_security_role_lacks_a_permission():
    httpd = _scripted_server(403, {"code": "Forbidden", "message": "You do not have access."})
    try:
        client = ConnectWiseClient(f"http://127.0.0.1:{httpd.server_port}/v2025_1/apis/3.0", "demo", "pub", "priv",
                                   "client", retry=RetryPolicy.fast())
        with pytest.raises(ConfigurationError, match="security role") as caught:
            client.create_adjustment(12, {"amount": "1", "description": "x"})
        assert "finance/agreements/additions" not in str(caught.value)
        assert "POST finance/agreements/adjustments" in str(caught.value)
        assert "priv" not in str(caught.value)
    finally:
        httpd.shutdown()
        httpd.server_close()
