"""Marketplace JSON → typed records: real variety is read, anything else is an InvalidRecord naming the
marketplace, the record and the field (never a Python error)."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cwsync.adapters import mp_records
from cwsync.errors import InvalidRecord

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
KEYS = st.text(min_size=1, max_size=40).filter(str.strip) | st.integers(1, 10**12)
EXTRA = st.dictionaries(st.text(min_size=1, max_size=12).filter(lambda k: k not in ("id", "name", "externalId")),
                        JSON, max_size=4)
CUSTOMERS = st.builds(lambda base, extra: {**extra, **{k: v for k, v in base.items() if v is not None}},
                      st.fixed_dictionaries({"id": KEYS, "name": st.none() | st.text(max_size=120),
                                             "externalId": st.none() | KEYS}), EXTRA)


@FAST
@given(CUSTOMERS)
def test_valid_but_varied_customers_are_read(raw):
    parsed = mp_records.customer(raw)
    assert parsed.id == str(raw["id"]).strip()
    assert parsed.external_id == (str(raw["externalId"]).strip() if raw.get("externalId") is not None else None)


@pytest.mark.parametrize("field, value", [("id", None), ("id", [1]), ("id", True), ("name", 12),
                                          ("name", {"first": "A"}), ("externalId", 1.5)])
def test_a_customer_field_of_the_wrong_type_is_refused_naming_the_marketplace_record_and_field(field, value):
    raw = {"id": "1000048531", "name": "Green Lane", **{field: value}}
    with pytest.raises(InvalidRecord) as refused:
        mp_records.customer(raw)
    assert refused.value.field == field and str(refused.value).startswith("The marketplace customer ")
    assert "correct the customer in the marketplace" in str(refused.value)


@FAST
@given(JSON)
def test_any_json_at_all_is_read_as_a_customer_or_refused_with_a_reason(raw):
    try:
        mp_records.customer(raw)
    except InvalidRecord as refused:
        assert refused.field and str(refused).startswith("The marketplace customer ")
