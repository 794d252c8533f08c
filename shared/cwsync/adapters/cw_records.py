"""ConnectWise JSON → typed records (`cwsync.domain.records`), once, at the edge.

Parsing accepts what the real service sends: reference objects with more fields than cwsync
reads, optional fields missing or `null`, extra fields of newer API versions, and a currency
code as the string of a `CurrencyReference` ("USD") or as the `{id, name}` of a currency
record. Anything else is an `InvalidRecord` naming the record and field, with what to fix.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Mapping, TypeVar

from cwsync import dates
from cwsync.domain.records import (AdditionRecord, AdjustmentRecord, AgreementRecord, CatalogItemRecord,
                                   CompanyRecord, CustomFieldValue)
from cwsync.errors import InvalidRecord, shown as _shown
from cwsync.vocabulary import ConnectWiseRecord as Kind

SYSTEM = "ConnectWise"
T = TypeVar("T")


class _Reader:
    """Reads one record's fields; every problem names the record, the field and the fix."""

    def __init__(self, raw: Any, kind: str, fix: str):
        self.kind, self.fix = kind, fix
        if not isinstance(raw, Mapping):
            raise InvalidRecord(SYSTEM, kind, "(unknown id)", "(record)", f"is {_shown(raw)}, not an object", fix)
        self.raw = raw
        self.id: Any = "(no id)"
        self.id = self.integer("id", required=True)

    def fail(self, field: str, problem: str) -> InvalidRecord:
        return InvalidRecord(SYSTEM, self.kind, self.id, field, problem, self.fix)

    def value(self, path: str) -> Any:
        node: Any = self.raw
        for part in path.split("/"):
            if node is None:
                return None
            if not isinstance(node, Mapping):
                raise self.fail(path, f"is inside {_shown(node)}, which is not an object")
            node = node.get(part)
        return node

    def integer(self, path: str, *, required: bool = False) -> int | None:
        value = self.value(path)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
            raise self.fail(path, "is missing" if value is None else f"is {_shown(value)}, not a whole number")
        return int(value)

    def text(self, path: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.value(path)
        if value is None or (isinstance(value, str) and not value.strip() and required):
            if required and default is None:
                raise self.fail(path, "is missing")
            return default
        if not isinstance(value, str):
            raise self.fail(path, f"is {_shown(value)}, not text")
        return value

    def flag(self, path: str) -> bool | None:
        value = self.value(path)
        if value is None or isinstance(value, bool):
            return value
        raise self.fail(path, f"is {_shown(value)}, not true or false")

    def number(self, path: str) -> Decimal | None:
        value = self.value(path)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            raise self.fail(path, f"is {_shown(value)}, not a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(path, f"is {_shown(value)}, not a number") from None
        if not number.is_finite():
            raise self.fail(path, f"is {_shown(value)}, not a number")
        return number

    def moment(self, path: str) -> datetime | None:
        value = self.value(path)
        if value is None:
            return None
        if isinstance(value, str):
            moment = dates.parse_datetime_or_none(value)
            if moment is not None:
                return moment
        raise self.fail(path, f"is {_shown(value)}, not a date and time")

    def reference(self, path: str) -> None:
        value = self.value(path)
        if value is not None and not isinstance(value, Mapping):
            raise self.fail(path, f"is {_shown(value)}, not a reference object")


def _currency_code(read: _Reader) -> str | None:
    read.reference("currency")
    code = read.value("currency/currencyCode")
    if isinstance(code, Mapping):  # a currency record's `{id, name}`, where a reference has the string
        code = code.get("name")
    if code is None or (isinstance(code, str) and not code.strip()):
        return None
    if not isinstance(code, str):
        raise read.fail("currency/currencyCode", f"is {_shown(code)}, not a currency code")
    return code.strip()


AGREEMENT_FIX = "correct the agreement in ConnectWise and check again"
# Reference objects each record must hold as objects (or not at all).
REFERENCE_FIELDS = {Kind.AGREEMENT: ("company", "billingCycle"), Kind.ADDITION: ("product",)}


def agreement(raw: Any) -> AgreementRecord:
    read = _Reader(raw, Kind.AGREEMENT, AGREEMENT_FIX)
    for path in REFERENCE_FIELDS[Kind.AGREEMENT]:
        read.reference(path)
    return AgreementRecord(
        id=read.id, name=read.text("name") or f"Agreement {read.id}", company_id=read.integer("company/id"),
        status=read.text("agreementStatus"), cancelled=bool(read.flag("cancelledFlag")),
        billing_cycle=read.text("billingCycle/name"), currency_code=_currency_code(read),
        end_date=None if read.flag("noEndingDateFlag") else _day(read.moment("endDate")),
        bill_start_date=_day(read.moment("billStartDate")), next_invoice_date=_day(read.moment("nextInvoiceDate")))


def agreement_company(raw: Any) -> int | None:
    """The company of an agreement cwsync may not be able to read otherwise (None when that is unreadable too)."""
    company = raw.get("company") if isinstance(raw, Mapping) else None
    number = company.get("id") if isinstance(company, Mapping) else None
    if isinstance(number, bool) or not (isinstance(number, int) or (isinstance(number, str) and number.isdigit())):
        return None
    return int(number)


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment is not None else None


def company(raw: Any) -> CompanyRecord:
    read = _Reader(raw, Kind.COMPANY, "correct the company in ConnectWise and sync the task again")
    read.reference("status")
    return CompanyRecord(id=read.id, identifier=read.text("identifier", default=""),
                         name=read.text("name", default=""), status=read.text("status/name"),
                         deleted=bool(read.flag("deletedFlag")), custom_fields=_custom_fields(read))


def _custom_fields(read: _Reader) -> tuple[CustomFieldValue, ...]:
    """`customFields`: a list of `{id, caption, value}` objects; a value is kept as text."""
    entries = read.value("customFields")
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise read.fail("customFields", f"is {_shown(entries)}, not a list")
    found = []
    for index, entry in enumerate(entries):
        where = f"customFields[{index}]"
        if not isinstance(entry, Mapping):
            raise read.fail("customFields", f"holds {_shown(entry)}, which is not an object")
        value, caption, number = entry.get("value"), entry.get("caption"), entry.get("id")
        if isinstance(value, (Mapping, list)):
            raise read.fail(f"{where}/value", f"is {_shown(value)}, not a single value")
        if caption is not None and not isinstance(caption, str):
            raise read.fail(f"{where}/caption", f"is {_shown(caption)}, not text")
        if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
            raise read.fail(f"{where}/id", f"is {_shown(number)}, not a whole number")
        text = None if value in (None, "") else str(value).strip()
        found.append(CustomFieldValue(id=number, caption=caption, value=text))
    return tuple(found)


def catalog_item(raw: Any) -> CatalogItemRecord:
    read = _Reader(raw, Kind.CATALOG_ITEM, "correct the catalog item in ConnectWise and sync the task again")
    return CatalogItemRecord(
        id=read.id, identifier=read.text("identifier", default=""), description=read.text("description", default=""),
        price=read.number("price"), cost=read.number("cost"), inactive=bool(read.flag("inactiveFlag")),
        taxable=read.flag("taxableFlag"), manufacturer_part_number=read.text("manufacturerPartNumber"),
        vendor_sku=read.text("vendorSku"))


def addition(raw: Any) -> AdditionRecord:
    read = _Reader(raw, Kind.ADDITION, "correct the agreement addition in ConnectWise and sync the task again")
    for path in REFERENCE_FIELDS[Kind.ADDITION]:
        read.reference(path)
    return AdditionRecord(
        id=read.id, product_id=read.integer("product/id"), quantity=read.number("quantity") or Decimal(0),
        unit_price=read.number("unitPrice"), unit_cost=read.number("unitCost"),
        effective_date=read.moment("effectiveDate"), cancelled_date=read.moment("cancelledDate"),
        serial_number=read.text("serialNumber"), bill_customer=read.text("billCustomer"),
        taxable=read.flag("taxableFlag"), description=read.text("description"),
        invoice_description=read.text("invoiceDescription"), product_identifier=read.text("product/identifier"))


def adjustment(raw: Any) -> AdjustmentRecord:
    read = _Reader(raw, Kind.ADJUSTMENT, "correct the agreement adjustment in ConnectWise and sync the task again")
    return AdjustmentRecord(id=read.id, amount=read.number("amount"), description=read.text("description", default=""),
                            effective_date=read.moment("effectiveDate"))


PARSERS: dict[str, Callable[[Any], Any]] = {
    Kind.AGREEMENT: agreement, Kind.COMPANY: company, Kind.CATALOG_ITEM: catalog_item, Kind.ADDITION: addition,
    Kind.ADJUSTMENT: adjustment,
}


def parsed(parse: Callable[[Any], T], records: Iterable[Any]) -> list[T]:
    """Each record of a listing, typed by `parse` (InvalidRecord names the first one it cannot read)."""
    return [parse(record) for record in records]


def readable(parse: Callable[[Any], T], records: Iterable[Any]) -> tuple[list[T], list[tuple[Any, InvalidRecord]]]:
    """The records of a listing `parse` can read, typed, and apart the others (as sent) with why: for
    reading where one unreadable record must not stop the rest (reconciliation)."""
    typed, unreadable = [], []
    for record in records:
        try:
            typed.append(parse(record))
        except InvalidRecord as error:
            unreadable.append((record, error))
    return typed, unreadable


def checked(parse: Callable[[Any], T], records: Any) -> list[Any]:
    """The records as the API sent them, each proven readable by `parse` (InvalidRecord if one is not)."""
    if not isinstance(records, list):
        raise InvalidRecord(SYSTEM, "list", "(answer)", "(body)", f"is {_shown(records)}, not a list",
                            "check the ConnectWise API version cwsync is pinned to")
    for record in records:
        parse(record)
    return records
