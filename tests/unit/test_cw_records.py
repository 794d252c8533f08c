"""ConnectWise JSON → typed records: real variety is read, anything else is an InvalidRecord
naming the record and the field (and never a Python error)."""
from __future__ import annotations

from datetime import timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cwsync.adapters import cw_records
from cwsync.errors import InvalidRecord

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
NAMES = st.text(min_size=1, max_size=120)  # unicode, long names
IDS = st.integers(min_value=1, max_value=2**31 - 1)
EXTRA = st.dictionaries(st.text(min_size=1, max_size=12).filter(lambda k: k not in FIELDS), JSON, max_size=4)
FIELDS = {"id", "name", "company", "agreementStatus", "cancelledFlag", "billingCycle", "currency", "identifier",
          "status", "deletedFlag", "description", "price", "cost", "inactiveFlag", "taxableFlag",
          "manufacturerPartNumber", "vendorSku", "product", "quantity", "unitPrice", "unitCost", "effectiveDate",
          "cancelledDate", "serialNumber", "billCustomer", "amount", "customFields", "caption", "value", "invoiceDescription"}
STAMPS = st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.isoformat().replace("+00:00", "Z"))
NUMBERS = st.integers(-10**6, 10**6) | st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def maybe(strategy):
    """A field that is there, `null`, or left out (the service leaves nulls out)."""
    return st.one_of(strategy, st.none(), st.just(MISSING))


MISSING = object()


def record(**fields):
    return st.fixed_dictionaries(fields).flatmap(
        lambda base: EXTRA.map(lambda extra: {**extra, **{k: v for k, v in base.items() if v is not MISSING}}))


def reference(**fields):
    return record(id=IDS, **fields)


CURRENCY_CODES = st.sampled_from(["USD", "EUR", "GBP", "CHF"])
AGREEMENTS = record(
    id=IDS, name=maybe(NAMES), company=maybe(reference(identifier=maybe(NAMES), name=maybe(NAMES))),
    agreementStatus=maybe(st.sampled_from(["Active", "Cancelled", "Expired", "Inactive"])),
    cancelledFlag=maybe(st.booleans()), billingCycle=maybe(reference(name=maybe(NAMES))),
    currency=maybe(reference(currencyCode=maybe(CURRENCY_CODES | CURRENCY_CODES.map(lambda c: {"id": 1, "name": c})),
                             symbol=maybe(st.sampled_from(["$", "€"])), currencyIdentifier=maybe(CURRENCY_CODES))))
ADDITIONS = record(
    id=IDS, product=maybe(reference(identifier=maybe(NAMES))), quantity=maybe(NUMBERS), unitPrice=maybe(NUMBERS),
    unitCost=maybe(NUMBERS), effectiveDate=maybe(STAMPS), cancelledDate=maybe(STAMPS),
    serialNumber=maybe(st.text(max_size=50)), billCustomer=maybe(st.sampled_from(["Billable", "DoNotBill", "NoCharge"])),
    taxableFlag=maybe(st.booleans()), description=maybe(NAMES), invoiceDescription=maybe(NAMES))
CATALOG = record(
    id=IDS, identifier=maybe(NAMES), description=maybe(NAMES), price=maybe(NUMBERS), cost=maybe(NUMBERS),
    inactiveFlag=maybe(st.booleans()), taxableFlag=maybe(st.booleans()), manufacturerPartNumber=maybe(NAMES),
    vendorSku=maybe(NAMES))
CUSTOM_FIELDS = st.lists(record(id=maybe(IDS), caption=maybe(NAMES),
                                value=maybe(NAMES | st.booleans() | NUMBERS)), max_size=3)
COMPANIES = record(id=IDS, identifier=maybe(NAMES), name=maybe(NAMES), status=maybe(reference(name=maybe(NAMES))),
                   deletedFlag=maybe(st.booleans()), customFields=maybe(CUSTOM_FIELDS))
ADJUSTMENTS = record(id=IDS, amount=maybe(NUMBERS), description=maybe(NAMES), effectiveDate=maybe(STAMPS))
VALID = {"agreement": AGREEMENTS, "addition": ADDITIONS, "catalog item": CATALOG, "company": COMPANIES,
         "adjustment": ADJUSTMENTS}
# The fields cwsync reads of each record, and a value of the wrong type for each.
READ = {"agreement": ["id", "name", "company", "company/id", "agreementStatus", "cancelledFlag", "billingCycle",
                      "billingCycle/name", "currency", "currency/currencyCode"],
        "addition": ["id", "product", "product/id", "product/identifier", "quantity", "unitPrice", "unitCost",
                     "effectiveDate", "cancelledDate", "serialNumber", "billCustomer", "taxableFlag", "description",
                     "invoiceDescription"],
        "catalog item": ["id", "identifier", "description", "price", "cost", "inactiveFlag", "taxableFlag",
                         "manufacturerPartNumber", "vendorSku"],
        "company": ["id", "identifier", "name", "status", "status/name", "deletedFlag", "customFields"],
        "adjustment": ["id", "amount", "description", "effectiveDate"]}
TEXT = {"name", "agreementStatus", "billingCycle/name", "identifier", "description", "manufacturerPartNumber",
        "vendorSku", "serialNumber", "billCustomer", "status/name", "invoiceDescription", "product/identifier"}
WRONG = st.sampled_from([[1, 2], 12.5, True, "not-a-number-or-date", {"nested": {"x": 1}}])
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("kind", list(VALID))
@FAST
@given(data=st.data())
def test_valid_but_varied_records_are_read(kind, data):
    raw = data.draw(VALID[kind])
    parsed = cw_records.PARSERS[kind](raw)
    assert parsed.id == raw["id"]


@FAST
@given(AGREEMENTS)
def test_an_agreement_currency_code_is_read_from_a_reference_string_or_a_currency_record_object(raw):
    code = (raw.get("currency") or {}).get("currencyCode")
    expected = code["name"] if isinstance(code, dict) else code
    assert cw_records.agreement(raw).currency_code == expected


def _set(raw: dict, path: str, value) -> dict:
    parts = path.split("/")
    node = raw
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {"id": 1}
        node = node[part]
    node[parts[-1]] = value
    return raw


def _acceptable(kind: str, path: str, value) -> bool:
    """A value the field legitimately takes (then there is nothing to refuse)."""
    if path.endswith("id") and isinstance(value, bool):
        return False
    if path == "currency/currencyCode":  # the code itself, or a currency record's {id, name}
        return isinstance(value, str) or isinstance(value, dict) and isinstance(value.get("name"), (str, type(None)))
    if path in TEXT:
        return isinstance(value, str)
    if path in ("company", "billingCycle", "currency", "product", "status"):
        return isinstance(value, dict)
    if path == "customFields":  # a list of objects (an empty list holds none)
        return isinstance(value, list) and all(isinstance(entry, dict) for entry in value)
    if path in ("cancelledFlag", "inactiveFlag", "taxableFlag", "deletedFlag"):
        return isinstance(value, bool)
    if path in ("quantity", "unitPrice", "unitCost", "price", "cost", "amount"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return False


@pytest.mark.parametrize("kind", list(VALID))
@FAST
@given(data=st.data())
def test_a_field_of_the_wrong_type_is_refused_naming_the_record_and_the_field(kind, data):
    raw = data.draw(VALID[kind])
    path = data.draw(st.sampled_from(READ[kind]))
    value = data.draw(WRONG)
    broken = _set(dict(raw), path, value)
    if _acceptable(kind, path, value):
        cw_records.PARSERS[kind](broken)
        return
    with pytest.raises(InvalidRecord) as refused:
        cw_records.PARSERS[kind](broken)
    assert refused.value.field == path and f"ConnectWise {kind} " in str(refused.value)
    assert path in str(refused.value) and "ConnectWise" in str(refused.value)


@pytest.mark.parametrize("kind", list(VALID))
@FAST
@given(raw=JSON)
def test_any_json_at_all_is_read_or_refused_with_a_reason_never_a_crash(kind, raw):
    try:
        cw_records.PARSERS[kind](raw)
    except InvalidRecord as refused:
        assert refused.field and str(refused).startswith(f"ConnectWise {kind} ")


def test_a_missing_id_is_refused():
    with pytest.raises(InvalidRecord, match="ConnectWise agreement \\(no id\\): id is missing"):
        cw_records.agreement({"name": "Cloud"})


def test_the_reason_shows_json_never_python():
    with pytest.raises(InvalidRecord) as refused:
        cw_records.agreement({"id": 401, "currency": {"id": 1, "currencyCode": [None, True]}})
    assert str(refused.value) == ("ConnectWise agreement 401: currency/currencyCode is [null, true], not a currency "
                                  "code; correct the agreement in ConnectWise and check again")


def test_numbers_are_decimals():
    parsed = cw_records.addition({"id": 1, "quantity": 3, "unitPrice": 6.1, "unitCost": "4.80"})
    assert (parsed.quantity, parsed.unit_price, parsed.unit_cost) == (Decimal(3), Decimal("6.1"), Decimal("4.80"))


def test_a_company_custom_field_is_found_by_its_id_or_caption_and_read_as_text():
    parsed = cw_records.company({"id": 7, "name": "Green Lane", "customFields": [
        {"id": 4, "caption": "Marketplace ID", "type": "Text", "value": " 1000048531 "},
        {"id": 5, "caption": "Seats", "type": "Number", "value": 12}, {"id": 6, "caption": "Empty", "value": ""}]})
    assert parsed.custom_field("marketplace id") == parsed.custom_field("4") == "1000048531"
    assert parsed.custom_field("Seats") == "12" and parsed.custom_field("Empty") is None
    assert parsed.custom_field("Unknown") is None


def test_a_company_custom_field_holding_an_object_is_refused_naming_it():
    with pytest.raises(InvalidRecord) as refused:
        cw_records.company({"id": 7, "customFields": [{"id": 4, "value": {"x": 1}}]})
    assert refused.value.field == "customFields[0]/value"
    assert str(refused.value).startswith("ConnectWise company 7: customFields[0]/value is {\"x\": 1}")


def test_an_addition_shows_itself_in_connectwise_field_names_with_exact_numbers_and_utc_moments():
    parsed = cw_records.addition({"id": 9, "product": {"id": 3, "identifier": "M365-BB", "name": "x"}, "quantity": 10,
                                  "unitPrice": 6.1, "effectiveDate": "2026-02-01T01:00:00+01:00",
                                  "serialNumber": "MP-SUB-1-SO1", "taxableFlag": False, "description": None,
                                  "agreementId": 12})
    assert parsed.to_fields() == {"id": 9, "product": {"id": 3, "identifier": "M365-BB"}, "quantity": Decimal(10),
                                  "unitPrice": Decimal("6.1"), "effectiveDate": "2026-02-01T00:00:00Z",
                                  "serialNumber": "MP-SUB-1-SO1", "taxableFlag": False}
    assert parsed.live and not cw_records.addition({"id": 9, "cancelledDate": "2026-03-01T00:00:00Z"}).live
