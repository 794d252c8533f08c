"""The marketplace's records (customers, products, subscriptions, orders) and their indexes.

Records are kept in the API's own shapes (docs/SEED.md); list answers are cut down to the
list shapes. Orders are indexed newest first once per write, so a list request never
sorts: a creation-time window is two binary searches and a page is a slice.
"""
from __future__ import annotations

import bisect
import copy
import json
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any, Iterable

from cwsync_local.simulators.common import StateFile

ORDER_STATUSES = ("submitted", "processing", "error", "completed", "cancelled")
ORDER_TYPES = ("sales", "change", "renewal", "cancellation", "migration", "unknown")
SUBSCRIPTION_STATUSES = ("pending", "active", "hold", "terminated", "removed", "unknown")
# The contract's list shapes (Order, Subscription): the detailed record minus detail-only fields.
ORDER_LIST_FIELDS = ("id", "orderNumber", "type", "customerId", "poNumber", "creationDate", "provisioningDate",
                     "status", "statusCode", "total", "details", "attributes", "creditCheck",
                     "lastBillingDate", "nextBillingDate")
SUBSCRIPTION_LIST_FIELDS = ("id", "name", "customerId", "status", "attributes", "renewalStatus", "creationDate",
                            "renewalDate", "lastModifiedDate", "expirationDate", "billingModel",
                            "billingPeriod", "subscriptionPeriod")
COLLECTIONS = ("customers", "products", "subscriptions", "orders")


def parse_time(value: Any, where: str) -> datetime:
    """A record's ISO 8601 date or date-time as aware UTC (a date is its midnight)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where} must be an ISO 8601 string, got {value!r}")
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=timezone.utc)
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{where} {value!r} is not an ISO 8601 date or date-time") from None
    return (parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed).astimezone(timezone.utc)


def _id_key(record: dict) -> tuple[int, str]:
    # Numeric-looking ids of different lengths still order by value: "999" < "1000".
    text = str(record.get("id", ""))
    return len(text), text


def order_subscription_ids(order: dict) -> set[str]:
    ids = {str(order["subscriptionId"])} if order.get("subscriptionId") else set()
    return ids | {str(p["subscriptionId"]) for p in order.get("products") or [] if p.get("subscriptionId")}


@dataclass
class OrderIndex:
    """Orders newest first (creationDate desc, then higher id first) and their creation times."""

    orders: list[dict]
    negated_times: list[float]  # ascending, for bisect
    by_id: dict[str, dict]
    summaries: dict[str, str] = field(default_factory=dict)  # id -> list-shape JSON, filled on first use

    @classmethod
    def build(cls, orders: Iterable[dict]) -> OrderIndex:
        keyed = sorted(((parse_time(o.get("creationDate"), f"order {o.get('id')} creationDate").timestamp(),
                         _id_key(o), o) for o in orders), key=lambda item: item[:2], reverse=True)
        return cls([o for *_, o in keyed], [-t for t, *_ in keyed], {str(o["id"]): o for *_, o in keyed})

    def window(self, start: datetime | None, end: datetime | None) -> tuple[int, int]:
        """Index range of orders with start <= creationDate < end."""
        first = bisect.bisect_right(self.negated_times, -end.timestamp()) if end else 0
        last = bisect.bisect_right(self.negated_times, -start.timestamp()) if start else len(self.orders)
        return first, max(first, last)

    def summary_json(self, order: dict) -> str:
        key = str(order["id"])
        text = self.summaries.get(key)
        if text is None:
            text = json.dumps({k: order[k] for k in ORDER_LIST_FIELDS if k in order})
            self.summaries[key] = text
        return text


class MarketplaceData:
    """One marketplace's records over a StateFile; every write saves the state file."""

    def __init__(self, state: StateFile):
        self.state = state
        self._lock = threading.RLock()
        for name in COLLECTIONS:
            state.data.setdefault(name, [])
            for record in state.data[name]:
                _check_record(name, record)
        self._reindex()

    # -- reads ---------------------------------------------------------------------------
    def records(self, name: str) -> list[dict]:
        return self.state.data[name]

    def find(self, name: str, record_id: str) -> dict | None:
        return self._by_id[name].get(str(record_id))

    @property
    def order_index(self) -> OrderIndex:
        return self._orders

    # -- writes (Python-level, for tests and benchmarks) ---------------------------------
    def add_orders(self, orders: Iterable[dict]) -> list[dict]:
        """Add detailed orders (the seed's shape); ids must be new. Returns the stored copies."""
        return self._add("orders", orders)

    def add_customers(self, customers: Iterable[dict]) -> list[dict]:
        return self._add("customers", customers)

    def add_subscriptions(self, subscriptions: Iterable[dict]) -> list[dict]:
        return self._add("subscriptions", subscriptions)

    def add_products(self, products: Iterable[dict]) -> list[dict]:
        return self._add("products", products)

    def update_order(self, order_id: str, changes: dict) -> dict:
        """Replace top-level fields of an order, e.g. complete a processing order."""
        return self._update("orders", order_id, changes)

    def update_subscription(self, subscription_id: str, changes: dict) -> dict:
        return self._update("subscriptions", subscription_id, changes)

    def _add(self, name: str, records: Iterable[dict]) -> list[dict]:
        added = [copy.deepcopy(record) for record in records]
        with self._lock:
            known = set(self._by_id[name])
            for record in added:
                _check_record(name, record)
                if str(record["id"]) in known:
                    raise ValueError(f"{name[:-1]} id {record['id']!r} already exists")
                known.add(str(record["id"]))
            self.state.data[name].extend(added)
            self._reindex()
            self.state.save()
        return added

    def _update(self, name: str, record_id: str, changes: dict) -> dict:
        with self._lock:
            record = self.find(name, record_id)
            if record is None:
                raise KeyError(f"no {name[:-1]} with id {record_id!r}")
            candidate = {**record, **copy.deepcopy(changes), "id": record["id"]}
            _check_record(name, candidate)
            record.clear()
            record.update(candidate)
            self._reindex()
            self.state.save()
        return record

    def _reindex(self) -> None:
        # Built aside, then swapped in: a request in flight keeps a consistent view.
        by_id = {name: {str(r["id"]): r for r in self.state.data[name]} for name in COLLECTIONS}
        orders = OrderIndex.build(self.state.data["orders"])
        subscriptions = sorted(self.state.data["subscriptions"], reverse=True,
                               key=lambda s: (parse_time(s.get("creationDate") or "1970-01-01", "creationDate"),
                                              _id_key(s)))
        customers = sorted(self.state.data["customers"], key=_id_key, reverse=True)
        self._by_id, self._orders = by_id, orders
        self.subscriptions_newest_first, self.customers_newest_first = subscriptions, customers


_REQUIRED = {"orders": ("id", "orderNumber", "type", "customerId", "creationDate", "status"),
             "customers": ("id", "name"), "subscriptions": ("id", "customerId", "status"),
             "products": ("id", "mpn")}
_ENUMS: dict[str, dict[str, tuple[str, ...]]] = {
    "orders": {"status": ORDER_STATUSES, "type": ORDER_TYPES},
    "subscriptions": {"status": SUBSCRIPTION_STATUSES},
}


def _check_record(name: str, record: Any) -> None:
    """Enough checking that a bad seed or test record fails loudly at load, not mid-request."""
    if not isinstance(record, dict):
        raise ValueError(f"{name} records must be JSON objects, got {record!r}")
    missing = [key for key in _REQUIRED[name] if record.get(key) in (None, "")]
    if missing:
        raise ValueError(f"{name[:-1]} {record.get('id')!r} is missing {', '.join(missing)}")
    if not isinstance(record["id"], str):
        raise ValueError(f"{name[:-1]} id must be a string (ids are strings on the marketplace), got {record['id']!r}")
    for key, allowed in _ENUMS.get(name, {}).items():
        if record[key] not in allowed:
            raise ValueError(f"{name[:-1]} {record['id']!r} has {key} {record[key]!r}; expected one of {allowed}")
    if name == "orders":
        parse_time(record["creationDate"], f"order {record['id']} creationDate")
