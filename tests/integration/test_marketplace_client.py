"""The marketplace client over real HTTP against the marketplace simulator."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from cwsync.adapters.http import RetryPolicy
from cwsync.errors import NotFound
from cwsync.adapters.marketplace import MarketplaceClient
from cwsync.errors import ConfigurationError, TransientError
from cwsync_local.simulators import marketplace as simulator
from cwsync_local.simulators.common import Faults

CREDENTIALS = simulator.DEFAULT_CREDENTIALS
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
ORDER_COUNT = 1234

logging.getLogger("werkzeug").setLevel(logging.ERROR)


class Clock:
    """One clock for the simulator's token expiry and the client's refresh decision."""

    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def seed() -> dict:
    orders = [{
        "id": str(5000 + number), "orderNumber": f"SO{number:06d}", "type": "sales", "customerId": "1000048531",
        "creationDate": (START + timedelta(minutes=number)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": "completed" if number % 4 else "processing",
        "total": {"currency": "USD", "amount": "12.34"},
    } for number in range(ORDER_COUNT)]
    return {"marketplace": {
        "customers": [{"id": "1000048531", "name": "Green Lane LLC", "status": "active"}],
        "products": [{"id": f"P{number}", "mpn": f"MPN-{number}", "name": f"Product {number}"} for number in range(3)],
        "subscriptions": [{"id": "SUB-1", "customerId": "1000048531", "status": "active"}],
        "orders": orders,
    }}


def client_for(sim, *, clock=None, retry=None, **overrides) -> MarketplaceClient:
    secret = {"baseUrl": sim.url, **CREDENTIALS, **overrides}
    options = {"clock": clock} if clock else {}
    return MarketplaceClient.from_secret(secret, retry=retry or RetryPolicy.fast(), **options)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sim(tmp_path, clock):
    with simulator.start(seed(), request_log=tmp_path / "requests.jsonl", token_ttl=100, clock=clock) as running:
        yield running


def calls(sim, path: str) -> list[dict]:
    return [entry for entry in sim.requests() if entry["path"] == path]


def test_paging_reads_every_order_newest_first_in_pages_of_500(sim):
    client = client_for(sim)
    orders = list(client.orders())
    assert len(orders) == ORDER_COUNT == len({order["id"] for order in orders})
    created = [order["creationDate"] for order in orders]
    assert created == sorted(created, reverse=True)
    pages = calls(sim, "/orders")
    assert [entry["query"]["offset"] for entry in pages] == ["0", "500", "1000"]
    assert all(entry["query"]["limit"] == "500" for entry in pages)


def test_orders_are_filtered_by_creation_time_and_status(sim):
    client = client_for(sim)
    since = START + timedelta(minutes=1000)
    orders = list(client.orders(created_from=since, created_to=since + timedelta(minutes=100), status="completed"))
    assert orders and all(order["status"] == "completed" for order in orders)
    assert all("2026-01-01T16:40:00Z" <= order["creationDate"] < "2026-01-01T18:20:00Z" for order in orders)
    (entry,) = calls(sim, "/orders")
    assert entry["query"]["creationTimeFrom"] == "2026-01-01T16:40:00Z"


def test_an_order_that_arrives_while_paging_does_not_repeat_one_already_seen(sim):
    client = client_for(sim)
    pages = client.orders(page_size=500)
    first = [next(pages) for _ in range(500)]
    sim.add_orders([{"id": "9999", "orderNumber": "SO999999", "type": "sales", "customerId": "1000048531",
                     "creationDate": "2026-03-01T00:00:00Z", "status": "completed"}])
    rest = list(pages)
    ids = [order["id"] for order in first + rest]
    assert len(ids) == len(set(ids)) == ORDER_COUNT


def test_single_records_are_read_by_id(sim):
    client = client_for(sim)
    assert client.order("5001")["orderNumber"] == "SO000001"
    assert client.customer("1000048531").name == "Green Lane LLC"
    assert client.subscription("SUB-1")["status"] == "active"
    with pytest.raises(NotFound):
        client.order("no-such-order")


def test_one_token_serves_many_calls_while_it_is_fresh(sim):
    client = client_for(sim)
    for _ in range(5):
        client.customer("1000048531")
    assert client.tokens_issued == 1 and len(calls(sim, "/token")) == 1


def test_the_token_is_renewed_shortly_before_it_expires(sim, clock):
    client = client_for(sim, clock=clock)
    client.customer("1000048531")
    clock.advance(85)  # ttl 100 s: renewed from 80 s on, before the marketplace would refuse it
    client.customer("1000048531")
    assert client.tokens_issued == 2
    assert not [entry for entry in sim.requests() if entry["status"] == 401]


def test_a_token_refused_with_401_is_renewed_once_and_the_call_repeated(sim):
    client = client_for(sim)
    client.customer("1000048531")
    sim.tokens._expiry.clear()  # the marketplace forgets every token (a restart, a revocation)
    assert client.customer("1000048531").name == "Green Lane LLC"
    assert client.tokens_issued == 2
    assert [entry["status"] for entry in calls(sim, "/customers/1000048531")] == [200, 401, 200]


def test_a_token_that_expired_on_the_marketplace_clock_is_renewed_on_401(sim, clock):
    client = client_for(sim, refresh_margin=0)  # the client's own clock never sees it expire
    client.customer("1000048531")
    clock.advance(101)
    assert client.customer("1000048531").id == "1000048531"
    assert client.tokens_issued == 2


def test_wrong_credentials_are_a_configuration_error_without_the_secret(sim):
    client = client_for(sim, password="not-the-password-42")
    with pytest.raises(ConfigurationError, match="HTTP 401") as caught:
        client.customer("1000048531")
    assert "not-the-password-42" not in str(caught.value)


def test_a_wrong_subscription_key_is_a_configuration_error(sim):
    with pytest.raises(ConfigurationError):
        client_for(sim, subscriptionKey="wrong-key").customer("1000048531")


def test_every_call_carries_the_subscription_key_and_its_correlation_id_is_logged(sim, http_log_records):
    records = http_log_records
    client_for(sim).customer("1000048531")  # the simulator refuses any call without the key
    assert len(records) == 2  # token + customer
    assert all(getattr(record, "correlation_id", None) for record in records)
    text = " ".join(record.getMessage() for record in records)
    for secret in (CREDENTIALS["password"], CREDENTIALS["subscriptionKey"]):
        assert secret not in text


def test_throttling_is_retried_after_the_wait_the_marketplace_asks_for(tmp_path):
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=2, backoff_factor=0.001, retry_after_max=120, sleep=sleeps.append)
    with simulator.start(seed(), faults=Faults(throttle=2), request_log=tmp_path / "log.jsonl") as sim:
        client = client_for(sim, retry=policy)
        client.customer("1000048531")  # token + call: the budget of the minute
        with pytest.raises(TransientError, match="HTTP 429"):
            client.customer("1000048531")
        statuses = [entry["status"] for entry in calls(sim, "/customers/1000048531")]
    assert statuses == [200, 429, 429, 429]
    assert len(sleeps) == 2 and all(50 <= wait <= 61 for wait in sleeps)


def test_intermittent_server_errors_on_reads_are_ridden_out_by_retrying(tmp_path):
    with simulator.start(seed(), faults=Faults(fail_rate=0.5, random_seed=7),
                         request_log=tmp_path / "log.jsonl") as sim:
        client = client_for(sim, retry=RetryPolicy.fast(8))
        assert len(list(client.orders())) == ORDER_COUNT
