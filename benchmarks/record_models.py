"""The typed ConnectWise records two ways, for the import benchmark (`bench_import --models`).

`dataclasses` parses one record of each type with `cwsync.adapters.cw_records` (what cwsync
ships); `pydantic` defines the same fields as pydantic models through Powertools' parser
(`aws_lambda_powertools.utilities.parser`) and parses the same records. Importing either
module is what a handler's cold start would pay for its records; nothing here is shipped.
"""
from __future__ import annotations

SAMPLES = {
    "agreement": {"id": 401, "name": "Cloud", "company": {"id": 7, "identifier": "GL", "name": "Green Lane"},
                  "agreementStatus": "Active", "cancelledFlag": False, "billingCycle": {"id": 1, "name": "Monthly"},
                  "currency": {"id": 1, "currencyCode": "USD", "symbol": "$"}, "endDate": "2027-01-01T00:00:00Z",
                  "noEndingDateFlag": False},
    "company": {"id": 7, "identifier": "GL", "name": "Green Lane", "status": {"id": 1, "name": "Active"},
                "deletedFlag": False, "customFields": [{"id": 4, "caption": "Marketplace ID", "value": "100"}]},
    "catalog item": {"id": 3, "identifier": "M365-BB", "description": "Microsoft 365 Business Basic", "price": 6.0,
                     "cost": 4.8, "inactiveFlag": False, "taxableFlag": True, "manufacturerPartNumber": "M365-BB",
                     "vendorSku": "M365-BB"},
    "addition": {"id": 100, "product": {"id": 3, "identifier": "M365-BB"}, "quantity": 10, "unitPrice": 6.0,
                 "unitCost": 4.8, "effectiveDate": "2026-02-01T00:00:00Z", "serialNumber": "MP-SUB-1-SO1",
                 "billCustomer": "Billable"},
    "adjustment": {"id": 5, "amount": -12.35, "description": "MP-SUB-1-SO1:setup:1 Onboarding",
                   "effectiveDate": "2026-02-01T00:00:00Z"},
}


def parse_with_dataclasses() -> list:
    from cwsync.adapters import cw_records

    return [cw_records.PARSERS[kind](raw) for kind, raw in SAMPLES.items()]


def pydantic_models() -> dict:
    """The same fields as `cwsync.domain.records`, as Powertools parser (pydantic v2) models."""
    from datetime import datetime
    from decimal import Decimal
    from typing import Optional, Union

    from aws_lambda_powertools.utilities.parser import BaseModel, Field

    class Reference(BaseModel):
        id: Optional[int] = None
        name: Optional[str] = None

    class CurrencyCode(BaseModel):
        id: Optional[int] = None
        name: Optional[str] = None

    class CurrencyReference(BaseModel):
        id: Optional[int] = None
        currencyCode: Optional[Union[str, CurrencyCode]] = None

    class Agreement(BaseModel):
        id: int
        name: Optional[str] = None
        company: Optional[Reference] = None
        agreementStatus: Optional[str] = None
        cancelledFlag: Optional[bool] = None
        billingCycle: Optional[Reference] = None
        currency: Optional[CurrencyReference] = None
        endDate: Optional[datetime] = None
        noEndingDateFlag: Optional[bool] = None

    class CustomField(BaseModel):
        id: Optional[int] = None
        caption: Optional[str] = None
        value: Optional[Union[str, int, float, bool]] = None

    class Company(BaseModel):
        id: int
        identifier: str = ""
        name: str = ""
        status: Optional[Reference] = None
        deletedFlag: Optional[bool] = None
        customFields: list[CustomField] = Field(default_factory=list)

    class CatalogItem(BaseModel):
        id: int
        identifier: str = ""
        description: str = ""
        price: Optional[Decimal] = None
        cost: Optional[Decimal] = None
        inactiveFlag: Optional[bool] = None
        taxableFlag: Optional[bool] = None
        manufacturerPartNumber: Optional[str] = None
        vendorSku: Optional[str] = None

    class Addition(BaseModel):
        id: int
        product: Optional[Reference] = None
        quantity: Optional[Decimal] = None
        unitPrice: Optional[Decimal] = None
        unitCost: Optional[Decimal] = None
        effectiveDate: Optional[datetime] = None
        cancelledDate: Optional[datetime] = None
        serialNumber: Optional[str] = None
        billCustomer: Optional[str] = None

    class Adjustment(BaseModel):
        id: int
        amount: Optional[Decimal] = None
        description: str = ""
        effectiveDate: Optional[datetime] = None

    return {"agreement": Agreement, "company": Company, "catalog item": CatalogItem, "addition": Addition,
            "adjustment": Adjustment}


def parse_with_pydantic() -> list:
    from aws_lambda_powertools.utilities.parser import parse

    models = pydantic_models()
    return [parse(event=raw, model=models[kind]) for kind, raw in SAMPLES.items()]
