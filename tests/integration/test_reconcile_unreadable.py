"""A reconciliation over real HTTP (simulators, demo data; the real Store on moto DynamoDB) where
ConnectWise answers one agreement, and the marketplace one subscription, in a shape cwsync cannot
read: each is reported with the system, the record, the field and the fix; the subscriptions
that agreement may bill are not compared (comparing without it could bill them twice); every
other subscription is compared exactly as before."""
from __future__ import annotations

import copy
import logging
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest

from cwsync.adapters import cw_records
from cwsync.adapters.connectwise import ConnectWiseClient
from cwsync.adapters.http import RetryPolicy
from cwsync.adapters.marketplace import MarketplaceClient
from cwsync.adapters.store import Store
from cwsync.config import Settings
from cwsync.services.deps import Dependencies
from cwsync.services.reconcile import reconcile
from cwsync.services.reconcile_read import Reader
from cwsync_local.simulators import connectwise as cw_simulator
from cwsync_local.simulators import marketplace as mp_simulator

logging.getLogger("werkzeug").setLevel(logging.ERROR)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
TABLE = "cwsync-test"  # the shared `dynamodb` fixture's table


class Notifications:
    def __init__(self):
        self.sent = []

    def publish(self, subject, message, links=None):
        self.sent.append(subject)
        return {"messageId": str(len(self.sent))}


class Answering:
    """The real client, whose answers for one record are replaced as a real service might send them."""

    def __init__(self, client, **changed):
        self._client, self._changed = client, changed

    def __getattr__(self, name):
        return getattr(self._client, name)

    def agreements(self, *args, **kwargs):
        found = self._client.agreements(*args, **kwargs)
        change = self._changed.get("agreement")
        return [change(copy.deepcopy(a)) if change and str(a.get("id")) == self._changed["agreement_id"] else a
                for a in found]

    def additions(self, agreement_id, *args, **kwargs):
        found = self._client.additions(agreement_id, *args, **kwargs)
        change = self._changed.get("addition")
        if change and str(agreement_id) == self._changed["agreement_id"] and found:
            # the adapter reads what ConnectWise answered: here its first addition, in a shape it cannot read
            return [cw_records.addition(change(found[0].to_fields())), *found[1:]]
        return found

    def subscription(self, subscription_id):
        found = self._client.subscription(subscription_id)
        change = self._changed.get("subscription")
        return change(copy.deepcopy(found)) if change and subscription_id == self._changed["subscription_id"] \
            else found


@contextmanager
def simulated(dynamodb, seed: str = "demo"):
    """A maker of Dependencies over the simulators serving `seed`; `*_answers(client)` may wrap either client."""
    with cw_simulator.start(seed=seed) as connectwise, mp_simulator.start(seed=seed) as marketplace:
        settings = Settings.from_environment({"TABLE_NAME": TABLE, "APPROVAL_POLICY": "never"})
        cw = ConnectWiseClient.from_secret({"siteUrl": connectwise.url, **cw_simulator.DEFAULT_CREDENTIALS},
                                           retry=RetryPolicy.fast())
        mp = MarketplaceClient.from_secret({"baseUrl": marketplace.url, **mp_simulator.DEFAULT_CREDENTIALS},
                                           retry=RetryPolicy.fast())

        def make(connectwise_answers=lambda c: c, marketplace_answers=lambda c: c):
            return Dependencies(settings, store=Store(TABLE, client=dynamodb), connectwise=connectwise_answers(cw),
                                marketplace=marketplace_answers(mp), notifier=Notifications(), clock=lambda: NOW)
        yield make


@pytest.fixture
def make_deps(dynamodb):
    with simulated(dynamodb) as make:
        yield make


def by_subscription(result: dict) -> dict[str, list]:
    found: dict[str, list] = {}
    for difference in result["differences"]:
        found.setdefault(difference["subscriptionId"], []).append(difference)
    return found


def test_an_unreadable_agreement_and_subscription_are_named_and_every_other_subscription_is_compared(make_deps):
    deps = make_deps()
    picture = Reader(deps, today=NOW.date()).read()
    compared = sorted((s for c in picture.customers.values() if c.company_id for s in c.subscriptions),
                      key=lambda s: s.id)
    # One customer's agreement comes back broken; a subscription of another customer too.
    customer = next(c for c in sorted(picture.customers.values(), key=lambda c: c.customer_id)
                    if picture.company_agreements(c.company_id) and c.subscriptions)
    agreement_id = sorted(picture.company_agreements(customer.company_id))[0]
    held = {s.id for s in customer.subscriptions}
    broken_sub = next(s.id for s in compared if s.id not in held and s.billed and s.lines)
    before = reconcile(deps, repair=False)
    assert not before["problems"] or all(p["subscriptionId"] not in held | {broken_sub} for p in before["problems"])

    broken = make_deps(
        lambda client: Answering(client, agreement_id=agreement_id,
                                 agreement=lambda a: {**a, "currency": {"id": 7, "currencyCode": 840}}),
        lambda client: Answering(client, subscription_id=broken_sub,
                                 subscription=lambda s: {**s, "products": [{**s["products"][0], "quantity": "many"}]}))
    after = reconcile(broken, repair=False)

    problems = {p["subscriptionId"]: p["problem"] for p in after["problems"]}
    assert problems[broken_sub] == (f'The marketplace subscription {broken_sub}: products[0]/quantity is "many", '
                                    "not a number; correct the subscription in the marketplace and run the "
                                    "reconciliation again")
    for sub in held:
        assert problems[sub] == (f"ConnectWise agreement {agreement_id}: currency/currencyCode is 840, "
                                 "not a currency code; correct it in ConnectWise and run the reconciliation again")
    left_out = held | {broken_sub}
    assert after["totals"]["subscriptionsChecked"] == before["totals"]["subscriptionsChecked"] - len(left_out)
    assert by_subscription(after) == {s: d for s, d in by_subscription(before).items() if s not in left_out}
    assert after["totals"]["subscriptionsChecked"] > 0


def test_an_unreadable_addition_stops_only_its_companys_comparison(make_deps):
    deps = make_deps()
    picture = Reader(deps, today=NOW.date()).read()
    agreement_id = next(a for a in sorted(picture.additions) if picture.additions[a])
    addition_id = picture.additions[agreement_id][0].id
    company = str(picture.agreements[agreement_id].company_id)
    held = {s.id for c in picture.customers.values() if c.company_id == company for s in c.subscriptions}
    before = reconcile(deps, repair=False)

    broken = make_deps(lambda client: Answering(client, agreement_id=agreement_id,
                                                addition=lambda a: {**a, "quantity": "eight"}))
    after = reconcile(broken, repair=False)

    problems = {p["subscriptionId"]: p["problem"] for p in after["problems"]}
    assert held and {s: problems.get(s) for s in held} == {s: (
        f'ConnectWise addition {addition_id}: quantity is "eight", not a number; correct it in '
        "ConnectWise and run the reconciliation again") for s in held}
    assert after["totals"]["subscriptionsChecked"] == before["totals"]["subscriptionsChecked"] - len(held)
    assert by_subscription(after) == {s: d for s, d in by_subscription(before).items() if s not in held}


@pytest.mark.parametrize("data_set", ["demo", "real"])
def test_every_subscription_and_agreement_of_the_shipped_data_sets_is_read_typed(dynamodb, data_set):
    with simulated(dynamodb, data_set) as make:
        deps = make()
        picture = Reader(deps, today=NOW.date()).read()
        result = reconcile(deps, repair=False)
        listed = list(deps.marketplace.subscriptions())
    assert picture.agreements and picture.customers and picture.unreadable == {}
    unreadable = [p for p in result["problems"] if p["problem"].startswith(("The marketplace subscription", "ConnectWise"))]
    assert unreadable == []
    assert 0 < result["totals"]["subscriptionsChecked"] <= len(listed)
