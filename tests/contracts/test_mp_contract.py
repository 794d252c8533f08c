"""Every answer the marketplace simulator gives matches the SimpleAPI 1.15 contract.

The integration tests check each answer they see through the session hook; these tests
sweep every record of the demo data and of generated orders, every error kind, and prove
the checker itself refuses what the contract does not allow.
"""
from __future__ import annotations

import pytest
import requests

from cwsync_local.simulators import marketplace
from cwsync_local.simulators.common import Faults
from cwsync_local.simulators.marketplace import generate
from cwsync_local.simulators.marketplace.app import ROUTES
from cwsync_local.simulators.marketplace.contract import response_hook, validator
from cwsync_local.simulators.marketplace.testing import session, token


@pytest.fixture(scope="module")
def sim():
    with marketplace.start() as running:
        yield running


@pytest.fixture(scope="module")
def seen():
    return []


@pytest.fixture(scope="module")
def http(sim, seen):
    return session(sim, seen=seen)


@pytest.mark.parametrize("collection, path", [("customers", "/customers/{}"), ("orders", "/orders/{}"),
                                              ("subscriptions", "/subscriptions/{}")])
def test_every_demo_record_read_by_id_matches_the_contract(sim, http, seen, collection, path):
    for record in sim.data.records(collection):
        assert http.get(sim.url + path.format(record["id"])).status_code == 200
    assert len([s for s in seen if s[2] == 200]) >= len(sim.data.records(collection))


@pytest.mark.parametrize("path", ["/customers", "/orders", "/subscriptions", "/products"])
def test_every_list_matches_the_contract_in_full(sim, http, path):
    body = http.get(f"{sim.url}{path}", params={"limit": 500}).json()
    assert body["pagination"]["total"] == len(body["data"]) > 0


def test_generated_benchmark_orders_match_the_detailed_and_list_shapes():
    check = validator()
    orders = generate.orders(300, random_seed=7)
    for order in orders:
        check.validate("OrderDetailed", order, f"generated order {order['id']}")
    for customer in generate.customers(5):
        check.validate("Customer", customer)
    with marketplace.start({"marketplace": {"orders": orders}}) as sim:
        body = session(sim).get(f"{sim.url}/orders", params={"limit": 500}).json()  # checked by the hook
        assert body["pagination"]["total"] == 300


def test_every_route_of_the_simulator_has_a_response_schema_in_the_contract():
    check = validator()
    for rule in ROUTES.iter_rules():
        concrete = rule.rule.replace("<record_id>", "x1")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert check.response_schema(method, concrete), f"{method} {rule.rule} is not in the contract"


def test_error_answers_carry_the_error_body_and_a_correlation_id(sim):
    plain = requests.Session()
    plain.hooks["response"].append(response_hook())
    assert token(sim, plain, password="wrong").status_code == 401
    assert plain.get(f"{sim.url}/orders").status_code == 401
    authed = session(sim)
    assert authed.get(f"{sim.url}/orders/unknown").status_code == 404
    assert authed.get(f"{sim.url}/orders", params={"limit": 1000}).status_code == 400
    assert authed.put(f"{sim.url}/orders/5000112", json={}).status_code == 405
    with marketplace.start(faults=Faults(fail_rate=1.0)) as failing:
        assert token(failing, plain).status_code == 500
    with marketplace.start(faults=Faults(throttle=1)) as throttled:
        token(throttled, plain)
        assert token(throttled, plain).status_code == 429


@pytest.mark.parametrize("change, complaint", [
    ({"subscriptonId": "SUB-1"}, "subscriptonId"),  # a misspelt field is not silently accepted
    ({"status": "done"}, "done"),
    ({"total": {"amount": 6.0, "currency": "USD"}}, "6.0"),  # money amounts are strings
    ({"creationDate": "2026-11-25 09:00"}, "date-time"),
    ({"startDate": "2026-11-25"}, "startDate"),  # writeOnly: never in an answer
])
def test_the_checker_refuses_what_the_contract_does_not_allow(sim, change, complaint):
    order = {**sim.data.find("orders", "5000112"), **change}
    problems = validator().errors("OrderDetailed", order)
    assert any(complaint in problem for problem in problems), problems


def test_a_customer_missing_a_required_field_of_the_merged_schema_is_refused(sim):
    customer = dict(sim.data.find("customers", "1000048531"))
    del customer["language"]  # required through allOf
    assert any("language" in p for p in validator().errors("Customer", customer))
