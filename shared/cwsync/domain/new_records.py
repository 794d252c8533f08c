"""A company or catalog item cwsync adds to ConnectWise: proposed from the marketplace, edited by
a person, checked here before anything is written.

`propose_*` fill the form from the marketplace customer or product and ConnectWise's reference
lists; `company_body` / `catalog_item_body` turn the submitted form into the exact ConnectWise
body, or list every field that cannot be used (each problem names its field in plain words).
Limits are ConnectWise's own (the `ai-connor/connectwise` models: company identifier 30, name 50,
address lines, city and state 50, zip 12, phone 30, website 255; catalog identifier 75,
description 60, customer description 6000).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from cwsync.domain.models import CustomerRecord
from cwsync.domain.plausibility import check_amount, number

COMPANY_LIMITS = {"identifier": 30, "name": 50, "addressLine1": 50, "addressLine2": 50, "city": 50, "state": 50,
                  "zip": 12, "phoneNumber": 30, "website": 255}
CATALOG_LIMITS = {"identifier": 75, "description": 60, "customerDescription": 6000}
COMPANY_LABELS = {"identifier": "Identifier", "name": "Company name", "addressLine1": "Address line 1",
                  "addressLine2": "Address line 2", "city": "City", "state": "State or region", "zip": "Zip or postal code",
                  "country": "Country", "phoneNumber": "Phone", "website": "Website", "type": "Company type",
                  "status": "Status"}
CATALOG_LABELS = {"identifier": "Identifier", "description": "Description", "customerDescription": "Customer description",
                  "price": "Price", "cost": "Cost", "category": "Category", "subcategory": "Subcategory",
                  "type": "Product type", "taxableFlag": "Taxable"}
ADDRESS_FIELDS = ("addressLine1", "addressLine2", "city", "state", "zip", "country")
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_PHONE = re.compile(r"[0-9+()./ -]+")
_WEBSITE = re.compile(r"(https?://)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(/\S*)?")
_TRUE = ("true", "on", "1", "yes")


@dataclass(frozen=True)
class Choice:
    """One entry of a ConnectWise reference list (a company type, a subcategory…)."""

    id: int
    name: str
    default: bool = False
    parent: int | None = None  # a subcategory's category
    code: str | None = None  # a country's two-letter code

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "default": self.default, "parent": self.parent, "code": self.code}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "Choice":
        parent = raw.get("parent")
        return cls(int(raw["id"]), str(raw.get("name") or raw["id"]), bool(raw.get("default")),
                   int(parent) if parent not in (None, "") else None, raw.get("code") or None)


@dataclass(frozen=True)
class Problem:
    field: str    # the form field
    message: str  # a sentence naming the field and what to fix


@dataclass(frozen=True)
class References:
    """ConnectWise's reference lists a new record is placed with, by form field."""

    lists: Mapping[str, Sequence[Choice]] = field(default_factory=dict)

    def of(self, name: str) -> Sequence[Choice]:
        return self.lists.get(name) or ()

    def default(self, name: str, preferred: int | None = None, *, parent: int | None = None) -> Choice | None:
        choices = [c for c in self.of(name) if parent is None or c.parent == parent]
        return (next((c for c in choices if preferred is not None and c.id == preferred), None)
                or next((c for c in choices if c.default), None) or (choices[0] if choices else None))

    def find(self, name: str, value: Any) -> Choice | None:
        text = str(value if value is not None else "").strip()
        return next((c for c in self.of(name) if str(c.id) == text), None)

    def to_dict(self) -> dict:
        return {name: [c.to_dict() for c in choices] for name, choices in self.lists.items()}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> "References":
        return cls({name: tuple(Choice.from_dict(c) for c in choices or ()) for name, choices in (raw or {}).items()})


def choices(records: Iterable[Mapping[str, Any]], *, parent: str | None = None) -> tuple[Choice, ...]:
    """Active entries of a ConnectWise reference list, in its order (`parent`: the field naming
    the entry a subcategory belongs to)."""
    found = []
    for record in records:
        if record.get("inactiveFlag") or record.get("id") is None:
            continue
        up = (record.get(parent) or {}).get("id") if parent else None
        code = record.get("countryCode")
        found.append(Choice(int(record["id"]), str(record.get("name") or record["id"]), bool(record.get("defaultFlag")),
                            int(up) if up is not None else None, str(code) if code else None))
    return tuple(found)


# --- companies -----------------------------------------------------------------------------

def company_identifier(customer: CustomerRecord) -> str:
    """An identifier ConnectWise accepts: the marketplace customer id when it fits (so the customer is
    recognised by it from then on), else the name's letters and digits, cut to 30 characters."""
    customer_id = str(customer.id or "").strip()
    if customer_id and len(customer_id) <= COMPANY_LIMITS["identifier"] and _IDENTIFIER.fullmatch(customer_id):
        return customer_id
    ascii_name = unicodedata.normalize("NFKD", customer.name or "").encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_name)
    text = "".join(word[:1].upper() + word[1:] for word in words)[:COMPANY_LIMITS["identifier"]]
    return text or "Customer"


def _cut(value: Any, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit].strip()


def propose_company(customer: CustomerRecord, references: References) -> dict[str, str]:
    """The create-company form filled from the marketplace customer (`GET /customers/{id}`)."""
    code = (customer.country_code or "").strip().casefold()
    country = next((c for c in references.of("country") if code and (c.code or "").casefold() == code), None)
    kind, status = references.default("type"), references.default("status")
    return {
        "identifier": company_identifier(customer),
        "name": _cut(customer.name, COMPANY_LIMITS["name"]),
        "addressLine1": _cut(customer.street, COMPANY_LIMITS["addressLine1"]),
        "addressLine2": _cut(customer.street_extra, COMPANY_LIMITS["addressLine2"]),
        "city": _cut(customer.city, COMPANY_LIMITS["city"]),
        "state": _cut(customer.state, COMPANY_LIMITS["state"]),
        "zip": _cut(customer.postal_code, COMPANY_LIMITS["zip"]),
        "country": str(country.id) if country else "",
        "phoneNumber": _cut(customer.phone, COMPANY_LIMITS["phoneNumber"]),
        "website": _cut(customer.website, COMPANY_LIMITS["website"]),
        "type": str(kind.id) if kind else "",
        "status": str(status.id) if status else "",
    }


def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def company_body(fields: Mapping[str, Any], references: References) -> tuple[dict, list[Problem]]:
    """The ConnectWise company body from the submitted form, or every problem with it."""
    problems: list[Problem] = []
    body: dict[str, Any] = {}
    for name, limit in COMPANY_LIMITS.items():
        text = _text(fields, name)
        label = COMPANY_LABELS[name]
        if len(text) > limit:
            problems.append(Problem(name, f"{label} has {len(text)} characters; ConnectWise allows at most {limit}"))
        elif text:
            body[name] = text
    identifier = body.get("identifier", "")
    if not _text(fields, "identifier"):
        problems.append(Problem("identifier", "Identifier is missing; ConnectWise needs one to tell companies apart"))
    elif identifier and not _IDENTIFIER.fullmatch(identifier):
        problems.append(Problem("identifier", "Identifier may hold only letters, digits, '.', '_' and '-', "
                                              "starting with a letter or digit"))
    if not _text(fields, "name"):
        problems.append(Problem("name", "Company name is missing"))
    if body.get("phoneNumber") and not _PHONE.fullmatch(body["phoneNumber"]):
        problems.append(Problem("phoneNumber", "Phone may hold only digits, spaces and + ( ) - . /"))
    if body.get("website") and not _WEBSITE.fullmatch(body["website"]):
        problems.append(Problem("website", "Website is not a web address such as example.com"))
    for name, key in (("country", "country"), ("type", "type"), ("status", "status")):
        value = _text(fields, name)
        choice = references.find(name, value) if value else None
        if value and choice is None:
            problems.append(Problem(name, f"{COMPANY_LABELS[name]} is not one ConnectWise offers; choose one from the list"))
        elif choice is None and name != "country" and references.of(name):
            problems.append(Problem(name, f"{COMPANY_LABELS[name]} is missing; choose one from the list"))
        elif choice is not None:
            body[key] = {"id": choice.id}
    if "type" in body:
        body["types"] = [body.pop("type")]
    if not any(body.get(name) for name in ADDRESS_FIELDS):
        problems.append(Problem("addressLine1", "Give at least one address field (address line, city, state, zip "
                                                "or country); ConnectWise needs one"))
    return body, problems


# --- catalog items -------------------------------------------------------------------------

def propose_catalog_form(proposal: Mapping[str, Any], references: References) -> dict[str, str]:
    """The add-to-catalog form from a proposed item (cwsync.domain.matching.propose_catalog_item)."""
    wanted_sub = (proposal.get("subcategory") or {}).get("id")
    sub = references.default("subcategory", int(wanted_sub) if wanted_sub is not None else None)
    category = references.default("category", sub.parent if sub else None)
    if sub is not None and category is not None and sub.parent not in (None, category.id):
        sub = references.default("subcategory", parent=category.id)
    wanted_type = (proposal.get("type") or {}).get("id")
    kind = references.default("type", int(wanted_type) if wanted_type is not None else None)
    return {
        "identifier": str(proposal.get("identifier") or ""), "description": str(proposal.get("description") or ""),
        "customerDescription": str(proposal.get("customerDescription") or ""),
        "price": _plain(proposal.get("price")), "cost": _plain(proposal.get("cost")),
        "category": str(category.id) if category else "", "subcategory": str(sub.id) if sub else "",
        "type": str(kind.id) if kind else "", "taxableFlag": "true" if proposal.get("taxableFlag") else "false",
    }


def _plain(value: Any) -> str:
    amount = number(value)
    return "" if amount is None else format(amount, "f")


def catalog_item_body(fields: Mapping[str, Any], proposal: Mapping[str, Any], references: References, *,
                      currency: str | None = None, max_digits: int = 9) -> tuple[dict, list[Problem]]:
    """The ConnectWise catalog item body: the proposal with the edited fields, or every problem."""
    problems: list[Problem] = []
    body = dict(proposal)
    for name, limit in CATALOG_LIMITS.items():
        text = _text(fields, name)
        label = CATALOG_LABELS[name]
        if not text:
            problems.append(Problem(name, f"{label} is missing; ConnectWise needs it for a catalog item"))
        elif len(text) > limit:
            problems.append(Problem(name, f"{label} has {len(text)} characters; ConnectWise allows at most {limit}"))
        body[name] = text
    if _text(fields, "identifier") and any(ch in _text(fields, "identifier") for ch in "\"\\"):
        problems.append(Problem("identifier", "Identifier may not hold quotes or backslashes"))
    for name in ("price", "cost"):
        found = check_amount(fields.get(name), CATALOG_LABELS[name], currency, max_digits=max_digits)
        problems += [Problem(name, p.reason) for p in found]
        if not found:
            body[name] = Decimal(str(fields.get(name)).strip())
    chosen = {}
    for name in ("category", "subcategory", "type"):
        choice = references.find(name, fields.get(name))
        if choice is None:
            problems.append(Problem(name, f"{CATALOG_LABELS[name]} is missing or not one ConnectWise offers; "
                                          "choose one from the list"))
        else:
            chosen[name] = choice
            body[name] = {"id": choice.id}
    sub, category = chosen.get("subcategory"), chosen.get("category")
    if sub and category and sub.parent is not None and sub.parent != category.id:
        problems.append(Problem("subcategory", f"Subcategory {sub.name} is not in category {category.name}; "
                                               "choose one of that category's subcategories"))
    body["taxableFlag"] = str(fields.get("taxableFlag") or "").strip().casefold() in _TRUE
    if body.get("recurringFlag") and not any(p.field in ("price", "cost") for p in problems):
        body.update(recurringRevenue=body["price"], recurringCost=body["cost"])
    return body, problems
