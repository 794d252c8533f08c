"""CloudBlue Commerce SimpleAPI (reseller marketplace) client: the only code that talks to the marketplace.

`POST /token` (Basic user:password + `X-Subscription-Key`, body `{"marketplace": code}`)
gives a bearer token that is cached, renewed shortly before it expires and once more
when a call answers 401. Every call carries `X-Subscription-Key`. Lists page with
`offset`/`limit` until `pagination.total`; the marketplace lists newest first, so an
order that arrives while we page can push one we already saw onto the next page: ids
already yielded are skipped. Every response's `X-Correlation-ID` is logged by the
transport. All calls are reads (or the token request, which is safe to repeat), so
429/5xx and network failures are retried per `RetryPolicy`.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import date, datetime
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import quote as quote_path

import requests

from cwsync.adapters import mp_records
from cwsync.adapters.http import DEFAULT_TIMEOUT, HttpClient, RetryPolicy, Timeout, format_datetime, loads
from cwsync.domain.models import CustomerRecord
from cwsync.errors import ConfigurationError, ExternalApiError

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 500
REFRESH_MARGIN_SECONDS = 60.0  # renew a token this long before it expires (at most a fifth of its life)


class MarketplaceClient:
    service = "The marketplace"

    def __init__(self, base_url: str, username: str, password: str, subscription_key: str, marketplace: str, *,
                 timeout: Timeout = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                 refresh_margin: float = REFRESH_MARGIN_SECONDS, clock: Callable[[], float] = time.monotonic,
                 pool_size: int = 10):
        if not all((base_url, username, password, subscription_key, marketplace)):
            raise ConfigurationError("Marketplace settings are incomplete: baseUrl, username, password, "
                                     "subscriptionKey and marketplace are all required.")
        self.base_url = base_url.rstrip("/")
        self.marketplace = marketplace
        self._credentials = (username, password)
        self.http = HttpClient(self.service, timeout=timeout, retry=retry,
                               headers={"X-Subscription-Key": subscription_key, "Accept": "application/json"},
                               send_correlation_id=True, pool_size=pool_size)
        self.refresh_margin = refresh_margin
        self.clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.tokens_issued = 0

    @classmethod
    def from_secret(cls, secret: Mapping[str, Any], **options: Any) -> "MarketplaceClient":
        keys = ("baseUrl", "username", "password", "subscriptionKey", "marketplace")
        missing = [key for key in keys if not secret.get(key)]
        if missing:
            raise ConfigurationError(f"The marketplace secret lacks {', '.join(missing)}.")
        return cls(*(secret[key] for key in keys), **options)

    def close(self) -> None:
        self.http.close()

    @property
    def requests_sent(self) -> int:
        return self.http.requests_sent

    # ---- reads ------------------------------------------------------------------------

    def orders(self, created_from: datetime | date | None = None, created_to: datetime | date | None = None,
               status: str | None = None, page_size: int = MAX_PAGE_SIZE, offset: int = 0,
               **filters: Any) -> Iterator[dict]:
        """Orders created in [created_from, created_to], newest first, as the API lists them,
        from the `offset`-th on (a run resuming a window it stopped in)."""
        params = dict(filters)
        if created_from is not None:
            params["creationTimeFrom"] = format_datetime(created_from)
        if created_to is not None:
            params["creationTimeTo"] = format_datetime(created_to)
        if status:
            params["status"] = status
        return self.list("/orders", params, page_size=page_size, offset=offset)

    def order(self, order_id: str) -> dict:
        return self.get(f"/orders/{quote_path(str(order_id), safe='')}")

    def customer(self, customer_id: str) -> CustomerRecord:
        """The customer, typed; InvalidRecord names a field cwsync cannot read."""
        return mp_records.customer(self.get(f"/customers/{quote_path(str(customer_id), safe='')}"))

    def subscription(self, subscription_id: str) -> dict:
        return self.get(f"/subscriptions/{quote_path(str(subscription_id), safe='')}")

    def subscriptions(self, customer_id: str | None = None, status: str | None = None) -> Iterator[dict]:
        params = {key: value for key, value in (("customerId", customer_id), ("status", status)) if value}
        return self.list("/subscriptions", params)

    # ---- generic ----------------------------------------------------------------------

    def list(self, path: str, params: Mapping[str, Any] | None = None, *,
             page_size: int = MAX_PAGE_SIZE, offset: int = 0) -> Iterator[dict]:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
        if offset < 0:
            raise ValueError(f"offset must not be negative, got {offset}")
        seen: set = set()
        while True:
            answer = self.get(path, {**(params or {}), "offset": offset, "limit": page_size})
            data = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(data, list):
                raise ExternalApiError(f"The marketplace answered GET {path} without a data list.")
            for item in data:
                key = item.get("id") if isinstance(item, dict) else None
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                yield item
            total = (answer.get("pagination") or {}).get("total")
            offset += len(data)
            if not data or (total is not None and offset >= int(total)) or (total is None and len(data) < page_size):
                return

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        url = f"{self.base_url}/{path.lstrip('/')}"
        response = self._call("GET", url, params=params)
        self.http.raise_for_status(response, what=f"read {path}")
        try:
            return loads(response.content)
        except ValueError:
            raise ExternalApiError(f"The marketplace answered GET {path} with something that is not JSON.",
                                   status=response.status_code) from None

    # ---- token ------------------------------------------------------------------------

    def _call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        token = self._valid_token()
        response = self.http.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        if response.status_code == 401:  # revoked or expired early: one fresh token, one more try
            log.info("The marketplace answered 401; requesting a new token")
            token = self._valid_token(force=True, stale=token)
            response = self.http.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
            if response.status_code == 401:
                raise ConfigurationError("The marketplace refused a fresh token (HTTP 401): check that the API "
                                         "user may use this marketplace and subscription key.")
        if response.status_code == 403:
            raise ConfigurationError(f"The marketplace denied access to {url.split('?')[0][len(self.base_url):]} "
                                     "(HTTP 403): check the API user's permissions for this marketplace.")
        return response

    def _valid_token(self, *, force: bool = False, stale: str | None = None) -> str:
        with self._lock:
            if force and self._token is not None and self._token != stale:
                return self._token  # another thread renewed it already
            if force or self._token is None or self.clock() >= self._expires_at:
                self._token, lifetime = self._request_token()
                margin = min(self.refresh_margin, lifetime / 5)
                self._expires_at = self.clock() + lifetime - margin
            return self._token

    def _request_token(self) -> tuple[str, float]:
        response = self.http.request("POST", f"{self.base_url}/token", body={"marketplace": self.marketplace},
                                     auth=self._credentials, idempotent=True)
        if response.status_code in (401, 403):
            raise ConfigurationError(
                f"The marketplace refused the API credentials (HTTP {response.status_code}): check username, "
                "password, subscription key and marketplace code in the marketplace secret.")
        self.http.raise_for_status(response, what="issue an access token")
        try:
            answer = loads(response.content)
            token = answer["token"]
            lifetime = float(answer.get("expiresInSeconds") or 0) or 300.0
        except (ValueError, KeyError, TypeError):
            raise ExternalApiError("The marketplace's token answer has no token.",
                                   status=response.status_code) from None
        self.tokens_issued += 1
        return token, lifetime
