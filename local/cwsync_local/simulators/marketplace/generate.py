"""Many realistic orders for benchmarks and load tests, in the seed's detailed order shape.

    from cwsync_local.simulators.marketplace import generate
    sim.add_customers(generate.customers(200))
    sim.add_orders(generate.orders(10_000, customers=[c["id"] for c in generate.customers(200)]))

Deterministic for a given `random_seed`. Mostly completed sales and change orders spread
evenly over a time window, with some renewals, cancellations, billing orders and
unfinished ones, in USD and EUR, monthly and annual — like a busy marketplace month.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Sequence

# mpn, name, billing period, (unit cost, unit price)
CATALOGUE = [
    ("M365-BUSBASIC-P1M", "Microsoft 365 Business Basic", {"type": "month", "duration": 1}, ("4.80", "6.00")),
    ("M365-BUSPREM-P1M", "Microsoft 365 Business Premium", {"type": "month", "duration": 1}, ("17.60", "22.00")),
    ("EXO-PLAN1-P1M", "Exchange Online (Plan 1)", {"type": "month", "duration": 1}, ("3.20", "4.00")),
    ("M365-E3-P1M", "Microsoft 365 E3", {"type": "month", "duration": 1}, ("28.80", "36.00")),
    ("M365-BUSSTD-P1Y", "Microsoft 365 Business Standard (annual)", {"type": "year", "duration": 1},
     ("120.00", "150.00")),
]
# order type, number prefix, product line type, charge type, share of orders
KINDS = [("sales", "SO", "CREATE", "recurring", 45), ("change", "CH", "UPGRADE", "recurring", 30),
         ("renewal", "RN", "RENEW", "renew", 12), ("cancellation", "CL", "CANCEL", "cancellation", 8),
         ("unknown", "BO", "BILLING_SUBSCRIPTION", "recurring", 5)]
DEFAULT_END = datetime(2026, 11, 25, tzinfo=timezone.utc)


def customers(n: int, *, first_id: int = 2000000000) -> list[dict]:
    """`n` customers in the Customer shape, ids counting up from `first_id`."""
    return [{"id": str(first_id + i), "name": f"Customer {i:05d} LLC", "status": "active", "language": "en",
             "resellerId": "1000000100",
             "address": {"streetAddress": f"{100 + i} Main Street", "postalCode": "19107", "city": "Philadelphia",
                         "countryCode": "US"},
             "contactPersons": [{"type": "admin", "firstName": "Alex", "lastName": f"Owner{i}",
                                 "email": f"owner{i}@customer{i}.example", "phoneNumber": "+1 215 555 0100"}]}
            for i in range(n)]


def orders(n: int, *, customers: Sequence[str] | None = None, start: datetime | None = None,
           end: datetime = DEFAULT_END, random_seed: int = 0, first_id: int = 7000000,
           currencies: Sequence[str] = ("USD", "USD", "USD", "EUR")) -> list[dict]:
    """`n` detailed orders created evenly between `start` (default: 30 days before `end`) and `end`.

    Ids are `first_id`, `first_id + 1`, … as strings; numbers follow the ids. Customer ids
    default to 200 made-up ones (pair with `customers(200)` to make them resolvable).
    """
    rng = random.Random(random_seed)
    start = start or end - timedelta(days=30)
    customer_ids = list(customers) if customers else [str(2000000000 + i) for i in range(200)]
    step = (end - start) / max(n, 1)
    weights = [kind[-1] for kind in KINDS]
    result = []
    for i in range(n):
        kind, prefix, line_type, charge_type, _ = rng.choices(KINDS, weights)[0]
        mpn, name, period, (cost, price) = rng.choice(CATALOGUE)
        customer_id = rng.choice(customer_ids)
        currency = currencies[int(customer_id) % len(currencies)] if customer_id.isdigit() else currencies[0]
        quantity = rng.randint(1, 50)
        created = start + step * i + timedelta(seconds=rng.randint(0, 59))
        status = "completed" if rng.random() < 0.95 else rng.choice(("processing", "submitted", "error"))
        subscription_id = f"SUB-{rng.randint(100000, 999999)}"
        charge_quantity = 1 if kind == "cancellation" else quantity
        details = [_charge(charge_type, mpn, name, charge_quantity, cost, price, currency, period)]
        if kind == "sales" and rng.random() < 0.2:
            details.append(_charge("setup", mpn, f"{name}: setup (one-time)", 1, "0.00", "50.00", currency,
                                   {"type": "day", "duration": 1}))
        total = sum(Decimal(d["salesExtendedPrice"]["amount"]) for d in details)
        stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
        order = {
            "id": str(first_id + i), "orderNumber": f"{prefix}{(first_id + i) % 10**7:07d}", "type": kind,
            "customerId": customer_id, "creationDate": stamp, "status": status,
            "total": {"amount": f"{total:.2f}", "currency": currency}, "details": details,
            "subscriptionId": subscription_id,
            "billingModel": "chargeAfterBillingPeriod" if prefix == "BO" else "chargeBeforeBillingPeriod",
            "products": [{"mpn": mpn, "name": name, "vendor": "Microsoft", "quantity": quantity,
                          "billingPeriod": period, "subscriptionPeriod": period,
                          "subscriptionId": subscription_id, "type": line_type}],
        }
        if status == "completed":
            order["provisioningDate"] = (created + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            order["statusCode"] = status
        result.append(order)
    return result


def _charge(kind: str, mpn: str, description: str, quantity: int, cost: str, price: str, currency: str,
            duration: dict) -> dict:
    cost_d, price_d = Decimal(cost), Decimal(price)
    return {"type": kind, "mpn": mpn, "description": description, "quantity": quantity, "duration": duration,
            "unitPrice": {"amount": cost, "currency": currency}, "salesUnitPrice": {"amount": price, "currency": currency},
            "extendedPrice": {"amount": f"{cost_d * quantity:.2f}", "currency": currency},
            "salesExtendedPrice": {"amount": f"{price_d * quantity:.2f}", "currency": currency}}
