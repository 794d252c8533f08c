"""Seeds for reconciliation: subscriptions that existed before cwsync, and ConnectWise as a
billing person left it (docs/RECONCILIATION.md).

- `kinds_seed(today)`: one customer per kind of difference (and one in step), each with
  its own company and Monthly USD agreement; `KIND_SUBSCRIPTIONS` says which is which.
- `onboarding_seed(today, subscriptions=200, hand_made=150)`: a first connection: every
  subscription pre-exists, `hand_made` of them are billed by additions typed by hand
  (no ownership tag), the rest are not billed at all.
- `scale_seed(today, subscriptions=5000)`: the benchmark's data, four subscriptions per
  customer, mostly in step, some of every simple kind.

Reference records (billing cycles, currencies, agreement types, catalog, products) and the
record shapes come from the demo seed, so they follow its corrections.
"""
from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path

DEMO = Path(__file__).with_name("demo_seed.json")
# The records companies and catalog items point at (status, country, type, category, ...), as the demo has them.
REFERENCE_COLLECTIONS = ("companyTypes", "companyStatuses", "countries", "productCategories", "productSubcategories",
                         "productTypes")
BASIC = ("M365-BUSBASIC-P1M", 701, "M365-BB", "Microsoft 365 Business Basic", "6.00", "4.80")
E3 = ("M365-E3-P1M", 704, "M365-E3", "Microsoft 365 E3", "36.00", "28.80")
MONTHLY, YEARLY = {"id": 1, "name": "Monthly"}, {"id": 4, "name": "Yearly"}
LONG_AGO = "2026-01-01T00:00:00Z"
KIND_SUBSCRIPTIONS = {
    "in_step": "SUB-K00", "not_billed": "SUB-K01", "still_billed": "SUB-K02", "quantity_differs": "SUB-K03",
    "unit_price_differs": "SUB-K04", "unit_cost_differs": "SUB-K05", "wrong_agreement": "SUB-K06",
    "cancelled_agreement": "SUB-K07", "billed_twice": "SUB-K08", "adopt_candidate": "SUB-K09",
}


def first_of_next_month(today: date) -> date:
    return (today.replace(day=1) + timedelta(days=32)).replace(day=1)


class SeedBuilder:
    def __init__(self, today: date):
        self.demo = json.loads(DEMO.read_text(encoding="utf-8"))
        self.today = today
        self.next_invoice = f"{first_of_next_month(today).isoformat()}T00:00:00Z"
        cw, mp = self.demo["connectwise"], self.demo["marketplace"]
        self.seed = {
            "marketplace": {"customers": [], "products": copy.deepcopy(mp["products"]), "subscriptions": [],
                            "orders": []},
            "connectwise": {**{name: copy.deepcopy(cw.get(name, [])) for name in REFERENCE_COLLECTIONS},
                            "companies": [], "contacts": [],
                            "catalog": copy.deepcopy(cw["catalog"]),
                            "agreementTypes": copy.deepcopy(cw["agreementTypes"]), "agreements": [],
                            "additions": [], "adjustments": [], "billingCycles": copy.deepcopy(cw["billingCycles"]),
                            "currencies": copy.deepcopy(cw["currencies"])},
        }
        self._shapes = {"customer": mp["customers"][0], "subscription": mp["subscriptions"][0],
                        "company": cw["companies"][1], "agreement": cw["agreements"][0],
                        "addition": cw["additions"][0], "contact": cw["contacts"][1]}
        self._ids = {"company": 50000, "agreement": 60000, "addition": 70000, "contact": 80000}
        self._contacts: dict[int, int] = {}
        self._company_refs: dict[int, dict] = {}

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def customer(self, number: int) -> tuple[str, int]:
        """A marketplace customer and its ConnectWise company (identifier = the customer id)."""
        customer_id = f"20000{number:05d}"
        name = f"Reconcile Customer {number:05d} LLC"
        record = copy.deepcopy(self._shapes["customer"])
        record.update({"id": customer_id, "name": name, "externalId": None})
        record.pop("externalId")
        self.seed["marketplace"]["customers"].append(record)
        company_id = self._next("company")
        company = copy.deepcopy(self._shapes["company"])
        company.update({"id": company_id, "identifier": customer_id, "name": name})
        contact_id = self._next("contact")
        company["defaultContact"] = {"id": contact_id, "name": "Billing Desk"}
        self.seed["connectwise"]["companies"].append(company)
        ref = {"id": company_id, "identifier": customer_id, "name": name}
        contact = copy.deepcopy(self._shapes["contact"])
        contact.update({"id": contact_id, "firstName": "Billing", "lastName": "Desk", "company": dict(ref)})
        for number, item in enumerate(contact.get("communicationItems") or []):
            item.update({"id": contact_id * 10 + number, "value": f"billing{company_id}@example.com"})
        self.seed["connectwise"]["contacts"].append(contact)
        self._contacts[company_id], self._company_refs[company_id] = contact_id, ref
        return customer_id, company_id

    def agreement(self, company_id: int, *, cycle=MONTHLY, status="Active") -> int:
        agreement_id = self._next("agreement")
        record = copy.deepcopy(self._shapes["agreement"])
        record.update({"id": agreement_id, "name": f"Cloud Services {agreement_id}", "agreementStatus": status,
                       "cancelledFlag": status == "Cancelled", "billingCycle": dict(cycle),
                       "company": dict(self._company_refs[company_id]),
                       "contact": {"id": self._contacts[company_id], "name": "Billing Desk"},
                       "nextInvoiceDate": self.next_invoice})
        self.seed["connectwise"]["agreements"].append(record)
        return agreement_id

    def subscription(self, sub_id: str, customer_id: str, product=BASIC, quantity: int = 10, *,
                     status: str = "active") -> None:
        mpn, _, _, name, price, cost = product
        record = copy.deepcopy(self._shapes["subscription"])
        total = f"{int(quantity) * float(price):.2f}"
        record.update({"id": sub_id, "name": name, "customerId": customer_id, "status": status,
                       "creationDate": "2026-01-01", "lastModifiedDate": (self.today - timedelta(days=3)).isoformat(),
                       "totalPrice": {"amount": total, "currency": "USD"},
                       "products": [{"mpn": mpn, "id": "2001", "vendor": "Microsoft", "name": name,
                                     "quantity": quantity, "unitPrice": {"amount": price, "currency": "USD"},
                                     "unitCost": {"amount": cost, "currency": "USD"}}]})
        self.seed["marketplace"]["subscriptions"].append(record)

    def addition(self, agreement_id: int, product=BASIC, quantity: int = 10, *, tag: str | None = None,
                 price: str | None = None, cost: str | None = None, effective: str = LONG_AGO) -> int:
        _, catalog_id, identifier, name, list_price, list_cost = product
        addition_id = self._next("addition")
        record = copy.deepcopy(self._shapes["addition"])
        unit_price, unit_cost = float(price or list_price), float(cost or list_cost)
        record.update({"id": addition_id, "agreementId": agreement_id,
                       "product": {"id": catalog_id, "identifier": identifier}, "quantity": quantity,
                       "unitPrice": unit_price, "unitCost": unit_cost, "effectiveDate": effective,
                       "description": name, "invoiceDescription": name,
                       "extPrice": round(quantity * unit_price, 2), "extCost": round(quantity * unit_cost, 2),
                       "margin": round(quantity * (unit_price - unit_cost), 2)})
        record.pop("cancelledDate", None)
        if tag:
            record["serialNumber"] = tag
        else:
            record.pop("serialNumber", None)
        self.seed["connectwise"]["additions"].append(record)
        return addition_id


def kinds_seed(today: date) -> dict:
    """One customer per kind of difference, numbered as in KIND_SUBSCRIPTIONS."""
    b = SeedBuilder(today)
    for number, (kind, sub) in enumerate(KIND_SUBSCRIPTIONS.items()):
        customer, company = b.customer(number)
        monthly = b.agreement(company)
        tag = f"MP-{sub}-SO{number:06d}"
        b.subscription(sub, customer, status="terminated" if kind == "still_billed" else "active")
        if kind == "in_step" or kind == "still_billed":
            b.addition(monthly, tag=tag)
        elif kind == "quantity_differs":
            b.addition(monthly, quantity=8, tag=tag)  # invoiced already: ended and replaced, never patched
        elif kind == "unit_price_differs":
            b.addition(monthly, tag=tag, price="5.50", effective=b.next_invoice)  # not invoiced: patched
        elif kind == "unit_cost_differs":
            b.addition(monthly, tag=tag, cost="4.00", effective=b.next_invoice)
        elif kind == "wrong_agreement":
            b.addition(b.agreement(company, cycle=YEARLY), tag=tag)
        elif kind == "cancelled_agreement":
            b.addition(b.agreement(company, status="Cancelled"), tag=tag)
        elif kind == "billed_twice":
            b.addition(monthly, tag=tag)
            b.addition(monthly, tag=f"MP-{sub}-CH{number:06d}")
        elif kind == "adopt_candidate":
            b.addition(monthly)
    return b.seed


def onboarding_seed(today: date, subscriptions: int = 200, hand_made: int = 150) -> dict:
    """A first connection: four subscriptions per customer, `hand_made` billed by untagged additions."""
    b = SeedBuilder(today)
    company = customer = agreement = None
    for number in range(subscriptions):
        if number % 4 == 0:
            customer, company = b.customer(number // 4)
            agreement = b.agreement(company)
        product = BASIC if number % 2 == 0 else E3
        quantity = 5 + number % 7
        b.subscription(f"SUB-ON{number:05d}", customer, product, quantity)
        if number < hand_made:
            b.addition(agreement, product, quantity)
    return b.seed


def scale_seed(today: date, subscriptions: int = 5000) -> dict:
    """The benchmark's data: six in ten in step; the rest not billed, wrong quantity, wrong price or billed twice."""
    b = SeedBuilder(today)
    customer = agreement = None
    for number in range(subscriptions):
        if number % 4 == 0:
            customer, company = b.customer(number // 4)
            agreement = b.agreement(company)
        sub = f"SUB-SC{number:05d}"
        b.subscription(sub, customer, BASIC, 10)
        variant = number % 10
        tag = f"MP-{sub}-SO{number:06d}"
        if variant == 1:
            continue  # not billed
        b.addition(agreement, BASIC, 8 if variant == 2 else 10, tag=tag, price="5.50" if variant == 3 else None)
        if variant == 4:
            b.addition(agreement, BASIC, 10, tag=f"MP-{sub}-CH{number:06d}")  # billed twice
    return b.seed
