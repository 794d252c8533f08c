"""The ConnectWise resources the simulator serves, in the service's own names.

Each resource says where it lives under `/apis/3.0`, which seed collection holds its
records, which contract schema validates it, which fields the service computes (and
therefore ignores on writes), and which reference objects it expands from other
collections, as the service answers `company: {id, identifier, name}` for `company: {id}`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Reference:
    """A reference object field filled from another collection's record.

    A reference has its own shape (a contract `*Reference` schema), which is not the shape of
    the record it points at: `copy` names fields that are the same in both, and `derive`
    computes the ones that differ (a currency record's `currencyCode` is `{id, name}`, a
    currency reference's is the plain code). Every built reference is checked against `schema`.
    """

    collection: str
    copy: tuple[str, ...]  # fields with the same name and shape in the record and the reference
    label: str  # words for an error message: "product", "company"
    schema: str  # the contract schema of the reference object
    many: bool = False  # a list of references (company types)
    derive: Callable[[dict], dict] | None = None  # reference fields computed from the record


@dataclass(frozen=True)
class Resource:
    name: str  # error `resource` and object name: "agreementAddition"
    label: str  # words for a 404 message: "Agreement Addition"
    path: str  # under /apis/3.0, `{parentId}` for child collections
    collection: str  # key in the seed/state data
    schema: str  # contract component (or a local schema, see validation.LOCAL_SCHEMAS)
    read_only: frozenset[str] = frozenset()
    references: dict[str, Reference] = field(default_factory=dict)
    parent: str | None = None  # collection of the parent record for child collections

    @property
    def parent_key(self) -> str:
        return "agreementId"


def currency_reference_fields(currency: dict) -> dict:
    """A `CurrencyReference`'s `currencyCode` is the code itself, the record's is `{id, name}`."""
    code = currency.get("currencyCode")
    return {"currencyCode": code["name"]} if isinstance(code, dict) and isinstance(code.get("name"), str) else {}


ALWAYS_READ_ONLY = frozenset({"id", "_info"})
COMPANY_REFERENCE = Reference("companies", ("identifier", "name"), "company", "CompanyReference")
CURRENCY_REFERENCE = Reference("currencies", ("symbol", "currencyIdentifier", "name", "decimalSeparator",
                                              "numberOfDecimals", "thousandsSeparator", "negativeParenthesesFlag",
                                              "displaySymbolFlag", "displayIdFlag", "rightAlign"),
                               "currency", "CurrencyReference", derive=currency_reference_fields)
CONTACT_REFERENCE = Reference("contacts", ("name",), "contact", "ContactReference")
BILLING_CYCLE_REFERENCE = Reference("billingCycles", ("name",), "billing cycle", "BillingCycleReference")

RESOURCES = [
    Resource("company", "Company", "company/companies", "companies", "Company",
             ALWAYS_READ_ONLY | {"dateDeleted", "deletedBy"},
             {"types": Reference("companyTypes", ("name",), "company type", "CompanyTypeReference", many=True),
              "status": Reference("companyStatuses", ("name",), "company status", "CompanyStatusReference"),
              "country": Reference("countries", ("name",), "country", "CountryReference"),
              "currency": CURRENCY_REFERENCE, "defaultContact": CONTACT_REFERENCE}),
    Resource("companyType", "Company Type", "company/companies/types", "companyTypes", "CompanyType",
             ALWAYS_READ_ONLY),
    Resource("companyStatus", "Company Status", "company/companies/statuses", "companyStatuses", "CompanyStatus",
             ALWAYS_READ_ONLY),
    Resource("country", "Country", "company/countries", "countries", "Country", ALWAYS_READ_ONLY,
             {"currency": CURRENCY_REFERENCE}),
    Resource("contact", "Contact", "company/contacts", "contacts", "Contact", ALWAYS_READ_ONLY,
             {"company": COMPANY_REFERENCE}),
    Resource("category", "Category", "procurement/categories", "productCategories", "Category", ALWAYS_READ_ONLY),
    Resource("subCategory", "SubCategory", "procurement/subcategories", "productSubcategories", "SubCategory",
             ALWAYS_READ_ONLY, {"category": Reference("productCategories", ("name",), "category",
                                                      "ProductCategoryReference")}),
    Resource("productType", "Product Type", "procurement/types", "productTypes", "ProductType", ALWAYS_READ_ONLY),
    Resource("catalogItem", "Catalog Item", "procurement/catalog", "catalog", "CatalogItem",
             ALWAYS_READ_ONLY | {"calculatedPrice", "calculatedCost", "connectWiseID"},
             {"category": Reference("productCategories", ("name",), "category", "ProductCategoryReference"),
              "subcategory": Reference("productSubcategories", ("name",), "subcategory", "ProductSubCategoryReference"),
              "type": Reference("productTypes", ("name",), "product type", "ProductTypeReference"),
              "recurringBillCycle": BILLING_CYCLE_REFERENCE}),
    Resource("agreement", "Agreement", "finance/agreements", "agreements", "Agreement", ALWAYS_READ_ONLY,
             {"company": COMPANY_REFERENCE,
              "type": Reference("agreementTypes", ("name",), "agreement type", "AgreementTypeReference"),
              "contact": CONTACT_REFERENCE, "billingCycle": BILLING_CYCLE_REFERENCE, "currency": CURRENCY_REFERENCE,
              "billToCompany": COMPANY_REFERENCE, "billToContact": CONTACT_REFERENCE,
              "parentAgreement": Reference("agreements", ("name",), "agreement", "AgreementReference")}),
    Resource("agreementType", "Agreement Type", "finance/agreements/types", "agreementTypes", "AgreementType",
             ALWAYS_READ_ONLY | {"connectWiseId"}),
    Resource("agreementAddition", "Agreement Addition", "finance/agreements/{parentId}/additions", "additions",
             "Addition",
             ALWAYS_READ_ONLY | {"agreementId", "extPrice", "extCost", "margin", "billedQuantity", "prorateCost",
                                 "proratePrice", "extendedProrateCost", "extendedProratePrice", "sequenceNumber"},
             {"product": Reference("catalog", ("identifier",), "product", "IvItemReference")}, parent="agreements"),
    Resource("agreementAdjustment", "Agreement Adjustment", "finance/agreements/{parentId}/adjustments",
             "adjustments", "Agreement.Adjustment", ALWAYS_READ_ONLY | {"agreementId"}, parent="agreements"),
    Resource("billingCycle", "Billing Cycle", "finance/billingCycles", "billingCycles", "BillingCycle",
             ALWAYS_READ_ONLY),
    Resource("currency", "Currency", "finance/currencies", "currencies", "Currency", ALWAYS_READ_ONLY),
]
BY_COLLECTION = {resource.collection: resource for resource in RESOURCES}
COLLECTIONS = tuple(BY_COLLECTION)
