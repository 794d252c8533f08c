"""Write demo_seed.json, the demo data in the seed format (docs/SEED.md).

    python local/cwsync_local/data/make_demo_seed.py          # rewrite the file
    python local/cwsync_local/data/make_demo_seed.py --check  # exit 1 if the file is stale

The data tells one story: a US reseller on 2026-11-25 whose marketplace took orders
between 2026-11-10 and 2026-11-24 (a first run's 30-day look-back picks them all up,
and none of the older orders behind the existing agreement additions). Each recent
order demonstrates one task type or one approval kind; docs/SEED.md has the table.
Everything is written out literally or computed here from a few tables, so changing
the demo is editing a row and running this script again.
"""
from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

from cwsync_local.data.demo_marketplace import VENDOR, marketplace

OUTPUT = Path(__file__).with_name("demo_seed.json")

# --- ConnectWise -----------------------------------------------------------------------------
BILLING_CYCLES = [(1, "M", "Monthly", True), (2, "Q", "Quarterly", False), (3, "S", "SemiAnnual", False),
                  (4, "Y", "Yearly", False)]
CURRENCIES = [(1, "USD", "US Dollar", "$"), (2, "EUR", "Euro", "€")]
AGREEMENT_TYPES = [(1, "Cloud Services"), (2, "Managed Services")]
# id, identifier, name, currency id, (contact id, first, last), links to which customer and how
COMPANIES = [
    (19300, "CloudDistributor", "Cloud Marketplace Distributor", 1, (800, "Vendor", "Desk")),  # catalog vendor
    (19301, "GreenLane", "GREEN LANE, L.L.C.", 1, (801, "Dana", "Whitfield")),  # name, legal suffix ignored
    (19302, "1000048532", "Blue Harbour Dental Group", 1, (802, "Marcus", "Reyes")),  # identifier = customer id
    (19303, "MullerFein", "Muller Feinmechanik", 2, (803, "Jana", "Muller")),  # name, accents folded
    (19304, "CedarStone", "Cedar and Stone Architects", 1, (804, "Owen", "Hale")),  # "&" read as "and"
    (19305, "RiversideVet", "Riverside Veterinary Clinic, Inc.", 1, (805, "Lucia", "Romero")),
    (19306, "AtelierLumiere", "Atelier Lumiere", 2, (806, "Camille", "Durand")),
    (19307, "NorthgateBakery", "Northgate Bakery Supply", 1, (807, "Tom", "Becker")),  # similar, never automatic
    (19310, "1000048538", "Quillfeather Translations", 1, (810, "Iris", "Okafor")),  # billed before cwsync
]
# id, company id, name, type id, billing cycle id, currency id, status
AGREEMENTS = [
    (3101, 19301, "Green Lane - Cloud Services", 1, 1, 1, "Active"),
    (3102, 19301, "Green Lane - Legacy Hosting", 2, 1, 1, "Cancelled"),
    (3201, 19302, "Blue Harbour - Cloud Services", 1, 1, 1, "Active"),
    (3301, 19303, "Muller - Jahreslizenzen", 1, 4, 2, "Active"),
    (3401, 19304, "Cedar and Stone - Cloud Services", 1, 1, 1, "Active"),
    (3402, 19304, "Cedar and Stone - Microsoft 365", 1, 1, 1, "Active"),
    (3501, 19305, "Riverside - Annual Software", 1, 4, 1, "Active"),
    (3601, 19306, "Atelier Lumiere - Services cloud", 1, 1, 1, "Active"),
    (3801, 19310, "Quillfeather - Cloud Services", 1, 1, 1, "Active"),
    (3802, 19310, "Quillfeather - Annual Licences", 1, 4, 1, "Active"),
    (3803, 19310, "Quillfeather - Old Hosting", 2, 1, 1, "Cancelled"),
]
# id, identifier, description, which field carries the MPN, mpn, price, cost, billing cycle id
COUNTRIES = [(1, "US", "United States"), (2, "DE", "Germany"), (3, "FR", "France"), (4, "GB", "United Kingdom")]
SUBCATEGORIES = [(11, "Cloud Licensing", 5), (12, "Backup", 5), (13, "Onboarding", 6)]
CATALOG = [
    (701, "M365-BB", "Microsoft 365 Business Basic", "manufacturerPartNumber", "M365-BUSBASIC-P1M", "6.00", "4.80", 1),
    (702, "EXO-P1", "Exchange Online (Plan 1)", "vendorSku", "EXO-PLAN1-P1M", "4.00", "3.20", 1),
    (703, "M365-BUSPREM-P1M", "Microsoft 365 Business Premium", "identifier", "M365-BUSPREM-P1M", "22.00", "17.60", 1),
    (704, "M365-E3", "Microsoft 365 E3", "manufacturerPartNumber", "M365-E3-P1M", "36.00", "28.80", 1),
    (705, "M365-BS-ANNUAL", "Microsoft 365 Business Standard (annual)", "manufacturerPartNumber",
     "M365-BUSSTD-P1Y", "150.00", "120.00", 4),
    (706, "BACKUP-100GB", "Cloud Backup Storage 100 GB", "manufacturerPartNumber", "BACKUP-STORAGE-P1M",
     "10.00", "8.00", 1),
    (707, "MSP-BACKUP", "Managed backup service", None, None, "150.00", "60.00", 1),  # the MSP's own service
]
# id, agreement id, catalog id, quantity, unit price, unit cost, effective date, tag (None: made by hand)
ADDITIONS = [
    (9001, 3101, 701, 10, "6.00", "4.80", "2026-03-02T00:00:00Z", "MP-SUB-101-SO000101"),
    (9002, 3101, 702, 5, "4.00", "3.20", "2026-04-06T00:00:00Z", "MP-SUB-102-SO000102"),
    (9003, 3101, 707, 1, "150.00", "60.00", "2025-01-01T00:00:00Z", None),
    (9004, 3201, 704, 8, "36.00", "28.80", "2026-05-11T00:00:00Z", "MP-SUB-201-SO000103"),
    (9005, 3201, 706, 1, "10.00", "8.00", "2026-06-01T00:00:00Z", "MP-SUB-202-SO000104"),
    (9006, 3301, 705, 15, "138.00", "110.40", "2025-12-01T00:00:00Z", "MP-SUB-301-SO000100"),
    # Quillfeather, as a reconciliation finds it (docs/SEED.md, "Reconciliation"):
    (9101, 3801, 701, 8, "5.50", "4.80", "2026-07-01T00:00:00Z", "MP-SUB-801-SO000090"),    # unit price differs
    (9102, 3801, 702, 10, "4.00", "3.00", "2026-07-15T00:00:00Z", "MP-SUB-802-SO000091"),   # unit cost differs
    (9103, 3802, 704, 2, "36.00", "28.80", "2026-08-01T00:00:00Z", "MP-SUB-803-SO000092"),  # on the Yearly agreement
    (9104, 3803, 703, 4, "22.00", "17.60", "2026-05-01T00:00:00Z", "MP-SUB-804-SO000093"),  # on a cancelled agreement
    (9105, 3801, 701, 3, "6.00", "4.80", "2026-09-01T00:00:00Z", "MP-SUB-805-SO000094"),
    (9106, 3801, 701, 3, "6.00", "4.80", "2026-09-01T00:00:00Z", "MP-SUB-805-SO000094-2"),  # billed twice
    (9107, 3801, 702, 6, "4.00", "3.20", "2025-11-01T00:00:00Z", None),                     # typed by hand: adopt
]
ADJUSTMENTS = [
    (9501, 3101, "75.00", "Setup fee: Microsoft 365 Business Basic (MP-SUB-101-SO000101)", "2026-03-02T00:00:00Z"),
]


# --- ConnectWise builders --------------------------------------------------------------------
def currency_record(currency_id: int) -> dict:
    """A `/finance/currencies` record: its `currencyCode` is a reference object `{id, name}`."""
    cid, code, name, symbol = next(c for c in CURRENCIES if c[0] == currency_id)
    return {"id": cid, "currencyIdentifier": code, "name": name, "symbol": symbol,
            "currencyCode": {"id": cid, "name": code}}


def _currency(currency_id: int) -> dict:
    """A `CurrencyReference` (on agreements and companies): its `currencyCode` is the code itself."""
    cid, code, name, symbol = next(c for c in CURRENCIES if c[0] == currency_id)
    return {"id": cid, "symbol": symbol, "currencyCode": code, "currencyIdentifier": code, "name": name}


def _cycle(cycle_id: int) -> dict:
    return {"id": cycle_id, "name": next(c[2] for c in BILLING_CYCLES if c[0] == cycle_id)}


def _company_ref(company_id: int) -> dict:
    cid, identifier, name, *_ = next(c for c in COMPANIES if c[0] == company_id)
    return {"id": cid, "identifier": identifier, "name": name}


def company(cid, identifier, name, currency_id, contact) -> dict:
    vendor = cid == 19300
    return {"id": cid, "identifier": identifier, "name": name, "status": {"id": 1, "name": "Active"},
            "addressLine1": "1 Main Street", "city": "Philadelphia", "state": "PA", "zip": "19107",
            "country": {"id": 1, "name": "United States"}, "phoneNumber": "2155550100",
            "types": [{"id": 2, "name": "Vendor"} if vendor else {"id": 1, "name": "Client"}],
            "defaultContact": {"id": contact[0], "name": f"{contact[1]} {contact[2]}"},
            "site": {"id": cid * 10, "name": "Main"}, "currency": _currency(currency_id),
            "deletedFlag": False, "isVendorFlag": vendor, "leadFlag": False}


def contact(company_row) -> dict:
    cid, _, _, _, (contact_id, first, last) = company_row
    email = f"{first.lower()}.{last.lower()}@{company_row[1].lower()}.example"
    return {"id": contact_id, "firstName": first, "lastName": last, "company": _company_ref(cid),
            "inactiveFlag": False, "defaultFlag": True, "defaultBillingFlag": True,
            "communicationItems": [{"id": contact_id * 10, "type": {"id": 1, "name": "Email"}, "value": email,
                                    "defaultFlag": True, "communicationType": "Email"}]}


def agreement(aid, company_id, name, type_id, cycle_id, currency_id, status) -> dict:
    contact_row = next(c for c in COMPANIES if c[0] == company_id)[4]
    monthly_total = sum(Decimal(a[4]) * a[3] for a in ADDITIONS if a[1] == aid)
    record = {"id": aid, "name": name, "type": {"id": type_id, "name": dict(AGREEMENT_TYPES)[type_id]},
              "company": _company_ref(company_id), "contact": {"id": contact_row[0],
                                                               "name": f"{contact_row[1]} {contact_row[2]}"},
              "agreementStatus": status, "cancelledFlag": status == "Cancelled",
              "startDate": "2025-01-01T00:00:00Z", "noEndingDateFlag": True, "billingCycle": _cycle(cycle_id),
              "currency": _currency(currency_id), "billAmount": float(monthly_total), "billOneTimeFlag": False,
              "oneTimeFlag": False, "prorateFlag": True, "prorateFirstBill": 0.0,
              "invoiceProratedAdditionsFlag": True, "billStartDate": "2025-01-01T00:00:00Z",
              "nextInvoiceDate": "2026-12-01T00:00:00Z", "taxable": False, "billProducts": "Billable"}
    if status == "Cancelled":
        record.update(dateCancelled="2026-06-30T00:00:00Z", reasonCancelled="Hosting moved to the cloud",
                      endDate="2026-06-30T00:00:00Z", noEndingDateFlag=False)
    return record


def catalog_item(cid, identifier, description, mpn_field, mpn, price, cost, cycle_id) -> dict:
    record = {"id": cid, "identifier": identifier, "description": description, "inactiveFlag": False,
              "subcategory": {"id": 11, "name": "Cloud Licensing"}, "type": {"id": 3, "name": "Subscription"},
              "productClass": "NonInventory", "unitOfMeasure": {"id": 1, "name": "Each"},
              "price": float(price), "cost": float(cost), "taxableFlag": False,
              "customerDescription": description, "category": {"id": 5, "name": "Software"},
              "recurringFlag": True, "recurringRevenue": float(price), "recurringCost": float(cost),
              "recurringBillCycle": _cycle(cycle_id), "billableOption": "Billable"}
    if mpn:
        record.update(manufacturer={"id": 1, "name": VENDOR}, vendor=_company_ref(19300))
    if mpn_field in ("manufacturerPartNumber", "vendorSku"):
        record[mpn_field] = mpn
    return record


def addition(aid, agreement_id, catalog_id, quantity, price, cost, effective, tag) -> dict:
    item = next(c for c in CATALOG if c[0] == catalog_id)
    price, cost = Decimal(price), Decimal(cost)
    record = {"id": aid, "agreementId": agreement_id, "product": {"id": catalog_id, "identifier": item[1]},
              "quantity": quantity, "lessIncluded": 0, "unitPrice": float(price), "unitCost": float(cost),
              "billCustomer": "Billable", "effectiveDate": effective, "taxableFlag": False,
              "description": item[2], "invoiceDescription": item[2], "purchaseItemFlag": False,
              "specialOrderFlag": False, "uom": "Each", "extPrice": float(price * quantity),
              "extCost": float(cost * quantity), "margin": float((price - cost) * quantity),
              "agreementStatus": "Active", "prorateCurrentPeriodFlag": True, "sequenceNumber": float(aid % 100)}
    if tag:
        record["serialNumber"] = tag
    return record


def connectwise() -> dict:
    return {
        "companyTypes": [{"id": 1, "name": "Client", "defaultFlag": True, "vendorFlag": False},
                         {"id": 2, "name": "Vendor", "defaultFlag": False, "vendorFlag": True}],
        "companyStatuses": [{"id": 1, "name": "Active", "defaultFlag": True, "inactiveFlag": False},
                            {"id": 2, "name": "Inactive", "defaultFlag": False, "inactiveFlag": True}],
        "countries": [{"id": cid, "name": name, "countryCode": code, "defaultFlag": cid == 1,
                       "currency": {"id": 2 if code in ("DE", "FR") else 1}} for cid, code, name in COUNTRIES],
        "companies": [company(*row) for row in COMPANIES],
        "contacts": [contact(row) for row in COMPANIES],
        "productCategories": [{"id": 5, "name": "Software", "defaultFlag": True, "inactiveFlag": False},
                              {"id": 6, "name": "Services", "defaultFlag": False, "inactiveFlag": False}],
        "productSubcategories": [{"id": sid, "name": name, "category": {"id": category}, "defaultFlag": sid == 11,
                                  "inactiveFlag": False} for sid, name, category in SUBCATEGORIES],
        "productTypes": [{"id": 3, "name": "Subscription", "defaultFlag": True, "inactiveFlag": False},
                         {"id": 4, "name": "Licence", "defaultFlag": False, "inactiveFlag": False}],
        "catalog": [catalog_item(*row) for row in CATALOG],
        "agreementTypes": [{"id": tid, "name": name, "defaultFlag": tid == 1, "inactiveFlag": False,
                            "employeeCompRate": "Actual", "employeeCompNotExceed": "Billing",
                            "invoicingCycle": "ContractYear", "billTime": "Billable", "billExpenses": "Billable",
                            "billProducts": "Billable", "prorateFlag": True, "invoiceProratedAdditionsFlag": True}
                           for tid, name in AGREEMENT_TYPES],
        "agreements": [agreement(*row) for row in AGREEMENTS],
        "additions": [addition(*row) for row in ADDITIONS],
        "adjustments": [{"id": aid, "agreementId": agreement_id, "amount": float(amount), "description": text,
                         "effectiveDate": effective} for aid, agreement_id, amount, text, effective in ADJUSTMENTS],
        "billingCycles": [{"id": cid, "identifier": ident, "name": name, "defaultFlag": default,
                           "billingOptions": name} for cid, ident, name, default in BILLING_CYCLES],
        "currencies": [currency_record(cid) for cid, *_ in CURRENCIES],
    }


def render(connectwise_records: dict | None = None) -> str:
    """A seed file's text: the demo marketplace beside `connectwise_records` (the demo's by
    default; the real-shaped and vendor-full scripts give theirs)."""
    records = connectwise() if connectwise_records is None else connectwise_records
    data = {"marketplace": marketplace(), "connectwise": records}
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def write_or_check(output: Path, text: str, arguments: list[str]) -> int:
    """Write `text` to `output`, or with `--check` say whether the committed file is stale (exit 1)."""
    if "--check" in arguments:
        stale = not output.exists() or output.read_text(encoding="utf-8") != text
        print(f"{output} is {'stale: run this script' if stale else 'up to date'}")
        return 1 if stale else 0
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(write_or_check(OUTPUT, render(), sys.argv[1:]))
