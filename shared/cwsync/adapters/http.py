"""The one HTTP transport both API clients use: timeouts, retries, logging, exact JSON.

Retry rules (parameters in `RetryPolicy` so tests can make them fast):
- 429 is retried for every method: the server refused the request before doing anything,
  so even a POST is safe to send again. `Retry-After` is honoured: the request waits as
  asked and is sent again, or, when asked to wait longer than `retry_after_max`, is not
  sent again but answered at once (the step is retried later, never early); without the
  header the exponential backoff applies. With a shared rate limit
  (`cwsync.adapters.rate_limit`) every request first takes a token, and a 429 pauses the
  limit for every execution sharing it, not only this one.
- 500/502/503/504, read timeouts and broken connections are retried (urllib3 `Retry`) with exponential
  backoff plus jitter only for idempotent requests: GET, HEAD, OPTIONS, PUT and DELETE by
  default, or any request the caller marks `idempotent=True` (for example a JSON Patch
  made only of `replace` operations). A POST is never retried blindly after it may have
  reached the server; callers that create things look up their ownership tag instead.
- Connection errors raised before the request was sent (refused, connect timeout) are
  retried for every method.
After the retries, 429 and 5xx come back as responses (the caller maps them to
`TransientError`); network failures raise `TransientError` here.

Every response is logged with method, path, status, time taken and the correlation id the
server returned; headers and bodies are never logged, and query parameters that look like
credentials are redacted.
"""
from __future__ import annotations

import json
import logging
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from cwsync.errors import ExternalApiError, NotFound, TransientError
from cwsync.retries import HTTP_RETRIES

log = logging.getLogger(__name__)

Timeout = float | tuple[float, float]
DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 30.0)  # (connect, read) seconds
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
ALL_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH", "POST"})
RETRY_STATUSES = frozenset({500, 502, 503, 504})
REFUSED_STATUSES = frozenset({429})  # not processed by the server: safe to resend for any method
CORRELATION_HEADERS = ("X-Correlation-ID", "X-Request-ID", "X-Amzn-RequestId", "Request-Id")
_SECRET_PARAM = re.compile(r"token|password|passwd|secret|key|signature|auth", re.IGNORECASE)


class _PolicyRetry(Retry):
    """urllib3 Retry that also retries 429 for non-idempotent methods and sleeps through an injectable function."""

    def __init__(self, *args: Any, sleeper: Callable[[float], None] = time.sleep, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sleeper = sleeper

    def new(self, **kw: Any) -> "_PolicyRetry":
        kw.setdefault("sleeper", self.sleeper)
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in REFUSED_STATUSES:
            return False  # HttpClient.request waits and resends, sharing the wait with its rate limit
        return super().is_retry(method, status_code, has_retry_after)

    def sleep_for_retry(self, response: Any) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after:
            self.sleeper(retry_after)
            return True
        return False

    def sleep(self, response: Any = None) -> None:
        """As urllib3's (the server's Retry-After when it sends one, else the backoff), through `sleeper`."""
        if self.respect_retry_after_header and response and self.sleep_for_retry(response):
            return
        backoff = self.get_backoff_time()
        if backoff > 0:
            self.sleeper(backoff)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry; `RetryPolicy.fast()` for tests."""

    attempts: int = HTTP_RETRIES  # retries after the first try (the budget: cwsync.retries)
    backoff_factor: float = 0.5  # 0.5, 1, 2, 4 ... seconds
    backoff_max: float = 30.0
    backoff_jitter: float = 0.5  # up to this many seconds added at random
    retry_after_max: float = 30.0  # wait out a Retry-After up to this long (a step has 60 s)
    statuses: frozenset[int] = RETRY_STATUSES
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    @classmethod
    def fast(cls, attempts: int = 3, *, sleep: Callable[[float], None] | None = None) -> "RetryPolicy":
        """Same rules, millisecond waits: for tests and local runs."""
        return cls(attempts=attempts, backoff_factor=0.001, backoff_max=0.01, backoff_jitter=0.001,
                   retry_after_max=0.01, sleep=sleep or time.sleep)

    @classmethod
    def never(cls) -> "RetryPolicy":
        return cls(attempts=0)

    def wait_after_refusal(self, retry_after: str | None, refusals: int) -> float:
        """Seconds to wait after the `refusals`-th 429 in a row: Retry-After as asked, else backoff."""
        if retry_after:
            try:
                wait = Retry().parse_retry_after(retry_after)
            except Exception:  # noqa: BLE001 - an unreadable header falls back to the backoff
                wait = None
            if wait is not None:
                return max(wait, 0.0)
        backoff = min(self.backoff_max, self.backoff_factor * 2 ** (refusals - 1))
        return backoff + random.uniform(0, self.backoff_jitter)

    def build(self, *, methods: Iterable[str]) -> Retry:
        """The urllib3 Retry for a session that treats `methods` as idempotent."""
        return _PolicyRetry(
            total=self.attempts,
            connect=self.attempts,
            read=self.attempts,
            status=self.attempts,
            other=0,
            redirect=0,
            allowed_methods=frozenset(methods),
            status_forcelist=self.statuses,
            backoff_factor=self.backoff_factor,
            backoff_max=self.backoff_max,
            backoff_jitter=self.backoff_jitter,
            retry_after_max=self.retry_after_max,
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
            sleeper=self.sleep,
        )


class _TimeoutSession(requests.Session):
    """A Session that never sends a request without a timeout."""

    def __init__(self, timeout: Timeout):
        super().__init__()
        self.default_timeout = timeout

    def request(self, method, url, **kwargs):  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, **kwargs)


def build_session(*, timeout: Timeout = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                  idempotent_methods: Iterable[str] = IDEMPOTENT_METHODS, pool_size: int = 10,
                  headers: Mapping[str, str] | None = None) -> requests.Session:
    """A requests Session with a default timeout and the retry rules above."""
    session = _TimeoutSession(timeout)
    adapter = HTTPAdapter(max_retries=(retry or RetryPolicy()).build(methods=idempotent_methods),
                          pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if headers:
        session.headers.update(headers)
    return session


def redact_url(url: str) -> str:
    """The URL without credentials-looking query values or userinfo, shortened for a log line."""
    parts = urlsplit(url)
    query = [(key, "***" if _SECRET_PARAM.search(key) else value)
             for key, value in parse_qsl(parts.query, keep_blank_values=True)]
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    text = urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), ""))
    return text if len(text) <= 500 else text[:497] + "..."


def correlation_id(response: requests.Response) -> str | None:
    for name in CORRELATION_HEADERS:
        value = response.headers.get(name)
        if value:
            return value
    return None


class HttpClient:
    """Two pooled sessions (default rules, and "caller says idempotent") plus logging and error mapping.

    `service` names the API in log lines and error messages ("ConnectWise", "the marketplace").
    """

    def __init__(self, service: str, *, timeout: Timeout = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                 headers: Mapping[str, str] | None = None, auth: Any = None, send_correlation_id: bool = False,
                 pool_size: int = 10, limiter: Any = None):
        self.service = service
        self.limiter = limiter  # acquire() before each request, pause(seconds) after a 429
        self.send_correlation_id = send_correlation_id  # send our own X-Correlation-ID (APIs that echo it)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        # pool_size: connections kept per host, at least the threads that call at once.
        self._default = build_session(timeout=timeout, retry=self.retry, headers=headers, pool_size=pool_size)
        self._idempotent = build_session(timeout=timeout, retry=self.retry, headers=headers,
                                         idempotent_methods=ALL_METHODS, pool_size=pool_size)
        for session in (self._default, self._idempotent):
            session.auth = auth
        self.requests_sent = 0  # logical requests (a retried request counts once)
        self.refusals = 0  # 429 answers received
        self.most_refusals_in_a_row = 0  # of one logical request

    def close(self) -> None:
        self._default.close()
        self._idempotent.close()

    def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None, body: Any = None,
                headers: Mapping[str, str] | None = None, auth: Any = None, idempotent: bool | None = None,
                timeout: Timeout | None = None) -> requests.Response:
        """Send one request (JSON `body` with exact decimals) and return the final response.

        Raises `TransientError` when the server could not be reached or did not answer in time.
        """
        method = method.upper()
        session = self._idempotent if idempotent else self._default
        send_headers = dict(headers or {})
        sent_id = None
        if self.send_correlation_id:
            sent_id = send_headers.setdefault("X-Correlation-ID", str(uuid.uuid4()))
        data = None
        if body is not None:
            data = dumps(body).encode("utf-8")
            send_headers.setdefault("Content-Type", "application/json")
        self.requests_sent += 1
        started = time.monotonic()
        try:
            response = self._send_until_accepted(session, method, url, params=params, data=data,
                                                 headers=send_headers, auth=auth, timeout=timeout or self.timeout)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.RetryError) as error:
            log.warning("%s %s %s failed: %s (correlation id %s)", self.service, method, redact_url(url),
                        type(error).__name__, sent_id or "-",
                        extra={"service_name": self.service, "method": method, "url": redact_url(url),
                               "correlation_id": sent_id})
            raise TransientError(
                f"{self.service} did not answer {method} {urlsplit(url).path} "
                f"({type(error).__name__}); the step can be retried.") from None
        elapsed_ms = round((time.monotonic() - started) * 1000)
        cid = correlation_id(response) or sent_id
        log.info("%s %s %s -> %s in %d ms (correlation id %s)", self.service, method,
                 redact_url(response.url or url), response.status_code, elapsed_ms, cid or "-",
                 extra={"service_name": self.service, "method": method, "status": response.status_code,
                        "elapsed_ms": elapsed_ms, "correlation_id": cid})
        return response

    def _send_until_accepted(self, session: requests.Session, method: str, url: str,
                             **kwargs: Any) -> requests.Response:
        """Send; after a 429 wait as asked (and make everyone sharing the limit wait) and resend."""
        refusals = 0
        while True:
            if self.limiter is not None:
                self.limiter.acquire()
            response = session.request(method, url, **kwargs)
            if response.status_code not in REFUSED_STATUSES:
                return response
            refusals += 1
            self.refusals += 1
            self.most_refusals_in_a_row = max(self.most_refusals_in_a_row, refusals)
            if refusals > self.retry.attempts:
                return response
            wait = self.retry.wait_after_refusal(response.headers.get("Retry-After"), refusals)
            if self.limiter is not None:
                self.limiter.pause(wait)
            if wait > self.retry.retry_after_max:  # longer than this call may wait: a later retry
                return response
            log.info("%s refused %s %s (HTTP %s); waiting %.1f s", self.service, method, redact_url(url),
                     response.status_code, wait)
            response.close()
            self.retry.sleep(wait)

    def raise_for_status(self, response: requests.Response, *, what: str,
                         detail: Callable[[requests.Response], tuple[str, list]] | None = None) -> None:
        """Map a non-2xx answer to the sync's errors; `what` says what was being done ("create an addition")."""
        status = response.status_code
        if status < 400:
            return
        message, details = (detail or default_error_detail)(response)
        cid = correlation_id(response)
        suffix = f" (correlation id {cid})" if cid else ""
        if status == 429 or status >= 500:
            wait = response.headers.get("Retry-After")
            hint = f"; it asked to wait {wait} s" if wait else ""
            error = TransientError(f"{self.service} could not {what} right now (HTTP {status}{hint}): "
                                   f"{message}{suffix}. The step can be retried.")
            error.status = status  # type: ignore[attr-defined]
            error.retry_after = wait  # type: ignore[attr-defined]
            raise error
        if status == 404:
            raise NotFound(f"{self.service} could not {what}: not found (HTTP 404). {message}{suffix}".rstrip(),
                           status=status, details=details)
        raise ExternalApiError(f"{self.service} refused to {what} (HTTP {status}): {message}{suffix}",
                               status=status, details=details)


def default_error_detail(response: requests.Response) -> tuple[str, list]:
    try:
        payload = response.json()
    except ValueError:
        text = (response.text or "").strip()
        return (text[:300] or response.reason or "no details"), []
    if isinstance(payload, dict):
        message = payload.get("message") or payload.get("error") or payload.get("title") or json.dumps(payload)[:300]
        errors = payload.get("errors") if isinstance(payload.get("errors"), list) else []
        return str(message), errors
    return json.dumps(payload)[:300], []


# ---- JSON with exact decimals and UTC datetimes ---------------------------------------

def format_datetime(value: datetime | date) -> str:
    """`2026-02-15T00:00:00Z`: timezone-aware datetimes in UTC; a date is midnight UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"datetime {value.isoformat()} has no timezone; use timezone-aware UTC datetimes")
        value = value.astimezone(timezone.utc).replace(microsecond=0)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{value.isoformat()}T00:00:00Z"


def decimal_text(value: Decimal) -> str:
    """The exact JSON number text of a Decimal, never exponent notation."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    text = format(value, "f")
    return "0" if text in ("-0", "") else text


def dumps(body: Any) -> str:
    """JSON text in which Decimals are numbers with their exact digits and datetimes are ISO UTC."""
    marker = f"@@dec-{uuid.uuid4().hex}-"
    numbers: list[str] = []

    def convert(value: Any) -> Any:
        if isinstance(value, Decimal):
            numbers.append(decimal_text(value))
            return f"{marker}{len(numbers) - 1}@@"
        if isinstance(value, (datetime, date)):
            return format_datetime(value)
        if isinstance(value, Enum):
            return convert(value.value)
        if isinstance(value, Mapping):
            return {str(key): convert(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(item) for item in value]
        return value

    text = json.dumps(convert(body), ensure_ascii=False, separators=(",", ":"))
    if numbers:
        text = re.sub(re.escape(f'"{marker}') + r"(\d+)@@\"", lambda m: numbers[int(m.group(1))], text)
    return text


def loads(text: str | bytes) -> Any:
    """Parse JSON keeping non-integer numbers exact (Decimal)."""
    return json.loads(text, parse_float=Decimal)
