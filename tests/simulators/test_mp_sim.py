"""The marketplace simulator over real HTTP: token flow, endpoints, correlation ids, faults.

Every answer in these tests is checked against the contract by the session's hook
(cwsync_local.simulators.marketplace.testing.session).
"""
from __future__ import annotations

import json

import pytest
import requests

from cwsync_local.simulators import marketplace
from cwsync_local.simulators.common import Faults
from cwsync_local.simulators.marketplace.contract import response_hook
from cwsync_local.simulators.marketplace.testing import session, token

GREEN_LANE = "1000048531"


@pytest.fixture(scope="module")
def sim():
    with marketplace.start() as running:
        yield running


@pytest.fixture(scope="module")
def http(sim):
    return session(sim)


def checked() -> requests.Session:
    """A session without credentials whose answers (errors included) are contract-checked."""
    plain = requests.Session()
    plain.hooks["response"].append(response_hook())
    return plain


class FakeClock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


# -- token flow -------------------------------------------------------------------------------
def test_a_token_is_issued_for_the_right_credentials_and_lasts_1500_seconds(sim):
    answer = token(sim, checked())
    assert answer.status_code == 200
    assert answer.json()["expiresInSeconds"] == 1500
    assert len(answer.json()["token"]) >= 32


@pytest.mark.parametrize("override", [{"password": "wrong"}, {"username": "someone-else"},
                                      {"subscriptionKey": "wrong-key"}, {"marketplace": "eu"}])
def test_wrong_credentials_get_401_with_a_reason(sim, override):
    answer = token(sim, checked(), **override)
    assert answer.status_code == 401
    assert answer.json()["code"] == "Unauthorized" and answer.json()["message"]


def test_a_token_request_without_a_marketplace_code_is_a_400(sim):
    creds = sim.credentials
    answer = checked().post(f"{sim.url}/token", auth=(creds["username"], creds["password"]),
                            headers={"X-Subscription-Key": creds["subscriptionKey"]}, json={})
    assert answer.status_code == 400
    assert "marketplace" in answer.json()["message"]


def test_calls_need_both_the_bearer_token_and_the_subscription_key(sim, http):
    bearer = http.headers["Authorization"]
    key = sim.credentials["subscriptionKey"]
    plain = checked()
    assert plain.get(f"{sim.url}/orders", headers={"X-Subscription-Key": key}).status_code == 401
    assert plain.get(f"{sim.url}/orders", headers={"Authorization": bearer}).status_code == 401
    wrong = plain.get(f"{sim.url}/orders", headers={"Authorization": "Bearer not-a-token", "X-Subscription-Key": key})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert plain.get(f"{sim.url}/orders", headers={"Authorization": bearer, "X-Subscription-Key": key}).ok


def test_an_expired_token_gets_401_and_a_new_token_works():
    clock = FakeClock()
    with marketplace.start(token_ttl=60, clock=clock) as short:
        http = session(short)
        assert http.get(f"{short.url}/customers").status_code == 200
        clock.now += 59
        assert http.get(f"{short.url}/customers").status_code == 200
        clock.now += 1
        expired = http.get(f"{short.url}/customers")
        assert expired.status_code == 401
        assert "expired" in expired.json()["message"]
        assert session(short).get(f"{short.url}/customers").status_code == 200


def test_custom_credentials_replace_the_defaults():
    with marketplace.start(credentials={"password": "s3cret", "marketplace": "eu"}) as custom:
        assert custom.credentials["marketplace"] == "eu"
        assert token(custom, checked()).status_code == 200
        assert token(custom, checked(), password=marketplace.DEFAULT_CREDENTIALS["password"]).status_code == 401


# -- X-Correlation-ID ---------------------------------------------------------------------------
def test_the_callers_correlation_id_is_echoed(sim, http):
    answer = http.get(f"{sim.url}/orders/5000116", headers={"X-Correlation-ID": "trace-abc-123"})
    assert answer.headers["X-Correlation-ID"] == "trace-abc-123"


def test_a_correlation_id_is_made_for_every_answer_including_errors(sim, http):
    answers = [http.get(f"{sim.url}/orders"), http.get(f"{sim.url}/orders"), http.get(f"{sim.url}/orders/none"),
               checked().get(f"{sim.url}/orders"), token(sim, checked(), password="x")]
    ids = [a.headers["X-Correlation-ID"] for a in answers]
    assert all(ids) and len(set(ids)) == len(ids)


# -- customers, subscriptions, products, one order -------------------------------------------------
def test_customers_list_pages_with_totals(sim, http):
    first = http.get(f"{sim.url}/customers", params={"limit": 3}).json()
    rest = http.get(f"{sim.url}/customers", params={"limit": 3, "offset": 3}).json()
    everyone = http.get(f"{sim.url}/customers", params={"limit": 500}).json()
    assert first["pagination"] == {"offset": 0, "limit": 3, "total": 8}
    assert len(first["data"]) == 3 and rest["pagination"]["offset"] == 3
    assert [c["id"] for c in first["data"] + rest["data"]] == [c["id"] for c in everyone["data"][:6]]


def test_customers_filter_by_name_external_id_and_email(sim, http):
    def ids(**params):
        return [c["id"] for c in http.get(f"{sim.url}/customers", params=params).json()["data"]]

    assert ids(name="green lane") == [GREEN_LANE]
    assert ids(externalId="GL-0042") == [GREEN_LANE]
    assert ids(email="DANA@green.example") == [GREEN_LANE]
    assert ids(name="no such customer") == []


def test_a_customer_is_read_by_id_and_an_unknown_id_is_404(sim, http):
    customer = http.get(f"{sim.url}/customers/{GREEN_LANE}").json()
    assert customer["name"] == "Green Lane LLC"
    missing = http.get(f"{sim.url}/customers/999")
    assert missing.status_code == 404 and "999" in missing.json()["message"]


def test_subscriptions_filter_by_customer_status_and_creation_date(sim, http):
    def ids(**params):
        return {s["id"] for s in http.get(f"{sim.url}/subscriptions", params={"limit": 500, **params}).json()["data"]}

    assert ids(customerId=GREEN_LANE) == {"SUB-101", "SUB-102", "SUB-104", "SUB-105"}
    assert ids(status="terminated") == {"SUB-201"}
    assert ids(creationDateFrom="2026-11-21", creationDateTo="2026-11-24") == {"SUB-601", "SUB-701"}
    bad = http.get(f"{sim.url}/subscriptions", params={"status": "gone"})
    assert bad.status_code == 400 and "status" in bad.json()["message"]


def test_subscription_detail_has_products_but_the_list_does_not(sim, http):
    detail = http.get(f"{sim.url}/subscriptions/SUB-101").json()
    listed = http.get(f"{sim.url}/subscriptions", params={"customerId": GREEN_LANE, "limit": 50}).json()["data"]
    assert detail["products"][0]["mpn"] == "M365-BUSBASIC-P1M" and detail["products"][0]["quantity"] == 12
    assert all("products" not in s for s in listed)
    assert http.get(f"{sim.url}/subscriptions/SUB-999").status_code == 404


def test_products_list_and_filter_by_mpn(sim, http):
    listed = http.get(f"{sim.url}/products", params={"limit": 50}).json()
    assert listed["pagination"]["total"] == 7
    found = http.get(f"{sim.url}/products", params={"mpn": "m365-e3-p1m"}).json()["data"]
    assert [p["name"] for p in found] == ["Microsoft 365 E3"]


def test_an_order_detail_has_products_subscription_and_billing_model(sim, http):
    order = http.get(f"{sim.url}/orders/5000112").json()
    assert order["orderNumber"] == "SO000112"
    assert order["subscriptionId"] == "SUB-104" and order["billingModel"] == "chargeBeforeBillingPeriod"
    assert order["products"][0]["billingPeriod"] == {"type": "month", "duration": 1}
    assert {d["type"] for d in order["details"]} == {"recurring", "setup"}


def test_unknown_paths_and_methods_answer_with_the_error_body(sim, http):
    assert http.get(f"{sim.url}/resellers").status_code == 404
    refused = http.delete(f"{sim.url}/orders/5000112")
    assert refused.status_code == 405 and "GET" in refused.headers["Allow"]


# -- fault knobs ------------------------------------------------------------------------------------
def test_fail_rate_one_answers_500_with_a_correlation_id_and_logs_it(tmp_path):
    log = tmp_path / "requests.jsonl"
    with marketplace.start(faults=Faults(fail_rate=1.0), request_log=log) as failing:
        answer = checked().get(f"{failing.url}/orders", headers={"X-Correlation-ID": "c-1"})
        assert answer.status_code == 500
        assert answer.headers["X-Correlation-ID"] == "c-1"
        assert failing.requests()[-1]["status"] == 500


def test_throttle_answers_429_with_retry_after_once_over_the_budget():
    with marketplace.start(faults=Faults(throttle=2)) as throttled:
        statuses = [token(throttled, checked()).status_code for _ in range(3)]
        assert statuses[:2] == [200, 200] and statuses[2] == 429
        last = token(throttled, checked())
        assert int(last.headers["Retry-After"]) >= 1


def test_the_request_log_has_one_line_per_request(sim, tmp_path):
    log = tmp_path / "log.jsonl"
    with marketplace.start(request_log=log) as logged:
        http = session(logged)
        http.get(f"{logged.url}/orders", params={"status": "completed"})
        entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [("POST", "/token", 200), ("GET", "/orders", 200)]
    assert entries[1]["query"] == {"status": "completed"}
