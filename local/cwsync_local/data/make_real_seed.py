"""Write real_seed.json, the demo story with ConnectWise records shaped like a real tenant's.

    python local/cwsync_local/data/make_real_seed.py          # rewrite the file
    python local/cwsync_local/data/make_real_seed.py --check  # exit 1 if the file is stale

The marketplace and the orders are the demo's (docs/SEED.md, "Which order shows what"), so
every task type and approval kind, USD and EUR, monthly and annual are there and end the same
way. The ConnectWise side is what a tenant really answers, built from the vendor's generated
models (`pyconnectwise.models.manage`, and the fields newer API versions add):

- full records: the fields an MSP's tenant fills in (agreement billing options, terms,
  locations, departments, tax codes, custom fields with and without values, `_info` audit
  fields with `*_href` links), references carrying `_info` of their own;
- currencies as `/finance/currencies` answers them (`currencyCode` `{id, name}`, separators,
  decimals), agreements and companies with a `CurrencyReference` (`currencyCode` "USD");
- what real data looks like when cwsync arrives: additions typed by hand (no `serialNumber`),
  two additions of one product on one agreement, an agreement past its `endDate` (Expired),
  an inactive company, inactive catalog items, a product class and billing option of every kind.
"""
from __future__ import annotations

import copy
import sys
from pathlib import Path

from cwsync_local.data import make_demo_seed as demo

OUTPUT = Path(__file__).with_name("real_seed.json")
SITE = "https://api-na.myconnectwise.net/v2025_1/apis/3.0"
ENTERED = "2024-09-16T14:02:11Z"
UPDATED = "2026-10-30T18:45:09Z"


def info(kind: str, record_id: int, **links: str) -> dict:
    """The `_info` audit block every record of the service carries."""
    return {"lastUpdated": UPDATED, "updatedBy": "jthompson", "dateEntered": ENTERED, "enteredBy": "jthompson",
            f"{kind}_href": f"{SITE}/{links.pop('path', kind)}/{record_id}", **links}


def ref_info(record: dict, **paths: str) -> None:
    """References carry an `_info` with the link to what they point at (`key=path` per reference)."""
    for key, path in paths.items():
        if isinstance(record.get(key), dict) and "id" in record[key]:
            record[key]["_info"] = {f"{key}_href": f"{SITE}/{path}/{record[key]['id']}"}


def custom_field(field_id: int, caption: str, kind: str = "Text", **value) -> dict:
    """A custom field as the tenant defines it (`value=` when one is filled in)."""
    return {"id": field_id, "caption": caption, "type": kind, "entryMethod": "EntryField", "numberOfDecimals": 0,
            **value}


def dress_company(record: dict) -> dict:
    record.update(
        addressLine2="Suite 400", website="www.example.com", faxNumber="2155550199", accountNumber="",
        territory={"id": 1, "name": "Main"}, market={"id": 3, "name": "Healthcare"},
        billingTerms={"id": 1, "name": "Net 30 days"}, taxCode={"id": 11, "name": "Tax-State"},
        timeZoneSetup={"id": 1, "name": "US Eastern"}, invoiceDeliveryMethod={"id": 1, "name": "Email"},
        invoiceToEmailAddress="billing@example.com", unsubscribeFlag=False, mobileGuid="3f8b9e0a-2c1d-4f5e-9a7b-1c2d3e4f5a6b",
        dateAcquired="2019-04-01T00:00:00Z", annualRevenue=0.0, numberOfEmployees=0,
        customFields=[custom_field(4, "Marketplace ID")],
        _info=info("company", record["id"], path="company/companies",
                   contacts_href=f"{SITE}/company/contacts?conditions=company/id={record['id']}"))
    ref_info(record, status="company/companies/statuses", country="company/countries",
             defaultContact="company/contacts", site="company/companies/sites")
    return record


def dress_contact(record: dict) -> dict:
    record.update(title="Office Manager", relationship={"id": 1, "name": "Decision Maker"},
                  department={"id": 2, "name": "Accounting"}, disablePortalLoginFlag=False, unsubscribeFlag=False,
                  marriedFlag=False, childrenFlag=False, gender="Female", presence="Offline",
                  types=[{"id": 1, "name": "Billing"}],
                  _info=info("contact", record["id"], path="company/contacts"))
    return record


def dress_catalog_item(record: dict) -> dict:
    record.update(
        dropShipFlag=False, specialOrderFlag=False, phaseProductFlag=False, serializedFlag=False,
        serializedCostFlag=False, calculatedPriceFlag=False, calculatedCostFlag=False, priceAttribute="FixedFee",
        recurringOneTimeFlag=False, recurringCycleType="ContractYear", notes="Billed monthly in advance.",
        integrationXRef="", entityType={"id": 4, "name": "Software"}, minStockLevel=0,
        _info=info("catalogItem", record["id"], path="procurement/catalog",
                   image_href=f"{SITE}/procurement/catalog/{record['id']}/image"))
    return record


def dress_agreement(record: dict) -> dict:
    record.update(
        location={"id": 2, "name": "Philadelphia"}, department={"id": 10, "name": "Cloud Services"},
        restrictLocationFlag=False, restrictDepartmentFlag=False, applicationUnits="Amount",
        applicationLimit=0.0, applicationCycle="ContractYear", applicationUnlimitedFlag=True,
        coverAgreementTime=False, coverAgreementProduct=False, coverAgreementExpense=False, coverSalesTax=False,
        carryOverUnused=False, allowOverruns=False, expiredDays=0, limit=0, expireWhenZero=False,
        chargeToFirm=False, employeeCompRate="Actual", employeeCompNotExceed="Billing", compHourlyRate=0.0,
        compLimitAmount=0.0, billingTerms={"id": 1, "name": "Net 30 days"}, invoicingCycle="ContractYear",
        billToCompany=copy.deepcopy(record["company"]), billToContact=copy.deepcopy(record["contact"]),
        taxCode={"id": 11, "name": "Tax-State"}, restrictDownPayment=False, topComment=False,
        bottomComment=False, billTime="Billable", billExpenses="Billable", billableTimeInvoice=False,
        billableExpenseInvoice=False, billableProductInvoice=False, periodType="Current", autoInvoiceFlag=False,
        workOrder="", internalNotes="Cloud licences from the marketplace.", customerPO="",
        customFields=[custom_field(7, "Subscription group"), custom_field(8, "Auto renew", "Checkbox", value=True)],
        _info=info("agreement", record["id"], path="finance/agreements",
                   additions_href=f"{SITE}/finance/agreements/{record['id']}/additions"))
    ref_info(record, company="company/companies", contact="company/contacts", type="finance/agreements/types",
             billingCycle="finance/billingCycles")
    return record


def dress_addition(record: dict) -> dict:
    record.update(billedQuantity=float(record["quantity"]), invoiceGrouping={"id": 1, "name": "Default"},
                  customFields=[], _info=info("addition", record["id"],
                                              path=f"finance/agreements/{record['agreementId']}/additions"))
    ref_info(record, product="procurement/catalog")
    return record


def dress_currency(record: dict) -> dict:
    euro = record["currencyIdentifier"] == "EUR"
    record.update(decimalSeparator="," if euro else ".", thousandsSeparator="." if euro else ",",
                  numberOfDecimals=2, negativeParenthesesFlag=False, displaySymbolFlag=True, displayIdFlag=False,
                  rightAlign=euro, reportFormat="1.234,56 €" if euro else "$1,234.56",
                  _info=info("currency", record["id"], path="finance/currencies"))
    return record


def dress_agreement_type(record: dict) -> dict:
    record.update(prefixSuffixOption="Prefix", prePaymentFlag=False, invoicePreSuffix="CLD",
                  restrictLocationFlag=False, restrictDepartmentFlag=False, applicationUnits="Amount",
                  applicationCycle="ContractYear", applicationUnlimitedFlag=True, oneTimeFlag=False,
                  coverAgreementTimeFlag=False, coverAgreementProductFlag=False, coverAgreementExpenseFlag=False,
                  coverSalesTaxFlag=False, carryOverUnusedFlag=False, allowOverrunsFlag=False, expiredDays=0,
                  limit=0, expireWhenZero=False, chargeToFirmFlag=False, billOneTimeFlag=False,
                  billingCycle={"id": 1, "name": "Monthly"}, taxableFlag=False, autoInvoiceFlag=False,
                  billableTimeInvoiceFlag=False, billableExpenseInvoiceFlag=False, billableProductInvoiceFlag=False,
                  copyWorkRolesFlag=False, copyWorkTypesFlag=False, exclusionWorkRoleIds=[], exclusionWorkTypeIds=[],
                  _info=info("agreementType", record["id"], path="finance/agreements/types"))
    return record


def dress_simple(kind: str, path: str):
    def dress(record: dict) -> dict:
        record["_info"] = info(kind, record["id"], path=path)
        return record
    return dress


DRESS = {"companies": dress_company, "contacts": dress_contact, "catalog": dress_catalog_item,
         "agreements": dress_agreement, "additions": dress_addition, "currencies": dress_currency,
         "agreementTypes": dress_agreement_type,
         "adjustments": dress_simple("adjustment", "finance/agreements/adjustments"),
         "billingCycles": dress_simple("billingCycle", "finance/billingCycles"),
         "companyTypes": dress_simple("companyType", "company/companies/types"),
         "companyStatuses": dress_simple("companyStatus", "company/companies/statuses"),
         "countries": dress_simple("country", "company/countries"),
         "productCategories": dress_simple("category", "procurement/categories"),
         "productSubcategories": dress_simple("subcategory", "procurement/subcategories"),
         "productTypes": dress_simple("productType", "procurement/types")}


def everyday_records(cw: dict) -> None:
    """What a tenant holds besides the demo story; none of it changes how a demo order ends."""
    vet = next(a for a in cw["additions"] if a["id"] == 9003)
    # Typed by hand, no ownership tag: a second managed-backup line on Green Lane's agreement.
    cw["additions"].append(dress_addition({**copy.deepcopy(vet), "id": 9007, "quantity": 2,
                                           "effectiveDate": "2026-07-01T00:00:00Z", "sequenceNumber": 4.0}))
    # An addition that ended: cancelled by hand after a trial.
    cw["additions"].append(dress_addition({**copy.deepcopy(vet), "id": 9008, "quantity": 1,
                                           "effectiveDate": "2025-02-01T00:00:00Z",
                                           "cancelledDate": "2025-03-01T00:00:00Z", "sequenceNumber": 5.0}))
    # Green Lane's old hosting agreement ran past its end date.
    expired = copy.deepcopy(next(a for a in cw["agreements"] if a["id"] == 3101))
    expired.update(id=3103, name="Green Lane - Hosting 2024", agreementStatus="Expired", noEndingDateFlag=False,
                   startDate="2024-01-01T00:00:00Z", endDate="2024-12-31T00:00:00Z", billAmount=0.0)
    expired["_info"] = info("agreement", 3103, path="finance/agreements")
    cw["agreements"].append(expired)
    # A former client, inactive, with no agreements.
    former = copy.deepcopy(next(c for c in cw["companies"] if c["id"] == 19307))
    former.update(id=19308, identifier="HarborFreight", name="Harbor Freight Logistics (closed)",
                  status={"id": 2, "name": "Inactive"}, defaultContact={"id": 807, "name": "Tom Becker"})
    former["_info"] = info("company", 19308, path="company/companies")
    cw["companies"].append(former)
    # Retired catalog items: an older licence SKU and a bundle nobody sells any more.
    template = next(c for c in cw["catalog"] if c["id"] == 701)
    for item_id, identifier, description, product_class in (
            (708, "M365-BB-LEGACY", "Microsoft 365 Business Basic (legacy SKU)", "Agreement"),
            (709, "ONBOARD-BUNDLE", "Onboarding bundle 2023", "Bundle")):
        item = copy.deepcopy(template)
        item.pop("manufacturerPartNumber", None)
        item.update(id=item_id, identifier=identifier, description=description, customerDescription=description,
                    inactiveFlag=True, productClass=product_class, billableOption="NoCharge")
        item["_info"] = info("catalogItem", item_id, path="procurement/catalog")
        cw["catalog"].append(item)


def connectwise() -> dict:
    cw = copy.deepcopy(demo.connectwise())
    for name, dress in DRESS.items():
        cw[name] = [dress(record) for record in cw[name]]
    everyday_records(cw)
    return cw


def render() -> str:
    return demo.render(connectwise())


if __name__ == "__main__":
    sys.exit(demo.write_or_check(OUTPUT, render(), sys.argv[1:]))
