"""The ConnectWise simulator refuses a seed record the real service could not return, naming the
collection, the record id and the field (docs/SEED.md, "Checked on load")."""
from __future__ import annotations

import copy

import pytest

from cwsync_local.simulators.connectwise import start
from cwsync_local.simulators.connectwise.sample import sample_seed


def seed_with(collection: str, record_id: int, change) -> dict:
    seed = copy.deepcopy(sample_seed(5))
    record = next(r for r in seed["connectwise"][collection] if r["id"] == record_id)
    change(record)
    return seed


@pytest.mark.parametrize(("collection", "record_id", "change", "message"), [
    ("currencies", 1, lambda r: r.update(currencyCode="USD"),
     "connectwise.currencies record 1: currencyCode must be of type object"),
    ("agreementTypes", 5, lambda r: r.pop("billTime"), "connectwise.agreementTypes record 5: billTime may not be null"),
    ("agreementTypes", 5, lambda r: r.update(invoicingCycle="FiscalYear"),
     "connectwise.agreementTypes record 5: invoicingCycle must be one of"),
    ("agreements", 12, lambda r: r.update(currency={"id": 1, "currencyCode": {"id": 1, "name": "USD"}}),
     "connectwise.agreements record 12: currency/currencyCode must be of type string"),
    ("companies", 250, lambda r: r["status"].update(colour="green"),
     "connectwise.companies record 250: status/colour: not a field of Company"),
    ("additions", 100, lambda r: r.update(product={"id": 999}),
     "connectwise.additions record 100: The product 999 was not found"),
])
def test_a_seed_record_the_service_could_not_return_is_refused_with_collection_id_and_field(
        collection, record_id, change, message):
    with pytest.raises(ValueError, match="the ConnectWise seed has") as refused:
        start(seed_with(collection, record_id, change))
    assert message in str(refused.value)


def test_every_bad_record_is_named_at_once():
    seed = copy.deepcopy(sample_seed(5))
    for currency in seed["connectwise"]["currencies"]:
        currency["currencyCode"] = currency["currencyCode"]["name"]
    with pytest.raises(ValueError) as refused:
        start(seed)
    assert "currencies record 1: currencyCode" in str(refused.value)
    assert "currencies record 2: currencyCode" in str(refused.value)


@pytest.mark.parametrize("name", ["demo", "real", "vendor-full"])
def test_the_shipped_data_sets_load(name):
    with start(name) as sim:
        assert sim.url.startswith("http://")
