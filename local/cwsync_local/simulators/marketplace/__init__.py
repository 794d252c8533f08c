"""A local stand-in for the reseller marketplace's API (CloudBlue Commerce SimpleAPI 1.15 shape).

Auth: `POST /token` with HTTP Basic user:password, `X-Subscription-Key` and body
{"marketplace": code} answers {"token", "expiresInSeconds"} (1500 by default, `token_ttl`
to change). Every other call needs `Authorization: Bearer <token>` and the subscription
key; a missing, unknown or expired token is a 401 (with `WWW-Authenticate: Bearer`).

Reads: `/customers`, `/customers/{id}`, `/orders`, `/orders/{id}`, `/subscriptions`,
`/subscriptions/{id}`, `/products`; other paths 404, other methods 405.
- Lists: `offset` (default 0), `limit` (default 10, 1..500; more is a 400, never cut
  silently) -> {"data", "pagination": {"offset", "limit", "total"}}.
- `/orders`: newest first (creationDate desc; equal times: higher id first). Filters
  customerId, subscriptionId (order or product line), orderNumber, status (enum, else
  400), statusCode — exact matches; creationTimeFrom (inclusive) and creationTimeTo
  (exclusive), ISO 8601 (no offset = UTC; a bare date = its midnight UTC). The list gives
  the `Order` shape; `/orders/{id}` the detailed one (products[], subscriptionId, billingModel).
- `/subscriptions`: newest first; customerId, status, creationDateFrom (incl.)/To (excl.).
- `/customers`: highest id first; name (contains, any case), email (a contact's, any
  case), externalId, resellerId. `/products`: seed order; name/serviceName (contains),
  mpn/vendor (equal, any case).

Every answer (errors and injected faults too) carries X-Correlation-ID: the caller's,
else a new UUID. Errors are {"code": "<HTTP reason, one word>", "message": "..."}: the
contract has no error schema. Data comes from the seed (docs/SEED.md); tests add records
with `sim.add_orders([...])` and friends, each saved to the state file.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable, Iterable

from cwsync_local.simulators.common import FaultInjector, Faults, RunningSimulator, StateFile, start_in_thread
from cwsync_local.simulators.marketplace.app import MarketplaceApp
from cwsync_local.simulators.marketplace.auth import DEFAULT_TOKEN_TTL, TokenIssuer
from cwsync_local.simulators.marketplace.data import MarketplaceData
from cwsync_local.simulators.marketplace.responses import CorrelationId, error_body

# Named like the marketplace secret's fields, so `{"baseUrl": sim.url, **sim.credentials}` is one.
DEFAULT_CREDENTIALS = {
    "username": "api-user@reseller.example",
    "password": "local-password",
    "subscriptionKey": "local-subscription-key",
    "marketplace": "us",
}

__all__ = ["DEFAULT_CREDENTIALS", "DEFAULT_TOKEN_TTL", "MarketplaceSimulator", "build_app", "start"]


@dataclass
class MarketplaceSimulator(RunningSimulator):
    """A running marketplace simulator plus Python-level ways for tests to change its data."""

    data: MarketplaceData | None = None
    tokens: TokenIssuer | None = None

    def add_orders(self, orders: Iterable[dict]) -> list[dict]:
        return self.data.add_orders(orders)

    def add_customers(self, customers: Iterable[dict]) -> list[dict]:
        return self.data.add_customers(customers)

    def add_subscriptions(self, subscriptions: Iterable[dict]) -> list[dict]:
        return self.data.add_subscriptions(subscriptions)

    def add_products(self, products: Iterable[dict]) -> list[dict]:
        return self.data.add_products(products)

    def update_order(self, order_id: str, changes: dict) -> dict:
        return self.data.update_order(order_id, changes)


def build_app(state: StateFile, *, faults: Faults | None = None, request_log: str | Path | None = None,
              credentials: dict[str, str] | None = None, token_ttl: int = DEFAULT_TOKEN_TTL,
              clock: Callable[[], float] | None = None):
    """The whole WSGI stack: correlation id outermost, so injected faults carry it too."""
    data = MarketplaceData(state)
    options = {"clock": clock} if clock else {}
    tokens = TokenIssuer({**DEFAULT_CREDENTIALS, **(credentials or {})}, ttl=token_ttl, **options)
    app = CorrelationId(FaultInjector(MarketplaceApp(data, tokens), faults, request_log=request_log,
                                      error_body=error_body))
    return app, data, tokens


def start(seed: str | Path | dict | None = None, *, state: str | Path | None = None, faults: Faults | None = None,
          request_log: str | Path | None = None, credentials: dict[str, str] | None = None, port: int = 0,
          host: str = "127.0.0.1", token_ttl: int = DEFAULT_TOKEN_TTL,
          clock: Callable[[], float] | None = None) -> MarketplaceSimulator:
    """Serve the marketplace in a background thread; `seed` is a path or a seed-format dict."""
    state_file = StateFile("marketplace", seed=seed, state=state)
    app, data, tokens = build_app(state_file, faults=faults, request_log=request_log, credentials=credentials,
                                  token_ttl=token_ttl, clock=clock)
    running = start_in_thread("marketplace", app, state_file, tokens.credentials, host=host, port=port,
                              request_log=request_log)
    return MarketplaceSimulator(**{f.name: getattr(running, f.name) for f in fields(RunningSimulator)},
                                data=data, tokens=tokens)
