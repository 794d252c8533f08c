"""Marketplace JSON → typed records, once, at the edge (orders are read by `Order.from_api`).

A record cwsync cannot read is an `InvalidRecord` naming the marketplace, the record and the
field, with what to fix; fields cwsync does not read are ignored.
"""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.domain.models import CustomerRecord
from cwsync.errors import InvalidRecord, shown
from cwsync.vocabulary import MarketplaceRecord as Kind

SYSTEM = "The marketplace"
CUSTOMER_FIX = "correct the customer in the marketplace and sync the task again"


def customer(raw: Any) -> CustomerRecord:
    """`GET /customers/{id}`: its id, name and externalId (the keys customer matching reads)."""
    if not isinstance(raw, Mapping):
        raise InvalidRecord(SYSTEM, Kind.CUSTOMER, "(unknown id)", "(record)", f"is {shown(raw)}, not an object",
                            CUSTOMER_FIX)
    customer_id = _key(raw, "id", "(no id)")
    if customer_id is None:
        raise InvalidRecord(SYSTEM, Kind.CUSTOMER, "(no id)", "id", "is missing", CUSTOMER_FIX)
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidRecord(SYSTEM, Kind.CUSTOMER, customer_id, "name", f"is {shown(name)}, not text", CUSTOMER_FIX)
    address = raw.get("address") if isinstance(raw.get("address"), Mapping) else {}
    contacts = [c for c in raw.get("contactPersons") or [] if isinstance(c, Mapping)] \
        if isinstance(raw.get("contactPersons"), list) else []
    attributes = raw.get("attributes") if isinstance(raw.get("attributes"), Mapping) else {}
    return CustomerRecord(id=customer_id, name=name.strip() if name and name.strip() else None,
                          external_id=_key(raw, "externalId", customer_id),
                          street=_text(address.get("streetAddress")), street_extra=_text(address.get("addressExtension")),
                          postal_code=_text(address.get("postalCode")), city=_text(address.get("city")),
                          state=_text(address.get("state")), country_code=_text(address.get("countryCode")),
                          phone=next((_text(c.get("phoneNumber")) for c in contacts if _text(c.get("phoneNumber"))),
                                     None),
                          website=_text(attributes.get("website")))


def _text(value: Any) -> str | None:
    """Address and contact text, read only to fill in a new company's form: anything else is left out."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _key(raw: Mapping, field: str, record_id: Any) -> str | None:
    """An identifier: text or a whole number, kept as text; None when missing or empty."""
    value = raw.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidRecord(SYSTEM, Kind.CUSTOMER, record_id, field, f"is {shown(value)}, not an identifier",
                            CUSTOMER_FIX)
    return str(value).strip()
