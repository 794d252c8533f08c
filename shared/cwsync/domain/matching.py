"""Finding the ConnectWise company and catalog item that a marketplace customer and product are.

A match is automatic only on evidence a billing person would accept without looking
(an id, or the same name once noise is removed); everything else becomes ranked options
with a reason each, for a person to choose from.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from difflib import SequenceMatcher
from typing import Any, Iterable, Mapping, Sequence

from cwsync.domain.models import Charge, CustomerRecord, OrderLine
from cwsync.domain.records import CatalogItemRecord, CompanyRecord
from cwsync.vocabulary import DEFAULT_COST_FIELD, DEFAULT_PRICE_FIELD, ChargeType, MatchBasis

MAX_CANDIDATES = 5
MIN_SIMILARITY = 0.35
# A similar name is offered to a person, never recommended nor taken automatically: only exact
# evidence (an id, MPN, vendor SKU, identifier, remembered link or the same normalised name) is.


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    eligible: bool
    reason: str

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "eligible": self.eligible, "reason": self.reason}


@dataclass(frozen=True)
class Match:
    chosen: str | None
    options: list[Option] = field(default_factory=list)
    explanation: str = ""
    # False when the options are only guesses a person must make (similar names): nothing is recommended.
    recommend_best: bool = True
    # Which exact evidence the chosen option rests on (`cwsync.vocabulary.MatchBasis`); None when nothing is chosen.
    basis: str | None = None

    @property
    def recommended(self) -> str | None:
        """The chosen option, else the best eligible one (options are ranked best first)."""
        if self.chosen is not None:
            return self.chosen
        if not self.recommend_best:
            return None
        return next((o.id for o in self.options if o.eligible), None)

    def to_dict(self) -> dict:
        return {"chosen": self.chosen, "recommended": self.recommended,
                "explanation": self.explanation, "options": [o.to_dict() for o in self.options]}


# Legal-form words that say nothing about which company it is. Dots are removed before
# this check, so "L.L.C." arrives as "llc" and "S.A." as "sa".
LEGAL_SUFFIXES = frozenset("""
    llc inc incorporated ltd limited gmbh corp corporation co company llp lp plc sa
    bv nv ag pty kg ohg ug mbh se spa srl sarl sas oy ab aps pte pvt bhd sdn kk
""".split())
_JOINING_MARKS = re.compile(r"[.'\"`\u2018\u2019\u201a\u201b\u201c\u201d\u00b4]")
_SEPARATORS = re.compile(r"[^0-9a-z]+")


def normalise_company_name(name: str | None) -> str:
    """A company name reduced to what identifies the company.

    Ignores case, accents, punctuation, spacing and a trailing legal form, and reads "&"
    as "and": "Green Lane, L.L.C." == "GREEN LANE LLC"; 'O"Brien & Sons (EU)' ==
    "OBrien and Sons EU". Accents are folded on purpose ("Müller GmbH" == "MULLER"):
    ConnectWise names are often typed without them. "Mueller" stays a different
    spelling (a similar candidate, never an automatic match).
    """
    text = unicodedata.normalize("NFKC", name or "").casefold().replace("&", " and ")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    # Quotes and dots join ("O'Brien" -> "obrien", "L.L.C." -> "llc"); other punctuation separates.
    words = _SEPARATORS.sub(" ", _JOINING_MARKS.sub("", text)).split()
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
        if words[-1:] == ["and"] and len(words) > 1:  # "& Co." is one legal form
            words.pop()
    return " ".join(words)


def similarity(a: str, b: str) -> float:
    """0..1 for normalised names: mostly spelling similarity, partly shared words (typos and plurals stay close)."""
    a, b = normalise_company_name(a), normalise_company_name(b)
    if not a or not b:
        return 0.0
    chars = SequenceMatcher(None, a, b).ratio()
    words_a, words_b = set(a.split()), set(b.split())
    words = len(words_a & words_b) / len(words_a | words_b)
    return round(0.7 * chars + 0.3 * words, 2)


def match_customer(customer: CustomerRecord, companies: Iterable[CompanyRecord], *,
                   id_field: str | None = None) -> Match:
    """Find the ConnectWise company of a marketplace customer (`GET /customers/{id}`).

    1. identifier (or the custom field `id_field`, by caption or id) equals the
       customer id or externalId → chosen; 2. same normalised name → chosen;
    3. otherwise up to five similar names, ranked, and nothing chosen.
    Deleted companies are never options. Two companies with equal evidence are
    offered to a person rather than guessed between.
    """
    keys = {value: source for source, value in (("id", customer.id), ("externalId", customer.external_id))
            if value not in (None, "")}
    name = customer.name or ""
    wanted = normalise_company_name(name)
    present = [c for c in companies if not c.deleted]
    live = [c for c in present if not c.inactive]
    inactive = [c for c in present if c.inactive]

    def evidence(company: CompanyRecord) -> str | None:
        found = _id_evidence(company, keys, id_field)
        if found is None and wanted and normalise_company_name(company.name) == wanted:
            found = "Name matches after ignoring case, punctuation and legal suffix"
        return found

    passed_over = [Option(str(c.id), c.label, False, f"{evidence(c)}, but the company's status is {c.inactive}")
                   for c in inactive if evidence(c)]
    by_id = [Option(str(c.id), c.label, True, _id_evidence(c, keys, id_field))
             for c in live if _id_evidence(c, keys, id_field)]
    if by_id:
        basis = next((b for b, _ in filter(None, (_id_match(c, keys, id_field) for c in live))), None)
        return _with(_decide(by_id, "the marketplace customer's id", basis), passed_over)

    by_name = [Option(str(c.id), c.label, True, "Name matches after ignoring case, punctuation and legal suffix")
               for c in live if wanted and normalise_company_name(c.name) == wanted]
    if by_name:
        return _with(_decide(by_name, f"the name {name!r}", MatchBasis.EXACT_NAME), passed_over)

    scored = sorted(((similarity(name, c.name), c) for c in live), key=lambda sc: -sc[0])
    options = [Option(str(c.id), c.label, True,
                      f"Name is only {score:.0%} similar to {name!r}: check it is the same company")
               for score, c in scored[:MAX_CANDIDATES] if score >= MIN_SIMILARITY]
    ids = " or ".join(keys) or "(the customer has no id)"
    explanation = (f"No active ConnectWise company has identifier {ids}, or the name {name!r}; "
                   + (f"{len(options)} similar name(s) listed, none recommended" if options
                      else "add the company in ConnectWise"))
    return Match(None, options + passed_over, explanation, recommend_best=False)


def _with(match: Match, passed_over: list[Option]) -> Match:
    """The match, also listing the records passed over (shown as not eligible, with the reason)."""
    return Match(match.chosen, match.options + passed_over, match.explanation, match.recommend_best, match.basis)


def _id_evidence(company: CompanyRecord, keys: Mapping[str, str], id_field: str | None) -> str | None:
    found = _id_match(company, keys, id_field)
    return found[1] if found else None


def _id_match(company: CompanyRecord, keys: Mapping[str, str], id_field: str | None) -> tuple[str, str] | None:
    """(MatchBasis, evidence) when the company's identifier or id custom field is the customer's id."""
    identifier = company.identifier.strip()
    for value, source in keys.items():
        label = "customer id" if source == "id" else "customer externalId"
        if identifier and identifier.casefold() == value.casefold():
            return MatchBasis.IDENTIFIER, f"Company identifier equals marketplace {label} {value}"
        if id_field and company.custom_field(id_field) == value:
            return MatchBasis.CUSTOM_FIELD, f"Custom field {id_field!r} equals marketplace {label} {value}"
    return None


def _decide(options: list[Option], evidence: str, basis: str | None = None) -> Match:
    if len(options) == 1:
        return Match(options[0].id, options, options[0].reason, basis=basis)
    return Match(None, options, f"{len(options)} ConnectWise records match {evidence}; choose one")


# --- products -------------------------------------------------------------------------

def _clean_mpn(value: Any) -> str:
    return str(value or "").strip().casefold()


_CATALOG_BASIS = {"manufacturerPartNumber": MatchBasis.MPN, "vendorSku": MatchBasis.VENDOR_SKU,
                  "identifier": MatchBasis.CATALOG_IDENTIFIER}


def match_product(mpn: str, catalog: Iterable[CatalogItemRecord], *, name: str | None = None) -> Match:
    """Find the catalog item of a marketplace product by its manufacturer part number.

    An active item whose manufacturerPartNumber, vendorSku or identifier equals the MPN
    (case and surrounding spaces ignored) is chosen. Inactive items are listed as not
    eligible so a person sees why they were passed over. Otherwise the most similar
    items (by MPN, and by `name` against the description when given) are ranked.
    """
    mpn = str(mpn or "").strip()
    wanted = _clean_mpn(mpn)
    exact, inactive, scored = [], [], []
    hits: dict[str, str] = {}
    for item in catalog:
        fields = {"manufacturerPartNumber": _clean_mpn(item.manufacturer_part_number),
                  "vendorSku": _clean_mpn(item.vendor_sku), "identifier": _clean_mpn(item.identifier)}
        hit = next((f for f, v in fields.items() if v and v == wanted), None)
        if hit and item.inactive:
            inactive.append(Option(str(item.id), item.label, False,
                                   f"Catalog item {hit} equals MPN {mpn} but the item is inactive"))
        elif hit:
            hits[str(item.id)] = hit
            exact.append(Option(str(item.id), item.label, True, f"Catalog item {hit} equals marketplace MPN {mpn}"))
        elif not item.inactive:
            score = max([SequenceMatcher(None, wanted, v).ratio() for v in fields.values() if v] or [0.0])
            if name:
                score = max(score, similarity(name, item.description))
            scored.append((round(score, 2), item))
    if exact:
        decided = _decide(exact, f"MPN {mpn}")
        return Match(decided.chosen, exact + inactive, decided.explanation,
                     basis=_CATALOG_BASIS[hits[decided.chosen]] if decided.chosen else None)
    scored.sort(key=lambda si: -si[0])
    candidates = [Option(str(i.id), i.label, True,
                         f"Only {score:.0%} similar to {name or mpn}: another product unless you know better")
                  for score, i in scored[:MAX_CANDIDATES] if score >= MIN_SIMILARITY]
    explanation = (f"No active catalog item has MPN {mpn}; "
                   + (f"{len(candidates)} similar item(s) listed, none recommended, or add the product to ConnectWise"
                      if candidates else "add the product to ConnectWise"))
    return Match(None, candidates + inactive, explanation, recommend_best=False)


@dataclass(frozen=True)
class CatalogSettings:
    """Where a new catalog item goes in ConnectWise (ids from the operator's settings)."""

    subcategory_id: int
    type_id: int
    product_class: str = "NonInventory"
    taxable: bool = True
    cost_field: str = DEFAULT_COST_FIELD
    price_field: str = DEFAULT_PRICE_FIELD
    unit_of_measure_id: int | None = None


def truncate(text: str, limit: int) -> str:
    """Shorten to `limit` characters at a word boundary where one is near, ending with '…'."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def unit_amounts(charges: Sequence[Charge], mpn: str, *, cost_field: str, price_field: str,
                 types: Sequence[str] = (ChargeType.RECURRING, ChargeType.RENEW)) -> tuple[Decimal, Decimal] | None:
    """(unit price, unit cost) of a product from the order's charge lines, None if it has none."""
    for charge in charges:
        if charge.type in types and (charge.mpn or "").casefold() == mpn.casefold():
            price, cost = charge.amount(price_field), charge.amount(cost_field)
            if price is not None or cost is not None:
                return price if price is not None else Decimal(0), cost if cost is not None else Decimal(0)
    return None


def propose_catalog_item(line: OrderLine, charges: Sequence[Charge], settings: CatalogSettings) -> dict:
    """A ready ConnectWise catalog item body for a product the catalog does not have yet.

    Price and cost are the order's recurring charge for the product (settings decide
    which charge field is which); lengths respect the catalog contract.
    """
    price, cost = unit_amounts(charges, line.mpn, cost_field=settings.cost_field,
                               price_field=settings.price_field) or (Decimal(0), Decimal(0))
    body = {
        "identifier": line.mpn.strip()[:75],
        "description": truncate(line.name, 60),
        "customerDescription": truncate(line.name, 6000),
        "subcategory": {"id": int(settings.subcategory_id)},
        "type": {"id": int(settings.type_id)},
        "productClass": settings.product_class,
        "taxableFlag": settings.taxable,
        "price": price,
        "cost": cost,
        "manufacturerPartNumber": line.mpn.strip()[:50],
        "vendorSku": line.mpn.strip()[:50],
        "recurringFlag": line.is_recurring,
        "inactiveFlag": False,
    }
    if line.is_recurring:
        body.update(recurringRevenue=price, recurringCost=cost)
    if settings.unit_of_measure_id is not None:
        body["unitOfMeasure"] = {"id": int(settings.unit_of_measure_id)}
    return body
