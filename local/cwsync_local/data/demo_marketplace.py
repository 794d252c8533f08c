"""The demo data's marketplace half: customers, products, subscriptions and orders (docs/SEED.md).

Used by make_demo_seed.py (which writes demo_seed.json) and by make_real_seed.py.
"""
from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_UP, Decimal

RESELLER_ID = "1000000100"
VENDOR = "Microsoft"
MONTH = {"type": "month", "duration": 1}
YEAR = {"type": "year", "duration": 1}

# --- marketplace -------------------------------------------------------------------------
# id, name, externalId, country, currency, language, contact (first, last)
CUSTOMERS = [
    ("1000048531", "Green Lane LLC", "GL-0042", "US", "USD", "en", ("Dana", "Whitfield")),
    ("1000048532", "Blue Harbor Dental Inc.", None, "US", "USD", "en", ("Marcus", "Reyes")),
    ("1000048533", "Müller Feinmechanik GmbH", "DE-77120", "DE", "EUR", "de", ("Jana", "Müller")),
    ("1000048534", "Northwind Bakery Ltd", None, "US", "USD", "en", ("Priya", "Natarajan")),
    ("1000048535", "Cedar & Stone Architects LLP", None, "US", "USD", "en", ("Owen", "Hale")),
    ("1000048536", "Riverside Veterinary Clinic Inc.", None, "US", "USD", "en", ("Lucia", "Romero")),
    ("1000048537", "Atelier Lumière SARL", None, "FR", "EUR", "fr", ("Camille", "Durand")),
    # Billed since before cwsync: its ConnectWise additions show every kind of reconciliation difference.
    ("1000048538", "Quillfeather Translations Ltd", None, "US", "USD", "en", ("Iris", "Okafor")),
]
ADDRESSES = {
    "US": ("1200 Market Street", "19107", "Philadelphia", "PA"),
    "DE": ("Industriestraße 14", "70565", "Stuttgart", "BW"),
    "FR": ("18 rue des Lilas", "69003", "Lyon", None),
}

# mpn -> id, name, billing period, billing model, {currency: (unit cost, unit price)},
#        setup fee (cost, price) or None, overuse per unit (cost, price) or None
PRODUCTS = {
    "M365-BUSBASIC-P1M": ("2001", "Microsoft 365 Business Basic", MONTH, "chargeBeforeBillingPeriod",
                          {"USD": ("4.80", "6.00"), "EUR": ("4.60", "5.60")}, None, None),
    "M365-BUSSTD-P1Y": ("2002", "Microsoft 365 Business Standard (annual)", YEAR, "chargeBeforeBillingPeriod",
                        {"USD": ("120.00", "150.00"), "EUR": ("110.40", "138.00")}, None, None),
    "M365-BUSPREM-P1M": ("2003", "Microsoft 365 Business Premium", MONTH, "chargeBeforeBillingPeriod",
                         {"USD": ("17.60", "22.00"), "EUR": ("16.90", "20.60")}, ("50.00", "75.00"), None),
    "EXO-PLAN1-P1M": ("2004", "Exchange Online (Plan 1)", MONTH, "chargeBeforeBillingPeriod",
                      {"USD": ("3.20", "4.00"), "EUR": ("3.10", "3.80")}, None, None),
    "M365-E3-P1M": ("2005", "Microsoft 365 E3", MONTH, "chargeBeforeBillingPeriod",
                    {"USD": ("28.80", "36.00"), "EUR": ("27.70", "33.80")}, None, None),
    "BACKUP-STORAGE-P1M": ("2006", "Cloud Backup Storage (100 GB included)", MONTH, "chargeAfterBillingPeriod",
                           {"USD": ("8.00", "10.00"), "EUR": ("7.50", "9.40")}, None, ("0.04", "0.06")),
    "TEAMS-PREMIUM-P1M": ("2007", "Microsoft Teams Premium", MONTH, "chargeBeforeBillingPeriod",
                          {"USD": ("8.00", "10.00"), "EUR": ("7.50", "9.40")}, None, None),
}
CANCELLATION_FEE = ("20.00", "40.00")  # cost, price of ending an E3 term early

# Orders in creation order. Each: number, type, customer, subscription, mpn, quantity,
# created, and what is special about it. Subscription ids are strings, as on the marketplace.
HISTORY = [  # older than the 30-day look-back: they explain the existing additions
    ("SO000100", "sales", "1000048533", "SUB-301", "M365-BUSSTD-P1Y", 15, "2025-12-01T08:30:00Z", {}),
    ("SO000101", "sales", "1000048531", "SUB-101", "M365-BUSBASIC-P1M", 10, "2026-03-02T14:05:00Z", {"setup": True}),
    ("SO000102", "sales", "1000048531", "SUB-102", "EXO-PLAN1-P1M", 5, "2026-04-06T09:40:00Z", {}),
    ("SO000103", "sales", "1000048532", "SUB-201", "M365-E3-P1M", 8, "2026-05-11T16:20:00Z", {}),
    ("SO000104", "sales", "1000048532", "SUB-202", "BACKUP-STORAGE-P1M", 1, "2026-06-01T07:00:00Z", {}),
    # Quillfeather's subscriptions (docs/SEED.md, "Reconciliation"): each differs from ConnectWise in one way.
    ("SO000090", "sales", "1000048538", "SUB-801", "M365-BUSBASIC-P1M", 8, "2026-07-01T09:00:00Z", {}),
    ("SO000091", "sales", "1000048538", "SUB-802", "EXO-PLAN1-P1M", 10, "2026-07-15T09:00:00Z", {}),
    ("SO000092", "sales", "1000048538", "SUB-803", "M365-E3-P1M", 2, "2026-08-01T09:00:00Z", {}),
    ("SO000093", "sales", "1000048538", "SUB-804", "M365-BUSPREM-P1M", 4, "2026-08-15T09:00:00Z", {}),
    ("SO000094", "sales", "1000048538", "SUB-805", "M365-BUSBASIC-P1M", 3, "2026-09-01T09:00:00Z", {}),
    ("SO000095", "sales", "1000048538", "SUB-806", "EXO-PLAN1-P1M", 6, "2026-09-15T09:00:00Z", {}),
]
RECENT = [
    ("BO000110", "unknown", "1000048532", "SUB-202", "BACKUP-STORAGE-P1M", 1, "2026-11-10T02:00:00Z",
     {"billing": {"overuse": 38, "from": "2026-10-01", "to": "2026-11-01"}}),
    ("SO000111", "migration", "1000048533", "SUB-302", "EXO-PLAN1-P1M", 20, "2026-11-11T10:15:00Z", {}),
    ("SO000112", "sales", "1000048531", "SUB-104", "M365-BUSPREM-P1M", 10, "2026-11-12T09:14:05Z", {"setup": True}),
    ("SO000113", "sales", "1000048531", "SUB-105", "TEAMS-PREMIUM-P1M", 5, "2026-11-13T11:02:40Z", {}),
    ("SO000114", "sales", "1000048534", "SUB-401", "M365-BUSBASIC-P1M", 6, "2026-11-14T15:45:00Z", {}),
    ("RN000115", "renewal", "1000048533", "SUB-301", "M365-BUSSTD-P1Y", 15, "2026-11-15T00:10:00Z",
     {"renew": {"from": "2026-12-01", "to": "2027-12-01"}}),
    ("CH000116", "change", "1000048531", "SUB-101", "M365-BUSBASIC-P1M", 12, "2026-11-17T10:02:11Z",
     {"change": {"was": 10}}),
    ("SO000117", "sales", "1000048535", "SUB-501", "M365-BUSPREM-P1M", 4, "2026-11-18T13:30:00Z", {}),
    ("CH000118", "change", "1000048531", "SUB-102", "EXO-PLAN1-P1M", 3, "2026-11-19T08:25:30Z",
     {"change": {"was": 5}}),
    ("CL000119", "cancellation", "1000048532", "SUB-201", "M365-E3-P1M", 8, "2026-11-20T17:50:00Z", {"cancel": True}),
    ("SO000120", "sales", "1000048536", "SUB-601", "EXO-PLAN1-P1M", 12, "2026-11-21T12:00:00Z", {}),
    ("SO000121", "sales", "1000048537", "SUB-701", "M365-BUSBASIC-P1M", 3, "2026-11-22T09:05:00Z", {}),
    ("SO000122", "sales", "1000048536", "SUB-602", "M365-BUSBASIC-P1M", 2, "2026-11-24T16:40:00Z",
     {"status": "processing"}),
]
# What each subscription looks like now (after the recent orders).
SUBSCRIPTION_STATUS = {"SUB-201": "terminated", "SUB-602": "pending"}


def money(value: Decimal | str, currency: str) -> dict:
    amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return {"amount": str(amount), "currency": currency}


def charge(kind: str, mpn: str, description: str, quantity, cost, price, currency: str, duration: dict) -> dict:
    """A charge line (details[]): unitPrice is the reseller's cost, salesUnitPrice the customer's price."""
    quantity, cost, price = Decimal(quantity), Decimal(cost), Decimal(price)
    return {"type": kind, "mpn": mpn, "productId": PRODUCTS[mpn][0], "description": description,
            "quantity": float(quantity) if quantity % 1 else int(quantity),
            "duration": duration, "unitPrice": money(cost, currency), "salesUnitPrice": money(price, currency),
            "extendedPrice": money(quantity * cost, currency), "salesExtendedPrice": money(quantity * price, currency)}


def prorated(amount: str, days_left: int, days: int) -> Decimal:
    return (Decimal(amount) * days_left / days).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def order(number, kind, customer_id, subscription_id, mpn, quantity, created, special) -> dict:
    product_id, name, period, model, prices, setup, overuse = PRODUCTS[mpn]
    currency = next(c[4] for c in CUSTOMERS if c[0] == customer_id)
    cost, price = prices[currency]
    line_type = {"sales": "CREATE", "change": "UPGRADE", "renewal": "RENEW", "cancellation": "CANCEL",
                 "migration": "MIGRATION"}.get(kind, "CREATE")
    day = created[:10]
    details, dates = [], {}
    if "billing" in special:  # usage billed after the period: the base fee plus storage over the allowance
        usage = special["billing"]
        line_type = "BILLING_SUBSCRIPTION"
        dates = {"lastBillingDate": usage["from"], "nextBillingDate": usage["to"]}
        details.append(charge("recurring", mpn, f"{name}, {usage['from']} to 2026-10-31", quantity, cost, price,
                              currency, MONTH))
        details.append(charge("overuse", mpn, f"Storage over the 100 GB included: {usage['overuse']} GB",
                              usage["overuse"], *overuse, currency, MONTH))
    elif "change" in special:  # the added or removed licences, prorated to the end of November
        was, days_left = special["change"]["was"], 30 - int(day[8:]) + 1
        dates = {"lastBillingDate": "2026-11-01", "nextBillingDate": "2026-12-01"}
        delta = quantity - was
        span = {"type": "day", "duration": days_left}
        if delta > 0:
            details.append(charge("recurring", mpn, f"{name}: {delta} more licences from {day} to 2026-11-30",
                                  delta, prorated(cost, days_left, 30), prorated(price, days_left, 30), currency, span))
        else:
            details.append(charge("downgrade", mpn, f"{name}: {-delta} fewer licences, credit {day} to 2026-11-30",
                                  -delta, -prorated(cost, days_left, 30), -prorated(price, days_left, 30),
                                  currency, span))
    elif "renew" in special:
        renew = special["renew"]
        dates = {"lastBillingDate": renew["from"], "nextBillingDate": renew["to"]}
        details.append(charge("renew", mpn, f"{name}, renewal {renew['from']} to 2027-11-30", quantity, cost, price,
                              currency, period))
    elif special.get("cancel"):
        details.append(charge("cancellation", mpn, f"{name}: early cancellation fee", 1, *CANCELLATION_FEE,
                              currency, {"type": "month", "duration": 1}))
    else:  # a new subscription: the first period in advance, plus any setup fee
        details.append(charge("recurring", mpn, f"{name}, first {period['type']}", quantity, cost, price,
                              currency, period))
        if special.get("setup") and setup is None:
            setup = ("0.00", "75.00")  # a setup fee the reseller adds on top of the plan
        if special.get("setup"):
            details.append(charge("setup", mpn, f"{name}: onboarding and setup (one-time)", 1, *setup, currency,
                                  {"type": "day", "duration": 1}))
    status = special.get("status", "completed")
    total = sum(Decimal(d["salesExtendedPrice"]["amount"]) for d in details)
    record = {
        "id": "5" + number[2:].rjust(6, "0"), "orderNumber": number, "type": kind, "customerId": customer_id,
        "creationDate": created, "status": status, "total": money(total, currency), "details": details,
        "subscriptionId": subscription_id, "billingModel": model,
        "products": [{"mpn": mpn, "id": product_id, "vendor": VENDOR, "name": name, "quantity": quantity,
                      "billingPeriod": period, "subscriptionPeriod": period, "subscriptionId": subscription_id,
                      "type": line_type}],
        **dates,
    }
    if status == "completed":
        record["provisioningDate"] = created[:-1].rsplit(":", 1)[0] + ":59Z"  # done within the minute
    else:
        record["statusCode"] = "provisioning"
    return record


def customer(cid, name, external_id, country, currency, language, person) -> dict:
    street, postal, city, state = ADDRESSES[country]
    address = {"streetAddress": street, "postalCode": postal, "city": city, "countryCode": country}
    if state:
        address["state"] = state
    folded = unicodedata.normalize("NFKD", name.split()[0].lower())
    slug = "".join(ch for ch in folded if ch.isascii() and ch.isalpha())
    record = {"id": cid, "name": name, "status": "active", "language": language, "resellerId": RESELLER_ID,
              "address": address, "attributes": {"currency": currency},
              "contactPersons": [{"type": "admin", "firstName": person[0], "lastName": person[1],
                                  "email": f"{person[0].lower()}@{slug}.example", "phoneNumber": "+1 215 555 0100"}]}
    if external_id:
        record["externalId"] = external_id
    return record


def product(mpn: str) -> dict:
    product_id, name, period, model, prices, setup, overuse = PRODUCTS[mpn]
    prices_list, costs = [], []
    for currency, (cost, price) in prices.items():
        for kind, pair in (("recurring", (cost, price)), ("setup", setup), ("overuse", overuse)):
            if pair:
                costs.append({**money(pair[0], currency), "type": kind, "model": "FLAT"})
                prices_list.append({**money(pair[1], currency), "type": kind, "model": "FLAT"})
    return {"id": product_id, "mpn": mpn, "vendor": VENDOR, "name": name, "serviceName": "Microsoft 365",
            "minimumQuantity": "1", "maximumQuantity": "300", "billingPeriod": period, "subscriptionPeriod": period,
            "billingModel": model, "prices": prices_list, "costs": costs}


def subscriptions(orders: list[dict]) -> list[dict]:
    """Each subscription as it stands after its latest order."""
    latest: dict[str, dict] = {}
    first: dict[str, dict] = {}
    for o in orders:
        first.setdefault(o["subscriptionId"], o)
        if o["type"] != "unknown":  # a billing order does not change the subscription
            latest[o["subscriptionId"]] = o
    result = []
    for sid, o in latest.items():
        line = o["products"][0]
        product_id, name, period, model, prices, _, _ = PRODUCTS[line["mpn"]]
        currency = o["total"]["currency"]
        cost, price = prices[currency]
        created = first[sid]["creationDate"][:10]
        years = 1 if period["type"] == "year" else 0
        renewal = f"{int(created[:4]) + years + 1}-{created[5:]}" if years else "2026-12-01"
        result.append({
            "id": sid, "name": name, "customerId": o["customerId"],
            "status": SUBSCRIPTION_STATUS.get(sid, "active"), "renewalStatus": o["type"] != "cancellation",
            "creationDate": created, "renewalDate": renewal, "expirationDate": renewal,
            "lastModifiedDate": o["creationDate"][:10], "billingModel": model,
            "billingPeriod": period, "subscriptionPeriod": period,
            "totalPrice": money(Decimal(price) * line["quantity"], currency),
            "products": [{"mpn": line["mpn"], "id": product_id, "vendor": VENDOR, "name": name,
                          "quantity": line["quantity"], "unitPrice": money(price, currency),
                          "unitCost": money(cost, currency)}],
        })
    return sorted(result, key=lambda s: s["id"])


def marketplace() -> dict:
    orders = [order(*row) for row in HISTORY + RECENT]
    return {"customers": [customer(*row) for row in CUSTOMERS], "products": [product(mpn) for mpn in PRODUCTS],
            "subscriptions": subscriptions(orders), "orders": orders}
