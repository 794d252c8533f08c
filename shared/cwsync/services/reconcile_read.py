"""What a reconciliation reads, in as few requests as the two APIs allow.

Marketplace: the subscription list (paged), then the detail (products, quantities, prices)
of each billed subscription — the list carries no products. ConnectWise: the linked
companies' agreements in one listing per 100 companies (`company/id in (...)`), then
each agreement's additions in one listing (ConnectWise has no cross-agreement additions
collection; `fields` keeps the answers small), never one request per subscription.
Customers and products without a remembered link are matched in memory (one company
listing, one catalog listing) without remembering anything: linking stays with the
sync task's steps and their approvals.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable, Mapping

from cwsync.adapters import cw_records, mp_records
from cwsync.adapters.conditions import field as cw_field
from cwsync.domain import reconcile as r
from cwsync.domain.records import AgreementRecord
from cwsync.errors import CwsyncError, InvalidOrder, InvalidRecord

log = logging.getLogger(__name__)

# What `cw_records.agreement` reads: the agreement rules' fields and the invoicing dates.
AGREEMENT_FIELDS = ("id", "name", "company/id", "agreementStatus", "cancelledFlag", "billingCycle/name",
                    "currency/currencyCode", "billStartDate", "nextInvoiceDate", "endDate", "noEndingDateFlag")
ADDITION_FIELDS = ("id", "serialNumber", "product/id", "product/identifier", "quantity", "unitPrice", "unitCost",
                   "effectiveDate", "cancelledDate", "billCustomer", "taxableFlag", "description",
                   "invoiceDescription")
COMPANIES_PER_LISTING = 100  # keeps the conditions well under ConnectWise's ~2000-character URLs
RECENTLY_ENDED_DAYS = 90     # ended subscriptions still compared (their additions must stop)
WORKERS = 8
RECONCILE_FIX = "correct it in ConnectWise and run the reconciliation again"


@dataclass
class CustomerData:
    customer_id: str
    name: str
    company_id: str | None
    subscriptions: list = field(default_factory=list)  # r.Subscription


@dataclass
class Picture:
    customers: dict = field(default_factory=dict)      # customer id -> CustomerData
    agreements: dict = field(default_factory=dict)     # agreement id -> AgreementRecord
    additions: dict = field(default_factory=dict)      # agreement id -> [AdditionRecord]
    baselines: dict = field(default_factory=dict)      # addition id -> fields cwsync wrote
    products: dict = field(default_factory=dict)       # mpn casefold -> catalog item id
    catalog: dict = field(default_factory=dict)        # mpn casefold -> CatalogItemRecord (its taxable flag)
    problems: list = field(default_factory=list)       # [{"subscriptionId"|"customer", "problem"}]
    remembered: dict = field(default_factory=dict)     # subscription id -> remembered agreement id
    # company id -> why it is not compared: one of its agreements (or their additions) cannot be read, and
    # it may hold the very additions that bill a subscription (comparing without it could bill twice).
    unreadable: dict = field(default_factory=dict)

    def company_agreements(self, company_id: str | None) -> dict[str, AgreementRecord]:
        return {a: ag for a, ag in self.agreements.items()
                if company_id is not None and str(ag.company_id) == str(company_id)}


class Reader:
    def __init__(self, deps: Any, *, today: date, workers: int = WORKERS):
        self.deps = deps
        self.today = today
        self.workers = workers
        self._companies: list | None = None
        self._catalog: list | None = None

    def read(self, customer_id: str | None = None) -> Picture:
        picture = Picture()
        wanted: list[tuple[r.SubscriptionSummary, Mapping]] = []
        for raw in self.deps.marketplace.subscriptions(customer_id=customer_id):
            try:
                summary = mp_records.subscription_summary(raw)
            except InvalidRecord as error:
                picture.problems.append({"subscriptionId": str(error.record_id), "problem": str(error)})
                continue
            if self._wanted(summary):
                wanted.append((summary, raw))
        billed = [s for s, _ in wanted if s.billed]
        details = dict(zip((s.id for s in billed), self._parallel(self._detail, [s.id for s in billed])))
        from cwsync.adapters.store_batch import links

        customer_links = links(self.deps.store, "CUSTOMER", {s.customer_id for s, _ in wanted})
        picture.remembered = {k: str(v["agreementId"]) for k, v in
                              links(self.deps.store, "SUBSCRIPTION", [s.id for s, _ in wanted],
                                    sk="AGREEMENT").items() if v.get("agreementId") is not None}
        subscriptions: dict[str, list] = {}
        for summary, raw in wanted:
            try:
                sub = details[summary.id] if summary.billed else mp_records.subscription(raw, products=False)
            except CwsyncError as error:
                sub = error
            if isinstance(sub, Exception):
                picture.problems.append({"subscriptionId": summary.id, "problem": _problem(sub)})
                continue
            subscriptions.setdefault(sub.customer_id, []).append(sub)
        customers = sorted(subscriptions)
        if any(c not in customer_links for c in customers):
            self._companies = self.deps.connectwise.companies()  # once, before the threads match against it
        for customer_id, data in zip(customers, self._parallel(
                lambda c: self._customer(c, customer_links.get(c)), customers)):
            if isinstance(data, Exception):
                raise data
            data.subscriptions = subscriptions[customer_id]
            picture.customers[customer_id] = data
        companies = sorted({c.company_id for c in picture.customers.values() if c.company_id})
        for start in range(0, len(companies), COMPANIES_PER_LISTING):
            chunk = [int(c) if c.isdigit() else c for c in companies[start:start + COMPANIES_PER_LISTING]]
            typed, unreadable = cw_records.readable(cw_records.agreement, self.deps.connectwise.agreements(
                conditions=cw_field("company/id").in_(chunk), fields=AGREEMENT_FIELDS))
            picture.agreements.update((str(agreement.id), agreement) for agreement in typed)
            for raw, error in unreadable:
                company = cw_records.agreement_company(raw)
                for company_id in [str(company)] if company is not None else [str(c) for c in chunk]:
                    picture.unreadable.setdefault(company_id, error.told(RECONCILE_FIX))
        ids = sorted(picture.agreements, key=lambda a: (len(a), a))
        for agreement_id, additions in zip(ids, self._parallel(self._additions, ids)):
            if isinstance(additions, InvalidRecord):
                picture.unreadable.setdefault(str(picture.agreements[agreement_id].company_id),
                                              additions.told(RECONCILE_FIX))
                additions = []
            elif isinstance(additions, Exception):
                raise additions
            picture.additions[agreement_id] = additions
        from cwsync.adapters.written import WrittenRecords

        tagged = [a.id for items in picture.additions.values() for a in items if a.serial_number]
        picture.baselines = WrittenRecords(self.deps.store).for_additions(tagged)
        self._products(picture)
        return picture

    # --- marketplace -------------------------------------------------------------------------
    def _wanted(self, summary: r.SubscriptionSummary) -> bool:
        if summary.billed:
            return True
        if summary.ended:
            return summary.changed is None or summary.changed >= self.today - timedelta(days=RECENTLY_ENDED_DAYS)
        return False

    def _detail(self, sub_id: str) -> r.Subscription:
        return mp_records.subscription(self.deps.marketplace.subscription(sub_id))

    def _customer(self, customer_id: str, link: Mapping | None) -> CustomerData:
        if link:
            return CustomerData(customer_id, str(link.get("customerName") or link.get("companyName") or customer_id),
                                str(link["companyId"]))
        from cwsync.domain.matching import match_customer
        from cwsync.domain.models import CustomerRecord

        try:
            customer = self.deps.marketplace.customer(customer_id)
        except CwsyncError:
            customer = CustomerRecord(id=customer_id)
        name = customer.name or f"customer {customer_id}"
        match = match_customer(customer, self._companies or [], id_field=getattr(self.deps.settings,
                                                                           "customer_id_field", None))
        return CustomerData(customer_id, name, match.chosen)

    # --- ConnectWise ---------------------------------------------------------------------------
    def _additions(self, agreement_id: str) -> list:
        """The agreement's additions, typed by the adapter (InvalidRecord names one it cannot read)."""
        return self.deps.connectwise.additions(int(agreement_id) if agreement_id.isdigit() else agreement_id,
                                               fields=ADDITION_FIELDS)

    def _products(self, picture: Picture) -> None:
        from cwsync.adapters.store_batch import links
        from cwsync.domain.matching import match_product
        from cwsync.services.steps.product import remembered_catalog_item

        mpns = sorted({line.mpn for c in picture.customers.values() for s in c.subscriptions for line in s.lines})
        known = links(self.deps.store, "PRODUCT", mpns)
        unlinked = []
        for mpn in mpns:
            link = known.get(mpn)
            if link:
                picture.products[mpn.casefold()] = str(link["catalogItemId"])
                snapshot = remembered_catalog_item(link.get("catalogItem"))
                if snapshot is not None:
                    picture.catalog[mpn.casefold()] = snapshot
            else:
                unlinked.append(mpn)
        if unlinked:
            if self._catalog is None:
                self._catalog = self.deps.connectwise.catalog_items()
            for mpn in unlinked:
                match = match_product(mpn, self._catalog)
                if match.chosen:
                    picture.products[mpn.casefold()] = str(match.chosen)
                    item = next((i for i in self._catalog if str(i.id) == str(match.chosen)), None)
                    if item is not None:
                        picture.catalog[mpn.casefold()] = item

    def _parallel(self, work, items: list) -> list:
        def safe(item):
            try:
                return work(item)
            except CwsyncError as error:  # one unreadable record is reported, never the whole run
                return error
        if len(items) <= 1 or self.workers <= 1:
            return [safe(i) for i in items]
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="reconciliation") as pool:
            return list(pool.map(safe, items))


def targets(picture: Picture, data: CustomerData, remembered: Mapping[str, Any], tag_format: str,
            today: date) -> dict[str, Any]:
    """The agreement each subscription belongs on: the remembered one while eligible, else the
    eligible agreement already holding its tagged additions, else the company's only eligible one."""
    from cwsync.domain.agreements import select_agreement

    agreements = picture.company_agreements(data.company_id)
    chosen: dict[str, Any] = {}
    for sub in data.subscriptions:
        eligible = [a for a, ag in agreements.items() if not r.eligibility_problems(ag, sub, today)]
        known = remembered.get(sub.id)
        if known is not None and str(known) in eligible:
            chosen[sub.id] = str(known)
            continue
        prefix = r.tag_prefix(tag_format, sub.id)
        holding = [a for a in eligible for add in picture.additions.get(a, ())
                   if r.carries_tag(add, prefix) and r.is_live(add, r.next_billed_day(agreements[a], today))]
        if holding:
            chosen[sub.id] = holding[0]
            continue
        if not sub.billed:
            chosen[sub.id] = None
            continue
        try:
            match = select_agreement(list(agreements.values()),
                                     company_id=data.company_id, period=sub.period,
                                     currency=sub.currency or "", remembered_id=None, today=today)
        except InvalidOrder:  # a billing period no agreement cycle bills: reported as not billed, no agreement
            chosen[sub.id] = None
            continue
        chosen[sub.id] = match.chosen
    return chosen


def _problem(error: Exception) -> str:
    if isinstance(error, CwsyncError):
        return str(error)
    return "could not be read"


def chunks(values: Iterable[Any], size: int) -> Iterable[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]
