"""MarketplacePort in memory: customers and order details by id."""
from __future__ import annotations


class FakeMarketplace:
    def __init__(self, customers=(), orders=(), subscriptions=()):
        self.customers = {c["id"]: c for c in customers}
        self.details = {o["id"]: o for o in orders}
        self.subscription_list = list(subscriptions)
        self.calls: list[tuple[str, str]] = []

    def customer(self, customer_id):
        self.calls.append(("customer", customer_id))
        return self.customers[customer_id]

    def order(self, order_id):
        self.calls.append(("order", order_id))
        if order_id not in self.details:
            raise AssertionError(f"order {order_id} was not expected to be read (it is stored with the task)")
        return self.details[order_id]

    def orders(self, created_from=None, created_to=None, status=None, page_size=500, offset=0):
        self.calls.append(("orders", ""))
        yield from list(self.details.values())[offset:]

    def subscription(self, subscription_id):
        self.calls.append(("subscription", subscription_id))
        return next(s for s in self.subscription_list if s["id"] == subscription_id)

    def subscriptions(self, customer_id=None, status=None):
        self.calls.append(("subscriptions", customer_id or ""))
        yield from (s for s in self.subscription_list if (customer_id is None or s.get("customerId") == customer_id)
                    and (status is None or s.get("status") == status))
