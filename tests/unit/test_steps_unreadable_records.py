"""A ConnectWise or marketplace record the steps cannot read fails the step with a reason naming the
system, the record and the field, and what to fix (the task's reason; never Python's text)."""
from __future__ import annotations

import pytest

from cwsync.errors import InvalidRecord
from cwsync.services import steps
from fakes import FakeConnectWise, FakeMarketplace, FakeStore
from tests.unit.test_steps import ITEM, NOW, add_task, make_deps, sales_order


@pytest.fixture
def store():
    return FakeStore(clock=lambda: NOW)


def test_an_unreadable_company_fails_the_customer_step_naming_the_company_and_field(store):
    broken = {"id": 21, "identifier": "GLANE", "name": "Green Lane", "customFields": [{"id": 4, "value": {"x": 1}}]}
    deps = make_deps(store, connectwise=FakeConnectWise(companies=[broken]))
    with pytest.raises(InvalidRecord) as refused:
        steps.link_customer(deps, add_task(deps, sales_order()))
    assert str(refused.value) == ('ConnectWise company 21: customFields[0]/value is {"x": 1}, not a single value; '
                                  "correct the company in ConnectWise and sync the task again")


def test_an_unreadable_marketplace_customer_fails_the_customer_step_naming_the_customer_and_field(store):
    deps = make_deps(store, connectwise=FakeConnectWise(),
                     marketplace=FakeMarketplace(customers=[{"id": "1000048531", "name": ["Green", "Lane"]}]))
    with pytest.raises(InvalidRecord) as refused:
        steps.link_customer(deps, add_task(deps, sales_order()))
    assert str(refused.value) == ('The marketplace customer 1000048531: name is ["Green", "Lane"], not text; '
                                  "correct the customer in the marketplace and sync the task again")


def test_an_unreadable_catalog_item_fails_the_product_step_naming_the_item_and_field(store):
    deps = make_deps(store, connectwise=FakeConnectWise(catalog=[{**ITEM, "price": "six"}]))
    with pytest.raises(InvalidRecord) as refused:
        steps.link_product(deps, add_task(deps, sales_order()))
    assert str(refused.value).startswith('ConnectWise catalog item 7: price is "six", not a number; ')
