"""An independent oracle for ConnectWise record shapes: the vendor's generated models.

`pyconnectwise.models.manage` holds pydantic models generated from ConnectWise's own OpenAPI
document, written by people who never saw cwsync or its simulator. `problems(collection, record)`
says why a record is not one the real service could return:

- it does not validate against its model (wrong type, missing required field, unknown enum
  value), or
- it has a key, at any depth, that is not a field of the model at that depth (pydantic
  ignores unknown keys, so this walk is done here).

Fields newer than the generated models (ConnectWise adds fields in later API versions) are
listed in NEWER_FIELDS, each with where it is documented. Where the project's contract file
and these models disagree, the models win (docs/INTERFACES.md, "Which oracle covers what").
"""
from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pyconnectwise.models import manage

# The simulator's collections (seed names) and the model each record is an instance of.
MODELS: dict[str, type[BaseModel]] = {
    "companies": manage.Company,
    "companyTypes": manage.CompanyType,
    "companyStatuses": manage.CompanyStatus,
    "countries": manage.Country,
    "productCategories": manage.Category,
    "productSubcategories": manage.SubCategory,
    "productTypes": manage.ProductType,
    "contacts": manage.Contact,
    "catalog": manage.CatalogItem,
    "agreements": manage.Agreement,
    "agreementTypes": manage.AgreementType,
    "additions": manage.Addition,
    "adjustments": manage.AgreementAdjustment,
    "billingCycles": manage.BillingCycle,
    "currencies": manage.FinanceCurrency,
}

# (model, field) -> where the field is documented. Newer than pyconnectwise's generated models.
_GO_CLIENT = "ai-connor/connectwise (Go client generated from the API 2025.1 OpenAPI document)"
NEWER_FIELDS: dict[tuple[str, str], str] = {
    ("Agreement", "invoiceProratedAdditionsFlag"): f"{_GO_CLIENT}, model_agreement.go",
    ("Agreement", "shipToCompany"): f"{_GO_CLIENT}, model_agreement.go",
    ("Agreement", "shipToContact"): f"{_GO_CLIENT}, model_agreement.go",
    ("Agreement", "shipToSite"): f"{_GO_CLIENT}, model_agreement.go",
    ("AgreementType", "invoiceProratedAdditionsFlag"): f"{_GO_CLIENT}, model_agreement_type.go",
    ("AgreementReference", "chargeFirmFlag"): f"{_GO_CLIENT}, model_agreement_reference.go",
    ("CatalogItem", "agreementType"): f"{_GO_CLIENT}, model_catalog_item.go",
    ("CatalogItem", "autoUpdateUnitCostFlag"): f"{_GO_CLIENT}, model_catalog_item.go",
    ("CatalogItem", "autoUpdateUnitPriceFlag"): f"{_GO_CLIENT}, model_catalog_item.go",
    ("CatalogItem", "connectWiseID"): f"{_GO_CLIENT}, model_catalog_item.go",
    ("CatalogItem", "markupFlag"): f"{_GO_CLIENT}, model_catalog_item.go",
    ("CatalogItem", "markupPercentage"): f"{_GO_CLIENT}, model_catalog_item.go",
    ("CustomFieldValue", "connectWiseId"): f"{_GO_CLIENT}, model_custom_field_value.go",
    ("MemberReference", "dailyCapacity"): f"{_GO_CLIENT}, model_member_reference.go",
    ("WorkTypeReference", "utilizationFlag"): f"{_GO_CLIENT}, model_work_type_reference.go",
}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through Optional, unions and lists)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple):
        found: list[type[BaseModel]] = []
        for argument in typing.get_args(annotation):
            found += _models_in(argument)
        return found
    return []  # scalars and free-form mappings (`_info: dict[str, str]`, custom field values)


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    return {(info.alias or name): info.annotation for name, info in model.model_fields.items()}


def unknown_keys(model: type[BaseModel], value: Any, path: str = "") -> list[str]:
    """`a/b` paths of keys in `value` that are not fields of `model` at that depth."""
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in unknown_keys(model, item, f"{path}/{index}")]
    if not isinstance(value, dict):
        return []
    found = []
    fields = _fields(model)
    for key, item in value.items():
        where = f"{path}/{key}" if path else key
        if key not in fields:
            if (model.__name__, key) not in NEWER_FIELDS:
                found.append(f"{where}: not a field of {model.__name__}")
            continue
        for inner in _models_in(fields[key])[:1]:
            found += unknown_keys(inner, item, where)
    return found


def problems(collection: str, record: Any) -> list[str]:
    """Why the real service could not have returned `record` of `collection` (empty: it could)."""
    model = MODELS[collection]
    found = []
    try:
        model.model_validate(record)
    except ValidationError as error:
        found += [f"{'/'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
    return found + unknown_keys(model, record)
