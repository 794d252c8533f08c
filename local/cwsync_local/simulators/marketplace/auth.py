"""The token flow: `POST /token` (Basic + subscription key) issues bearer tokens with an expiry.

Tokens live in memory only: a restarted simulator forgets them, as a client must expect
of any token (it asks again on 401).
"""
from __future__ import annotations

import base64
import hmac
import secrets
import threading
import time
from typing import Callable, Mapping

from cwsync_local.simulators.marketplace.responses import ApiError

DEFAULT_TOKEN_TTL = 1500  # seconds, what the real API answers in expiresInSeconds
# Said on 401 so a client knows to ask for a new token rather than give up.
_BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class TokenIssuer:
    """Checks credentials, issues tokens and checks the bearer token of each call."""

    def __init__(self, credentials: Mapping[str, str], *, ttl: int = DEFAULT_TOKEN_TTL,
                 clock: Callable[[], float] = time.time):
        self.credentials = dict(credentials)
        self.ttl = ttl  # tests shorten it to see a token expire
        self.clock = clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def check_subscription_key(self, headers: Mapping[str, str]) -> None:
        key = headers.get("X-Subscription-Key")
        if not key:
            raise ApiError(401, "Access denied due to missing subscription key. "
                                "Include the X-Subscription-Key header in every request.")
        if not _same(key, self.credentials["subscriptionKey"]):
            raise ApiError(401, "Access denied due to invalid subscription key. "
                                "Make sure to provide a valid key for an active subscription.")

    def issue(self, headers: Mapping[str, str], body: object) -> dict:
        """`POST /token`: Basic user:password, subscription key, body {"marketplace": code}."""
        self.check_subscription_key(headers)
        username, password = _basic_credentials(headers.get("Authorization", ""))
        if not (_same(username, self.credentials["username"]) and _same(password, self.credentials["password"])):
            raise ApiError(401, "Invalid username or password.", headers={"WWW-Authenticate": 'Basic realm="token"'})
        if not isinstance(body, dict) or not isinstance(body.get("marketplace"), str) or not body["marketplace"]:
            raise ApiError(400, 'The request body must be a JSON object like {"marketplace": "<code>"}.')
        if body["marketplace"] != self.credentials["marketplace"]:
            raise ApiError(401, f"The user has no access to marketplace {body['marketplace']!r}.")
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self.clock()
            # Forget expired tokens so a long-running simulator does not grow.
            self._expiry = {t: e for t, e in self._expiry.items() if e > now}
            self._expiry[token] = now + self.ttl
        return {"token": token, "expiresInSeconds": self.ttl}

    def authorise(self, headers: Mapping[str, str]) -> None:
        """Every call but `/token`: the subscription key and a live bearer token."""
        self.check_subscription_key(headers)
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Missing bearer token: send 'Authorization: Bearer <token>' from POST /token.",
                           headers=_BEARER_CHALLENGE)
        with self._lock:
            expiry = self._expiry.get(token.strip())
        if expiry is None:
            raise ApiError(401, "The bearer token is not valid.", headers=_BEARER_CHALLENGE)
        if expiry <= self.clock():
            raise ApiError(401, "The bearer token has expired; request a new one from POST /token.",
                           headers=_BEARER_CHALLENGE)


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        username, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, None
    return (username, password) if sep else (None, None)
