"""ConnectWise records as cwsync uses them: just the fields the sync reads, as typed values.

The adapter (`cwsync.adapters.cw_records`) builds these from the API's JSON, once, and turns a
shape it cannot read into `InvalidRecord` naming the record and field. Everything after the
adapter works on these values, never on the JSON.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal


@dataclass(frozen=True)
class AgreementRecord:
    """`/finance/agreements`: what the agreement rules and the option labels read."""

    id: int
    name: str
    company_id: int | None
    status: str | None  # agreementStatus: Active | Cancelled | Expired | Inactive (newer values kept as sent)
    cancelled: bool
    billing_cycle: str | None  # billingCycle.name
    currency_code: str | None  # currency.currencyCode ("USD"); None when the agreement has no currency
    end_date: date | None = None  # endDate; None when it has none or `noEndingDateFlag` is set
    # Invoicing, read by reconciliation (None when not asked for or not set): the first day a
    # repair may change is the latest of today, nextInvoiceDate and billStartDate.
    bill_start_date: date | None = None  # billStartDate
    next_invoice_date: date | None = None  # nextInvoiceDate

    @property
    def invoices(self) -> bool:
        """The agreement still invoices: Active and not cancelled."""
        return not self.cancelled and self.status == "Active"


@dataclass(frozen=True)
class CustomFieldValue:
    """One entry of a record's `customFields`: matched by its id or its caption."""

    id: int | None
    caption: str | None
    value: str | None  # the value as text (None when empty)


@dataclass(frozen=True)
class CompanyRecord:
    """`/company/companies`: what customer matching and the option labels read."""

    id: int
    identifier: str
    name: str
    status: str | None  # status.name
    deleted: bool
    custom_fields: tuple[CustomFieldValue, ...] = ()

    @property
    def label(self) -> str:
        """How a person sees the company in an option: `name (identifier)`."""
        return f"{self.name} ({self.identifier})" if self.identifier else self.name

    @property
    def inactive(self) -> str | None:
        """The status name when the company is not Active ("Inactive", "Not-Approved"…), else None."""
        if self.status in (None, "") or self.status.strip().casefold() == "active":
            return None
        return self.status

    def custom_field(self, field_name: str) -> str | None:
        """The value of the custom field whose id or caption (any case) is `field_name`."""
        for custom in self.custom_fields:
            if str(custom.id) == field_name or (custom.caption or "").casefold() == field_name.casefold():
                return custom.value
        return None


@dataclass(frozen=True)
class CatalogItemRecord:
    """`/procurement/catalog`: what product matching and planning read (only `id` is always known:
    a product found by its remembered link alone is just its id)."""

    id: int
    identifier: str = ""
    description: str = ""
    price: Decimal | None = None
    cost: Decimal | None = None
    inactive: bool = False
    taxable: bool | None = None
    manufacturer_part_number: str | None = None
    vendor_sku: str | None = None

    @property
    def label(self) -> str:
        """How a person sees the item in an option: `identifier: description`."""
        return f"{self.identifier}: {self.description}".rstrip(": ")

    def to_snapshot(self) -> dict:
        """What the planner reads of the item, as stored on a product link (ConnectWise's field names,
        read back by the ConnectWise adapter's `catalog_item`)."""
        snapshot = {"id": self.id, "identifier": self.identifier, "description": self.description,
                    "price": self.price, "cost": self.cost, "taxableFlag": self.taxable, "inactiveFlag": self.inactive}
        return {key: value for key, value in snapshot.items() if value is not None}


@dataclass(frozen=True)
class AdditionRecord:
    """`/finance/agreements/{id}/additions`: what the planner, the applier and reconciliation read of an
    existing addition (every field cwsync writes on one, so a write can be checked against it)."""

    id: int
    product_id: int | None = None
    quantity: Decimal = Decimal(0)
    unit_price: Decimal | None = None
    unit_cost: Decimal | None = None
    effective_date: datetime | None = None
    cancelled_date: datetime | None = None  # an addition ends by its cancel date; absent = active
    serial_number: str | None = None  # the ownership tag, or None for additions typed by hand
    bill_customer: str | None = None
    taxable: bool | None = None  # taxableFlag
    description: str | None = None
    invoice_description: str | None = None
    product_identifier: str | None = None  # product.identifier, when it was read

    @property
    def live(self) -> bool:
        """Not ended: no cancel date."""
        return self.cancelled_date is None

    def value(self, field_name: str):
        """The typed value of one field, by its ConnectWise name (what cwsync remembers it wrote is
        kept by those names): `value("taxableFlag")` is `taxable`."""
        return getattr(self, ADDITION_ATTRIBUTES[field_name])

    def to_fields(self) -> dict:
        """The addition in ConnectWise's field names, as a plan, a page and the stored baselines show it:
        numbers as Decimal, moments as ISO 8601 UTC text; fields that are not set are left out."""
        product = {key: value for key, value in (("id", self.product_id), ("identifier", self.product_identifier))
                   if value is not None}
        fields = {"id": self.id, "product": product or None, "quantity": self.quantity,
                  "unitPrice": self.unit_price, "unitCost": self.unit_cost,
                  "effectiveDate": _utc_text(self.effective_date), "cancelledDate": _utc_text(self.cancelled_date),
                  "serialNumber": self.serial_number, "billCustomer": self.bill_customer,
                  "taxableFlag": self.taxable, "description": self.description,
                  "invoiceDescription": self.invoice_description}
        return {key: value for key, value in fields.items() if value is not None}


@dataclass(frozen=True)
class AdjustmentRecord:
    """`/finance/agreements/{id}/adjustments`: one-time money, found again by its description."""

    id: int
    amount: Decimal | None = None
    description: str = ""
    effective_date: datetime | None = None


# An addition's ConnectWise field names → its attributes.
ADDITION_ATTRIBUTES = {"quantity": "quantity", "unitPrice": "unit_price", "unitCost": "unit_cost",
                       "effectiveDate": "effective_date", "cancelledDate": "cancelled_date",
                       "serialNumber": "serial_number", "billCustomer": "bill_customer", "taxableFlag": "taxable",
                       "description": "description", "invoiceDescription": "invoice_description"}


def utc_text(moment: datetime | None) -> str | None:
    """A moment as ConnectWise writes it: ISO 8601 in UTC, `2026-12-01T00:00:00Z`."""
    return _utc_text(moment)


def _utc_text(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None
