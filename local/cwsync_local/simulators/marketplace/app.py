"""The marketplace API over HTTP: routing, auth, filters and paging (a Werkzeug WSGI app)."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Callable

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from cwsync_local.simulators.marketplace import queries
from cwsync_local.simulators.marketplace.auth import TokenIssuer
from cwsync_local.simulators.marketplace.data import (
    ORDER_STATUSES, SUBSCRIPTION_LIST_FIELDS, SUBSCRIPTION_STATUSES, MarketplaceData, order_subscription_ids,
    parse_time)
from cwsync_local.simulators.marketplace.responses import (
    ApiError, error_response, json_response, raw_json_response)

ROUTES = Map([
    Rule("/token", methods=["POST"], endpoint="token"),
    Rule("/customers", methods=["GET"], endpoint="customers"),
    Rule("/customers/<record_id>", methods=["GET"], endpoint="customer"),
    Rule("/orders", methods=["GET"], endpoint="orders"),
    Rule("/orders/<record_id>", methods=["GET"], endpoint="order"),
    Rule("/subscriptions", methods=["GET"], endpoint="subscriptions"),
    Rule("/subscriptions/<record_id>", methods=["GET"], endpoint="subscription"),
    Rule("/products", methods=["GET"], endpoint="products"),
], strict_slashes=False)


class MarketplaceApp:
    """WSGI app; wrap it in FaultInjector and CorrelationId (see `start`)."""

    def __init__(self, data: MarketplaceData, tokens: TokenIssuer):
        self.data = data
        self.tokens = tokens

    def __call__(self, environ, start_response):
        return self.dispatch(Request(environ))(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        try:
            endpoint, values = ROUTES.bind_to_environ(request.environ).match()
            if endpoint == "token":
                return json_response(self.tokens.issue(request.headers, _json_body(request)))
            self.tokens.authorise(request.headers)
            return getattr(self, f"get_{endpoint}")(request.args, **values)
        except ApiError as error:
            return error_response(error)
        except NotFound:
            return error_response(ApiError(404, f"No resource at {request.path}."))
        except MethodNotAllowed as error:
            allowed = ", ".join(sorted(error.valid_methods or ()))
            return error_response(ApiError(405, f"{request.method} is not supported on {request.path} "
                                                f"by this simulator (allowed: {allowed}).",
                                           headers={"Allow": allowed}))
        except HTTPException as error:
            return error_response(ApiError(error.code or 500, error.description or "HTTP error"))

    # -- single records ------------------------------------------------------------------
    def _one(self, kind: str, record_id: str) -> Response:
        record = self.data.find(kind, record_id)
        if record is None:
            raise ApiError(404, f"{kind[:-1].capitalize()} {record_id!r} was not found.")
        return json_response(record)

    def get_customer(self, args, record_id: str) -> Response:
        return self._one("customers", record_id)

    def get_order(self, args, record_id: str) -> Response:
        return self._one("orders", record_id)

    def get_subscription(self, args, record_id: str) -> Response:
        return self._one("subscriptions", record_id)

    # -- lists -----------------------------------------------------------------------------
    def get_orders(self, args) -> Response:
        page = queries.page(args)
        start, end = queries.instant(args, "creationTimeFrom"), queries.instant(args, "creationTimeTo")
        queries.check_range(start, end, "creationTimeFrom", "creationTimeTo")
        tests = _order_tests(args)
        index = self.data.order_index
        first, last = index.window(start, end)
        if tests:
            matching = [o for o in index.orders[first:last] if all(test(o) for test in tests)]
            total, chosen = len(matching), matching[page.offset:page.offset + page.limit]
        else:  # the common case (a time window) needs no scan at all
            total = last - first
            chosen = index.orders[first + page.offset:min(last, first + page.offset + page.limit)]
        rows = ",".join(index.summary_json(order) for order in chosen)
        pagination = json.dumps({"offset": page.offset, "limit": page.limit, "total": total})
        return raw_json_response(f'{{"data": [{rows}], "pagination": {pagination}}}')

    def get_customers(self, args) -> Response:
        name, email = queries.text(args, "name"), queries.text(args, "email")
        external_id, reseller_id = queries.text(args, "externalId"), queries.text(args, "resellerId")
        tests: list[Callable[[dict], bool]] = []
        if name:
            tests.append(lambda c: name.casefold() in str(c.get("name", "")).casefold())
        if email:
            tests.append(lambda c: any(str(p.get("email", "")).casefold() == email.casefold()
                                       for p in c.get("contactPersons") or []))
        if external_id:
            tests.append(lambda c: c.get("externalId") == external_id)
        if reseller_id:
            tests.append(lambda c: c.get("resellerId") == reseller_id)
        return _paged(args, self.data.customers_newest_first, tests)

    def get_subscriptions(self, args) -> Response:
        customer_id = queries.text(args, "customerId")
        status = queries.choice(args, "status", SUBSCRIPTION_STATUSES)
        start, end = queries.instant(args, "creationDateFrom"), queries.instant(args, "creationDateTo")
        queries.check_range(start, end, "creationDateFrom", "creationDateTo")
        tests: list[Callable[[dict], bool]] = []
        if customer_id:
            tests.append(lambda s: s.get("customerId") == customer_id)
        if status:
            tests.append(lambda s: s.get("status") == status)
        if start or end:
            tests.append(lambda s: _within(s.get("creationDate"), start, end))
        return _paged(args, self.data.subscriptions_newest_first, tests,
                      shape=lambda s: {k: s[k] for k in SUBSCRIPTION_LIST_FIELDS if k in s})

    def get_products(self, args) -> Response:
        tests: list[Callable[[dict], bool]] = []
        for name in ("name", "serviceName"):
            wanted = queries.text(args, name)
            if wanted:
                tests.append(lambda p, n=name, w=wanted: w.casefold() in str(p.get(n, "")).casefold())
        for name in ("mpn", "vendor"):
            wanted = queries.text(args, name)
            if wanted:
                tests.append(lambda p, n=name, w=wanted: str(p.get(n, "")).casefold() == w.casefold())
        return _paged(args, self.data.records("products"), tests)


def _order_tests(args) -> list[Callable[[dict], bool]]:
    tests: list[Callable[[dict], bool]] = []
    status = queries.choice(args, "status", ORDER_STATUSES)
    if status:
        tests.append(lambda o: o.get("status") == status)
    for name in ("customerId", "orderNumber", "statusCode"):
        wanted = queries.text(args, name)
        if wanted:
            tests.append(lambda o, n=name, w=wanted: str(o.get(n, "")) == w)
    subscription_id = queries.text(args, "subscriptionId")
    if subscription_id:
        tests.append(lambda o: subscription_id in order_subscription_ids(o))
    return tests


def _within(value: str | None, start: datetime | None, end: datetime | None) -> bool:
    if not value:
        return False
    moment = parse_time(value, "creationDate")
    return (start is None or moment >= start) and (end is None or moment < end)


def _paged(args, records: list[dict], tests, shape: Callable[[dict], dict] = lambda r: r) -> Response:
    page = queries.page(args)
    matching = [r for r in records if all(test(r) for test in tests)]
    chosen = [shape(r) for r in matching[page.offset:page.offset + page.limit]]
    return json_response(page.envelope(chosen, len(matching)))


def _json_body(request: Request) -> object:
    raw = request.get_data(cache=False)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The request body is not valid JSON.") from None
