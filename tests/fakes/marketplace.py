"""MarketplacePort in memory: customers, subscriptions and orders by id.

`orders()` lists like the SimpleAPI: newest first within the creation window, page after page
(each page is one call), each entry without its `products` and `details` (only `order()` gives
those). `failing[order_id]` makes `order()` raise that error instead.
"""
from __future__ import annotations

from cwsync.adapters import mp_records
from cwsync.dates import parse_datetime_or_none
from cwsync.errors import NotFound


class FakeMarketplace:
    def __init__(self, customers=(), orders=(), subscriptions=()):
        self.customers = {c["id"]: c for c in customers}
        self.details = {o["id"]: o for o in orders}
        self.subscription_list = list(subscriptions)
        self.failing: dict[str, Exception] = {}
        self.calls: list[tuple[str, str]] = []

    def add(self, detail: dict) -> None:
        self.details[detail["id"]] = detail

    @property
    def detail_calls(self) -> list[str]:
        """The order ids `order()` was asked for, in order."""
        return [order_id for kind, order_id in self.calls if kind == "order"]

    @property
    def list_calls(self) -> int:
        """How many pages `orders()` listed."""
        return sum(1 for kind, _ in self.calls if kind == "orders")

    def customer(self, customer_id):
        self.calls.append(("customer", customer_id))
        if customer_id not in self.customers:
            raise NotFound(f"The marketplace has no customer {customer_id}.", status=404)  # as the adapter: a 404
        return mp_records.customer(self.customers[customer_id])  # typed, as the real adapter answers

    def order(self, order_id):
        self.calls.append(("order", order_id))
        if order_id in self.failing:
            raise self.failing[order_id]
        if order_id not in self.details:
            raise AssertionError(f"order {order_id} was not expected to be read (it is stored with the task)")
        return self.details[order_id]

    def orders(self, created_from=None, created_to=None, status=None, page_size=500, offset=0):
        # By the instant each creation time names (with or without an offset), as the marketplace filters;
        # an order without a readable one is never in a window.
        created = {key: parse_datetime_or_none(o.get("creationDate")) if isinstance(o.get("creationDate"), str)
                   else None for key, o in self.details.items()}
        inside = [key for key, when in created.items() if when is not None
                  and (created_from is None or when >= created_from) and (created_to is None or when <= created_to)]
        chosen = [self.details[key] for key in sorted(inside, key=created.get, reverse=True)]
        while True:
            self.calls.append(("orders", ""))
            for item in chosen[offset:offset + page_size]:
                yield {k: v for k, v in item.items() if k not in ("products", "details")}
            offset += page_size
            if offset >= len(chosen):
                return

    def subscription(self, subscription_id):
        self.calls.append(("subscription", subscription_id))
        return next(s for s in self.subscription_list if s["id"] == subscription_id)

    def subscriptions(self, customer_id=None, status=None):
        self.calls.append(("subscriptions", customer_id or ""))
        yield from (s for s in self.subscription_list if (customer_id is None or s.get("customerId") == customer_id)
                    and (status is None or s.get("status") == status))
