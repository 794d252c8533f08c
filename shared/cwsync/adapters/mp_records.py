"""Marketplace JSON → typed records, once, at the edge: customers, subscriptions (reconciliation);
orders are read by `cwsync.adapters.mp_orders`.

A record cwsync cannot read is an `InvalidRecord` naming the marketplace, the record and the
field, with what to fix; fields cwsync does not read are ignored.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Mapping

from cwsync import dates
from cwsync.adapters.mp_orders import is_duration
from cwsync.domain.models import BillingPeriod, CustomerRecord
from cwsync.domain.money import to_decimal
from cwsync.domain.reconcile import Subscription, SubscriptionLine, SubscriptionSummary
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


# --- subscriptions (reconciliation) -----------------------------------------------------------------

SUBSCRIPTION_FIX = "correct the subscription in the marketplace and run the reconciliation again"


class _Subscription:
    """Reads one subscription's fields; every problem names the subscription, the field and the fix."""

    def __init__(self, raw: Any):
        if not isinstance(raw, Mapping):
            raise InvalidRecord(SYSTEM, Kind.SUBSCRIPTION, "(unknown id)", "(record)",
                                f"is {shown(raw)}, not an object", SUBSCRIPTION_FIX)
        self.raw, self.id = raw, "(no id)"
        self.id = self.key("id")
        self.customer_id = self.key("customerId")
        self.status = self.text("status") or ""

    def fail(self, field: str, problem: str) -> InvalidRecord:
        return InvalidRecord(SYSTEM, Kind.SUBSCRIPTION, self.id, field, problem, SUBSCRIPTION_FIX)

    def key(self, field: str) -> str:
        value = self.raw.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise self.fail(field, "is missing")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.fail(field, f"is {shown(value)}, not an identifier")
        return str(value).strip()

    def text(self, field: str, node: Mapping | None = None, where: str | None = None) -> str | None:
        value = (self.raw if node is None else node).get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise self.fail(where or field, f"is {shown(value)}, not text")
        return value.strip()

    def day(self, field: str) -> date | None:
        """A date cwsync only uses to decide what to compare: unreadable is the same as missing."""
        moment = dates.parse_datetime_or_none(self.raw.get(field)) if isinstance(self.raw.get(field), str) else None
        return moment.date() if moment is not None else None

    def amount(self, value: Any, where: str) -> tuple[Decimal | None, str | None]:
        """A price: `{amount, currency}` or a bare number (the currency then comes from elsewhere)."""
        currency = None
        if isinstance(value, Mapping):
            currency = self.text("currency", value, f"{where}/currency")
            value, where = value.get("amount"), f"{where}/amount"
        if value is None:
            return None, currency
        return self.number(value, where), currency.upper() if currency else None

    def number(self, value: Any, where: str) -> Decimal:
        try:
            number = to_decimal(value)
        except ValueError:
            raise self.fail(where, f"is {shown(value)}, not a number") from None
        if not number.is_finite():
            raise self.fail(where, f"is {shown(value)}, not a number")
        return number

    def period(self) -> BillingPeriod:
        value = self.raw.get("billingPeriod")
        if not isinstance(value, Mapping):
            raise self.fail("billingPeriod", "is missing" if value is None else f"is {shown(value)}, not an object")
        kind = value.get("type")
        if kind not in BillingPeriod.KNOWN_TYPES:
            raise self.fail("billingPeriod/type", f"is {shown(kind)}, not one of {', '.join(BillingPeriod.KNOWN_TYPES)}")
        duration = self.number(value.get("duration"), "billingPeriod/duration")
        if not is_duration(kind, duration):
            raise self.fail("billingPeriod/duration", f"is {shown(value.get('duration'))}, not a positive whole number")
        return BillingPeriod(kind, int(duration))


def subscription_summary(raw: Any) -> SubscriptionSummary:
    """`GET /subscriptions` (a list entry, no products): its id, customer, status and when it last changed."""
    read = _Subscription(raw)
    return SubscriptionSummary(read.id, read.customer_id, read.status,
                               read.day("lastModifiedDate") or read.day("expirationDate"))


def subscription(raw: Any, *, products: bool = True) -> Subscription:
    """`GET /subscriptions/{id}`: the subscription with each product's quantity, unit price and unit
    cost, in one currency. `products=False` reads a list entry as a subscription without products
    (an ended one, whose products are not compared)."""
    read = _Subscription(raw)
    lines, currencies = [], {}
    listed = raw.get("products") if products else None
    if listed is not None and not isinstance(listed, list):
        raise read.fail("products", f"is {shown(listed)}, not a list")
    for index, product in enumerate(listed or []):
        where = f"products[{index}]"
        if not isinstance(product, Mapping):
            raise read.fail(where, f"is {shown(product)}, not an object")
        mpn = read.text("mpn", product, f"{where}/mpn")
        if mpn is None:
            raise read.fail(f"{where}/mpn", "is missing")
        price, price_currency = read.amount(product.get("unitPrice"), f"{where}/unitPrice")
        if price is None:
            raise read.fail(f"{where}/unitPrice", "is missing")
        cost, cost_currency = read.amount(product.get("unitCost"), f"{where}/unitCost")
        quantity = product.get("quantity")
        if quantity is None:  # never taken as 0: a repair would end what the customer has
            raise read.fail(f"{where}/quantity", "is missing")
        for code, field in ((price_currency, f"{where}/unitPrice/currency"), (cost_currency, f"{where}/unitCost/currency")):
            if code:
                currencies.setdefault(code, field)
        lines.append(SubscriptionLine(mpn, read.text("name", product, f"{where}/name") or mpn,
                                      read.number(quantity, f"{where}/quantity"),
                                      price, cost))
    total = raw.get("totalPrice")
    if isinstance(total, Mapping):
        code = read.text("currency", total, "totalPrice/currency")
        if code:
            currencies.setdefault(code.upper(), "totalPrice/currency")
    if len(currencies) > 1:
        (first, _), (other, field) = list(currencies.items())[:2]
        raise read.fail(field, f"is {other}, where the subscription's other amounts are in {first}")
    if lines and not currencies:
        raise read.fail("products[0]/unitPrice/currency", "is missing (no amount of the subscription names its currency)")
    return Subscription(read.id, read.customer_id, read.text("name") or read.id, read.status,
                        next(iter(currencies), ""), read.period(), tuple(lines), read.day("creationDate"),
                        read.text("billingModel"))
