"""ConnectWise Manage REST API 3.0 client: the only code that talks to ConnectWise.

Auth is Basic `companyId+publicKey:privateKey` plus the `clientId` header, with the API
version pinned in `Accept`. Lists follow the `Link: <...>; rel="next"` header (or
forward-only paging with `pageId`); no count call is made before a list. Retries follow
`cwsync.adapters.http`: reads are retried, a POST never is (the applier looks up the
ownership tag instead), a PATCH is retried only when every operation is a `replace`
(sending the same absolute values twice leaves the same result). cwsync never deletes in
ConnectWise: an addition ends with its `cancelledDate`.

Errors: 400/409/422 → `ExternalApiError` naming the fields ConnectWise complained about;
401/403 → `ConfigurationError` telling the operator what to check (never the keys);
404 → `NotFound`; 429/5xx after retries and network failures → `TransientError`.

Money fields in request bodies may be Decimal, int or numeric strings: they are sent as
JSON numbers with their exact digits. Non-integer numbers in answers are Decimals.
"""
from __future__ import annotations

import logging
import re
from datetime import date, datetime
from typing import Any, Iterable, Iterator, Mapping, Sequence
from urllib.parse import urlsplit

import requests

from cwsync.adapters import cw_records
from cwsync.adapters.cw_records import parsed
from cwsync.adapters.conditions import Condition, all_of, any_of, field, render
from cwsync.adapters.http import (DEFAULT_TIMEOUT, HttpClient, RetryPolicy, Timeout,
                                  format_datetime, loads)
from cwsync.adapters.connectwise_wire import access_error, discover_base_url, error_detail, prepare_body, prepare_value
from cwsync.domain.operations import has_adjustment_tag
from cwsync.domain.records import (AdditionRecord, AdjustmentRecord, AgreementRecord, CatalogItemRecord,
                                   CompanyRecord)
from cwsync.errors import ConfigurationError, ExternalApiError, NotFound

log = logging.getLogger(__name__)

API_VERSION = "2025.1"
MAX_PAGE_SIZE = 1000
ADDITION_LOOKUP_FIELDS = ("id", "serialNumber", "product", "quantity", "unitPrice", "unitCost",
                          "effectiveDate", "cancelledDate", "billCustomer", "agreementId")
ADJUSTMENT_LOOKUP_FIELDS = ("id", "description", "amount", "effectiveDate", "agreementId")
CATALOG_LOOKUP_FIELDS = ("id", "identifier", "description", "price", "cost", "inactiveFlag")
# What the agreement rules (and the option labels) read of an agreement; nothing else is fetched.
AGREEMENT_RULE_FIELDS = ("id", "name", "company/id", "agreementStatus", "cancelledFlag", "billingCycle/id",
                         "billingCycle/name", "currency/id", "currency/currencyCode")
# What the planner reads of an addition and of a catalog item.
PLAN_ADDITION_FIELDS = ("id", "serialNumber", "product", "quantity", "unitPrice", "unitCost", "effectiveDate",
                        "cancelledDate", "billCustomer", "taxableFlag", "description", "agreementId")
PLAN_CATALOG_FIELDS = ("id", "identifier", "description", "price", "cost", "taxableFlag", "inactiveFlag")
# What the customer page shows of a company found by search, and the reference lists' fields.
COMPANY_SEARCH_FIELDS = ("id", "identifier", "name", "status", "deletedFlag")
SEARCH_LIMIT = 25
SEARCH_TEXT_LIMIT = 50
REFERENCE_FIELDS = ("id", "name", "defaultFlag", "inactiveFlag")
COMPANY_REFERENCE_PATHS = {"type": "/company/companies/types", "status": "/company/companies/statuses",
                           "country": "/company/countries"}
REFERENCE_EXTRA_FIELDS = {"country": ("countryCode",), "subcategory": ("category",)}
CATALOG_REFERENCE_PATHS = {"category": "/procurement/categories", "subcategory": "/procurement/subcategories",
                           "type": "/procurement/types"}
# Characters a subscription tag prefix may hold and still be sent as a `like` pattern whose
# matches include every tag with that prefix (others: every addition is read and filtered).
_LIKE_SAFE = re.compile(r"[A-Za-z0-9 ._:/%*_-]*")
_CONTAINS_LIMIT = 200  # characters of a long description used in a `contains` lookup


class ConnectWiseClient:
    """One ConnectWise Manage tenant."""

    service = "ConnectWise"

    def __init__(self, base_url: str, company_id: str, public_key: str, private_key: str, client_id: str, *,
                 timeout: Timeout = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                 api_version: str = API_VERSION, limiter: Any = None):
        if not all((base_url, company_id, public_key, private_key, client_id)):
            raise ConfigurationError("ConnectWise settings are incomplete: base URL, company id, public key, "
                                     "private key and clientId are all required.")
        self.base_url = base_url.rstrip("/")
        self.company_id = company_id
        self.http = HttpClient(self.service, timeout=timeout, retry=retry,
                               auth=(f"{company_id}+{public_key}", private_key),
                               headers={"clientId": client_id,
                                        "Accept": f"application/vnd.connectwise.com+json; version={api_version}"},
                               limiter=limiter)  # cwsync.adapters.rate_limit.SharedRateLimit

    # ---- construction -------------------------------------------------------------

    @classmethod
    def discover(cls, site_url: str, company_id: str, public_key: str, private_key: str, client_id: str, *,
                 timeout: Timeout = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                 **options: Any) -> "ConnectWiseClient":
        """Find the API base URL from `{site_url}/login/companyinfo/{company_id}` and build a client."""
        base_url = discover_base_url(site_url, company_id, timeout=timeout, retry=retry, limiter=options.get("limiter"))
        return cls(base_url,
                   company_id, public_key, private_key, client_id, timeout=timeout, retry=retry, **options)

    @classmethod
    def from_secret(cls, secret: Mapping[str, Any], **options: Any) -> "ConnectWiseClient":
        """From the secret's JSON (`siteUrl` or `baseUrl`, `companyId`, `publicKey`, `privateKey`, `clientId`)."""
        missing = [key for key in ("companyId", "publicKey", "privateKey", "clientId") if not secret.get(key)]
        if missing or not (secret.get("baseUrl") or secret.get("siteUrl")):
            names = missing + ([] if secret.get("baseUrl") or secret.get("siteUrl") else ["siteUrl or baseUrl"])
            raise ConfigurationError(f"The ConnectWise secret lacks {', '.join(names)}.")
        keys = (str(secret["companyId"]), secret["publicKey"], secret["privateKey"], secret["clientId"])
        if secret.get("baseUrl"):
            return cls(secret["baseUrl"], *keys, **options)
        return cls.discover(secret["siteUrl"], *keys, **options)

    def close(self) -> None:
        self.http.close()

    @property
    def requests_sent(self) -> int:
        return self.http.requests_sent

    # ---- generic REST ---------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def list(self, path: str, conditions: Condition | str | None = None, fields: Iterable[str] | None = None,
             order_by: str | None = None, page_size: int = MAX_PAGE_SIZE, *,
             forward_only: bool = False, child_conditions: Condition | str | None = None) -> Iterator[dict]:
        """Every object of a collection, page by page, following the `Link` header's `next`."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
        params: dict[str, Any] = {"pageSize": page_size}
        if render(conditions):
            params["conditions"] = render(conditions)
        if render(child_conditions):
            params["childConditions"] = render(child_conditions)
        if fields:
            params["fields"] = ",".join(fields)
        if order_by and not forward_only:
            params["orderBy"] = order_by
        headers = {"pagination-type": "forward-only"} if forward_only else None
        url: str | None = self.url(path)
        seen_urls: set[str] = set()
        while url:
            response = self._send("GET", url, params=params, headers=headers, what=f"list {path}")
            page = self._json(response)
            if not isinstance(page, list):
                raise ExternalApiError(f"ConnectWise answered GET {path} with {type(page).__name__}, expected a list.")
            yield from page
            next_url = _next_link(response)
            if not page or not next_url or next_url in seen_urls:
                break
            seen_urls.add(next_url)
            url, params = next_url, None  # the next link carries every query parameter

    def first(self, path: str, conditions: Condition | str | None = None,
              fields: Iterable[str] | None = None, order_by: str | None = None) -> dict | None:
        """The first match or None, in one request."""
        return next(iter(self.list(path, conditions, fields, order_by, page_size=1)), None)

    def get(self, path: str, fields: Iterable[str] | None = None) -> dict:
        params = {"fields": ",".join(fields)} if fields else None
        return self._json(self._send("GET", self.url(path), params=params, what=f"read {path}"))

    def create(self, path: str, body: Mapping[str, Any]) -> dict:
        """POST once, never retried after it may have reached ConnectWise."""
        return self._json(self._send("POST", self.url(path), body=prepare_body(body), what=f"create in {path}"))

    def patch(self, path: str, ops: Sequence[Mapping[str, Any]]) -> dict:
        """JSON Patch list; retried on failure only when every operation is a `replace`."""
        ops = [dict(op, value=prepare_value(op["path"], op["value"])) if "value" in op else dict(op)
               for op in ops]
        idempotent = all(op.get("op") == "replace" for op in ops)
        return self._json(self._send("PATCH", self.url(path), body=ops, idempotent=idempotent,
                                     what=f"update {path}"))

    # ---- companies, catalog, agreements -----------------------------------------------

    def companies(self, conditions: Condition | str | None = None, fields: Iterable[str] | None = None,
                  order_by: str | None = None) -> list[CompanyRecord]:
        """Companies, typed; InvalidRecord names one cwsync cannot read."""
        return parsed(cw_records.company, self.list("/company/companies", conditions, fields, order_by))

    def catalog_items(self, conditions: Condition | str | None = None,
                      fields: Iterable[str] | None = None) -> list[CatalogItemRecord]:
        """Catalog items, typed; InvalidRecord names one cwsync cannot read."""
        return parsed(cw_records.catalog_item, self.list("/procurement/catalog", conditions, fields))

    def find_catalog_item(self, identifier: str,
                          fields: Iterable[str] | None = CATALOG_LOOKUP_FIELDS) -> CatalogItemRecord | None:
        found = self.first("/procurement/catalog", field("identifier").eq(identifier), fields)
        return cw_records.catalog_item(found) if found is not None else None

    def create_catalog_item(self, body: Mapping[str, Any]) -> CatalogItemRecord:
        return cw_records.catalog_item(self.create("/procurement/catalog", body))

    # ---- new companies and catalog items: search, reference lists, create ------------------

    def search_companies(self, text: str, limit: int = SEARCH_LIMIT) -> list[CompanyRecord]:
        """Companies (not deleted) whose name or identifier contains `text`, by name, at most `limit`,
        in one request; the text is quoted by `conditions`, so it never changes the query."""
        text = " ".join(str(text or "").split())[:SEARCH_TEXT_LIMIT]
        if not text:
            return []
        wanted = all_of(any_of(field("name").contains(text), field("identifier").contains(text)),
                        field("deletedFlag").eq(False))
        page = self.list("/company/companies", wanted, COMPANY_SEARCH_FIELDS, "name asc", page_size=limit)
        return parsed(cw_records.company, (record for _, record in zip(range(limit), page)))

    def find_company(self, identifier: str) -> CompanyRecord | None:
        """The company with exactly this identifier (how a company cwsync created is found again)."""
        found = self.first("/company/companies", field("identifier").eq(identifier), COMPANY_SEARCH_FIELDS)
        return cw_records.company(found) if found else None

    def create_company(self, body: Mapping[str, Any]) -> CompanyRecord:
        return cw_records.company(self.create("/company/companies", body))

    def company_references(self) -> dict[str, list[dict]]:
        """What a new company is placed with: company types, statuses and countries."""
        return self._references(COMPANY_REFERENCE_PATHS)

    def catalog_references(self) -> dict[str, list[dict]]:
        """What a new catalog item is placed with: categories, subcategories and product types."""
        return self._references(CATALOG_REFERENCE_PATHS)

    def _references(self, paths: Mapping[str, str]) -> dict[str, list[dict]]:
        return {name: list(self.list(path, fields=REFERENCE_FIELDS + REFERENCE_EXTRA_FIELDS.get(name, ())))
                for name, path in paths.items()}

    def agreements(self, company_id: str | int | None = None, conditions: Condition | str | None = None,
                   fields: Iterable[str] | None = None) -> list[dict]:
        company = field("company/id").eq(int(company_id)) if company_id is not None else None
        return list(self.list("/finance/agreements", all_of(company, conditions), fields))

    def agreement(self, agreement_id: str | int, fields: Iterable[str] | None = None) -> dict:
        return self.get(f"/finance/agreements/{int(agreement_id)}", fields)

    # ---- what the sync steps read, in as few requests as they need ----------------------

    def company(self, company_id: str | int) -> CompanyRecord:
        return cw_records.company(self.get(f"/company/companies/{int(company_id)}"))

    def company_agreements(self, company_id: str | int) -> list[AgreementRecord]:
        """The company's agreements, typed, with what the agreement rules read (`AGREEMENT_RULE_FIELDS`);
        InvalidRecord names one cwsync cannot read."""
        return [cw_records.agreement(raw) for raw in self.agreements(company_id, fields=AGREEMENT_RULE_FIELDS)]

    def agreement_for_rules(self, agreement_id: str | int) -> AgreementRecord:
        """One agreement, typed, with what the agreement rules read; NotFound when it is gone."""
        return cw_records.agreement(self.agreement(agreement_id, AGREEMENT_RULE_FIELDS))

    def catalog_items_by_id(self, item_ids: Iterable[str | int]) -> list[CatalogItemRecord]:
        """These catalog items (what the planner reads of them), in one request."""
        return self.catalog_items(field("id").in_(list(item_ids)), fields=PLAN_CATALOG_FIELDS)

    def subscription_additions(self, agreement_id: str | int, tag_prefixes: Iterable[str],
                               product_ids: Iterable[Any] = ()) -> list[AdditionRecord]:
        """The agreement's additions whose `serialNumber` may be a tag starting with one of
        `tag_prefixes`, or whose product is one of `product_ids` (additions typed by hand carry
        no tag), in one request; every addition when a prefix cannot be sent as a `like`
        pattern (the caller filters by tag and product either way)."""
        conditions: list[Condition] = []
        for prefix in tag_prefixes:
            if not prefix or not _LIKE_SAFE.fullmatch(prefix):
                conditions = []
                break
            conditions.append(field("serialNumber").like(prefix + "*"))
            if prefix[-1:] in "-_:/ ":  # a tag typed by hand without the order part ("MP-SUB-1")
                conditions.append(field("serialNumber").eq(prefix[:-1]))
        ids = list(product_ids)
        if conditions and ids:
            conditions.append(field("product/id").in_(ids))
        return self.additions(agreement_id, any_of(*conditions), fields=PLAN_ADDITION_FIELDS)

    # ---- additions and adjustments ----------------------------------------------------

    def additions(self, agreement_id: str | int, conditions: Condition | str | None = None,
                  fields: Iterable[str] | None = None) -> list[AdditionRecord]:
        """The agreement's additions, typed; InvalidRecord names one cwsync cannot read."""
        return parsed(cw_records.addition, self.list(_additions(agreement_id), conditions, fields))

    def addition(self, agreement_id: str | int, addition_id: str | int,
                 fields: Iterable[str] | None = None) -> AdditionRecord:
        return cw_records.addition(self.get(f"{_additions(agreement_id)}/{int(addition_id)}", fields))

    def find_additions(self, agreement_id: str | int, serial_number: str,
                       fields: Iterable[str] | None = ADDITION_LOOKUP_FIELDS) -> list[AdditionRecord]:
        """Additions carrying an ownership tag (ConnectWise `serialNumber`), cancelled ones included."""
        return self.additions(agreement_id, field("serialNumber").eq(serial_number), fields)

    def create_addition(self, agreement_id: str | int, body: Mapping[str, Any]) -> AdditionRecord:
        return cw_records.addition(self.create(_additions(agreement_id), body))

    def cancel_addition(self, agreement_id: str | int, addition_id: str | int,
                        cancelled_date: datetime | date | str) -> dict:
        """End an addition: ConnectWise has no cancelled flag, only `cancelledDate`."""
        value = cancelled_date if isinstance(cancelled_date, str) else format_datetime(cancelled_date)
        return self.patch(f"{_additions(agreement_id)}/{int(addition_id)}",
                          [{"op": "replace", "path": "cancelledDate", "value": value}])

    def update_addition(self, agreement_id: str | int, addition_id: str | int,
                        changes: Mapping[str, Any]) -> dict:
        """Replace whole fields (a reference like `product` is replaced as a whole object)."""
        if not changes:
            raise ValueError("update_addition needs at least one field to change")
        return self.patch(f"{_additions(agreement_id)}/{int(addition_id)}",
                          [{"op": "replace", "path": name, "value": value} for name, value in changes.items()])

    def adjustments(self, agreement_id: str | int, conditions: Condition | str | None = None,
                    fields: Iterable[str] | None = None) -> list[AdjustmentRecord]:
        """The agreement's adjustments, typed; InvalidRecord names one cwsync cannot read."""
        return parsed(cw_records.adjustment, self.list(_adjustments(agreement_id), conditions, fields))

    def find_adjustments(self, agreement_id: str | int, description: str,
                         fields: Iterable[str] | None = ADJUSTMENT_LOOKUP_FIELDS) -> list[AdjustmentRecord]:
        """Adjustments whose description is exactly `description` (the tagged description)."""
        if len(description) <= _CONTAINS_LIMIT:
            condition = field("description").eq(description)
        else:  # keep the URL short; the exact comparison happens here
            condition = field("description").contains(description[:_CONTAINS_LIMIT])
        return [item for item in self.adjustments(agreement_id, condition, fields)
                if item.description == description]

    def find_tagged_adjustments(self, agreement_id: str | int, tag: str,
                                fields: Iterable[str] | None = ADJUSTMENT_LOOKUP_FIELDS) -> list[AdjustmentRecord]:
        """Adjustments whose description starts with the ownership tag `tag` (then a space, or nothing)."""
        found = self.adjustments(agreement_id, field("description").like(tag + "*"), fields)
        return [item for item in found if has_adjustment_tag(item.description, tag)]

    def create_adjustment(self, agreement_id: str | int, body: Mapping[str, Any]) -> AdjustmentRecord:
        return cw_records.adjustment(self.create(_adjustments(agreement_id), body))

    # ---- plumbing ---------------------------------------------------------------------

    def _send(self, method: str, url: str, *, what: str, params: Mapping[str, Any] | None = None,
              body: Any = None, headers: Mapping[str, str] | None = None,
              idempotent: bool | None = None) -> requests.Response:
        response = self.http.request(method, url, params=params, body=body, headers=headers, idempotent=idempotent)
        if response.status_code in (401, 403):
            raise access_error(response, method, urlsplit(url).path)
        self.http.raise_for_status(response, what=what, detail=error_detail)
        return response

    @staticmethod
    def _json(response: requests.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return loads(response.content)
        except ValueError:
            raise ExternalApiError(f"ConnectWise answered {response.request.method} {urlsplit(response.url).path} "
                                   "with something that is not JSON.", status=response.status_code) from None


def _next_link(response: requests.Response) -> str | None:
    link = response.links.get("next") if response.headers.get("Link") else None
    return link.get("url") if link else None


def _additions(agreement_id: str | int) -> str:
    return f"/finance/agreements/{int(agreement_id)}/additions"


def _adjustments(agreement_id: str | int) -> str:
    return f"/finance/agreements/{int(agreement_id)}/adjustments"
