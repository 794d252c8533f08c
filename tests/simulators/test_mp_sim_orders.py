"""Listing orders over real HTTP: filters, time windows, newest first, paging, speed."""
from __future__ import annotations


import pytest

from cwsync_local.simulators import marketplace
from cwsync_local.simulators.marketplace import generate
from cwsync_local.simulators.marketplace.testing import session


def an_order(order_id: str, created: str, **fields) -> dict:
    return {"id": order_id, "orderNumber": f"SO{order_id[-6:]}", "type": "sales", "customerId": "1000048531",
            "creationDate": created, "status": "completed",
            "total": {"amount": "6.00", "currency": "USD"}, "subscriptionId": f"SUB-{order_id}",
            "products": [{"mpn": "M365-BUSBASIC-P1M", "quantity": 1, "subscriptionId": f"SUB-{order_id}",
                          "billingPeriod": {"type": "month", "duration": 1}, "type": "CREATE"}],
            "details": [], **fields}


@pytest.fixture(scope="module")
def sim():
    seed = {"marketplace": {"customers": [], "products": [], "subscriptions": [], "orders": [
        an_order("900001", "2026-11-10T00:00:00Z"),
        an_order("900002", "2026-11-12T08:00:00Z", status="processing", statusCode="provisioning"),
        an_order("900003", "2026-11-12T08:00:00Z", customerId="1000048532"),
        an_order("900004", "2026-11-12T08:00:00Z"),
        an_order("900005", "2026-11-20T10:00:00+02:00"),  # 08:00Z
        an_order("900006", "2026-11-24T23:59:59Z", type="change", orderNumber="CH900006"),
    ]}}
    with marketplace.start(seed) as running:
        yield running


@pytest.fixture(scope="module")
def http(sim):
    return session(sim)


def listed(sim, http, **params) -> tuple[list[str], dict]:
    answer = http.get(f"{sim.url}/orders", params=params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return [o["id"] for o in body["data"]], body["pagination"]


def test_orders_are_newest_first_and_ties_put_the_higher_id_first(sim, http):
    ids, pagination = listed(sim, http)
    assert ids == ["900006", "900005", "900004", "900003", "900002", "900001"]
    assert pagination == {"offset": 0, "limit": 10, "total": 6}


def test_creation_time_from_is_inclusive_and_to_is_exclusive(sim, http):
    ids, _ = listed(sim, http, creationTimeFrom="2026-11-12T08:00:00Z", creationTimeTo="2026-11-20T08:00:00Z")
    assert ids == ["900004", "900003", "900002"]
    ids, _ = listed(sim, http, creationTimeFrom="2026-11-20T08:00:00Z")
    assert ids == ["900006", "900005"]


def test_time_filters_accept_offsets_and_plain_dates(sim, http):
    ids, _ = listed(sim, http, creationTimeFrom="2026-11-20T10:00:00+02:00", creationTimeTo="2026-11-21")
    assert ids == ["900005"]


@pytest.mark.parametrize("params, words", [
    ({"creationTimeFrom": "yesterday"}, "creationTimeFrom"),
    ({"creationTimeFrom": "2026-11-20T00:00:00Z", "creationTimeTo": "2026-11-10T00:00:00Z"}, "before"),
    ({"status": "done"}, "status"),
    ({"limit": "501"}, "500"),
    ({"limit": "0"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"limit": "ten"}, "whole number"),
])
def test_bad_filter_values_are_a_400_saying_which(sim, http, params, words):
    answer = http.get(f"{sim.url}/orders", params=params)
    assert answer.status_code == 400
    assert words in answer.json()["message"]


@pytest.mark.parametrize("params, expected", [
    ({"customerId": "1000048532"}, ["900003"]),
    ({"status": "processing"}, ["900002"]),
    ({"statusCode": "provisioning"}, ["900002"]),
    ({"orderNumber": "CH900006"}, ["900006"]),
    ({"subscriptionId": "SUB-900004"}, ["900004"]),
    ({"status": "completed", "customerId": "1000048531", "creationTimeTo": "2026-11-13T00:00:00Z"},
     ["900004", "900001"]),
])
def test_filters_select_orders_and_combine(sim, http, params, expected):
    ids, pagination = listed(sim, http, **params)
    assert ids == expected and pagination["total"] == len(expected)


def test_paging_walks_every_order_once_with_a_stable_total(sim, http):
    seen = []
    for offset in range(0, 8, 4):
        ids, pagination = listed(sim, http, offset=offset, limit=4)
        assert pagination == {"offset": offset, "limit": 4, "total": 6}
        seen += ids
    assert seen == listed(sim, http)[0]
    assert listed(sim, http, offset=50) == ([], {"offset": 50, "limit": 10, "total": 6})


def test_the_order_list_leaves_out_detail_only_fields(sim, http):
    order = http.get(f"{sim.url}/orders", params={"limit": 1}).json()["data"][0]
    assert {"products", "subscriptionId", "billingModel"}.isdisjoint(order)
    assert "products" in http.get(f"{sim.url}/orders/{order['id']}").json()


def test_orders_added_at_run_time_are_listed_and_can_change_status():
    with marketplace.start({"marketplace": {}}) as sim:
        http = session(sim)
        sim.add_orders([an_order("910001", "2026-11-25T09:00:00Z", status="processing")])
        assert listed(sim, http, status="processing")[0] == ["910001"]
        sim.update_order("910001", {"status": "completed", "provisioningDate": "2026-11-25T09:05:00Z"})
        assert listed(sim, http, status="completed")[0] == ["910001"]
        assert http.get(f"{sim.url}/orders/910001").json()["provisioningDate"] == "2026-11-25T09:05:00Z"


def test_ten_thousand_orders_page_500_at_a_time_with_each_order_exactly_once():
    customers = generate.customers(200)
    with marketplace.start({"marketplace": {"customers": customers}}) as sim:
        sim.add_orders(generate.orders(10_000, customers=[c["id"] for c in customers]))
        http = session(sim, check_contract=False)  # checking 10,000 orders is the contract tests' job
        ids, total = [], None
        for offset in range(0, 10_000, 500):
            body = http.get(f"{sim.url}/orders", params={"offset": offset, "limit": 500,
                                                         "creationTimeFrom": "2026-10-01T00:00:00Z"}).json()
            total = body["pagination"]["total"]
            ids += [o["id"] for o in body["data"]]
    assert total == 10_000 and len(set(ids)) == 10_000
