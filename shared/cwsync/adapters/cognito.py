"""The operators' Cognito user pool: its signing keys, its dashboard app client, its token endpoint.

- `keys()`: the pool's JWKS (`https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json`),
  kept for the life of the container and fetched again (at most every `KEYS_REFRESH_SECONDS`)
  when a token names a key it does not know, as after a key rotation.
- `client_id()`: the dashboard's app client, found by name in the pool (ListUserPoolClients).
  The template cannot hand it over: the client's callback URL names the HTTP API, and the API
  names the functions, so a function that named the client would close a dependency cycle.
- `exchange_code()`: the authorization code (with its PKCE verifier) for tokens, at the managed
  login's token endpoint. The code, the verifier and the tokens are never logged.
Every call has a timeout; failures raise `SignInUnavailable` with words, never the response body.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from cwsync.errors import ConfigurationError, CwsyncError
from cwsync.operator_session import OperatorPool, keys_by_id, token_key_id, verify_id_token

KEYS_REFRESH_SECONDS = 300
# Short: the authorizer answers API Gateway within its 10 s, one retry included.
TIMEOUT = (2.0, 3.0)


class SignInUnavailable(CwsyncError):
    """Cognito could not be asked (network, an answer that is not what Cognito answers)."""


class CodeRefused(CwsyncError):
    """The token endpoint refused the authorization code (used, expired, or not for this client)."""


@dataclass(frozen=True)
class SignInSettings:
    region: str
    pool_id: str
    client_name: str
    domain: str  # the managed login's host, e.g. cwsync-….auth.eu-west-1.amazoncognito.com

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SignInSettings:
        env = os.environ if environ is None else environ
        names = {"region": "AWS_REGION", "pool_id": "OPERATOR_POOL_ID", "client_name": "OPERATOR_POOL_CLIENT_NAME",
                 "domain": "OPERATOR_SIGN_IN_DOMAIN"}
        missing = [variable for variable in names.values() if not (env.get(variable) or "").strip()]
        if missing:
            raise ConfigurationError("Operator sign-in is not configured: set " + ", ".join(missing))
        return cls(**{field: env[variable].strip() for field, variable in names.items()})


class CognitoOperatorPool:
    def __init__(self, settings: SignInSettings, *, session=None, cognito=None,
                 clock: Callable[[], float] = time.monotonic, jwks_url: str | None = None,
                 token_url: str | None = None):
        """`jwks_url`, `token_url`: other addresses for the pool's keys and token endpoint (a local
        stand-in in tests); by default Cognito's own."""
        self.settings = settings
        self._jwks_url = jwks_url
        self._token_url = token_url
        self._session = session
        self._cognito = cognito
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, dict] | None = None
        self._keys_at = 0.0
        self._client_id: str | None = None

    # --- what the pool is ------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.settings.region}.amazonaws.com/{self.settings.pool_id}"

    @property
    def base_url(self) -> str:
        return f"https://{self.settings.domain}"

    def pool(self) -> OperatorPool:
        return OperatorPool(self.settings.region, self.settings.pool_id, self.client_id())

    def client_id(self) -> str:
        with self._lock:
            if self._client_id is None:
                self._client_id = self._find_client_id()
            return self._client_id

    def _find_client_id(self) -> str:
        found, token = [], None
        try:
            while True:
                page = self._cognito_client().list_user_pool_clients(
                    UserPoolId=self.settings.pool_id, MaxResults=60, **({"NextToken": token} if token else {}))
                found += [c["ClientId"] for c in page.get("UserPoolClients") or []
                          if c.get("ClientName") == self.settings.client_name]
                token = page.get("NextToken")
                if not token:
                    break
        except Exception as error:  # botocore's errors: the call failed, say so without its text
            raise SignInUnavailable(f"The operator pool could not be read ({type(error).__name__}).") from None
        if len(found) != 1:
            raise ConfigurationError(f"The operator pool has {len(found)} app clients named "
                                     f"{self.settings.client_name!r}; it needs exactly one.")
        return found[0]

    # --- keys and verification -------------------------------------------------------------
    def keys(self, wanted: str | None = None) -> dict[str, dict]:
        with self._lock:
            stale = self._keys is None or (wanted is not None and wanted not in self._keys
                                           and self._clock() - self._keys_at >= KEYS_REFRESH_SECONDS)
            if stale:
                answer = self._get_json(self._jwks_url or f"{self.issuer}/.well-known/jwks.json")
                self._keys, self._keys_at = keys_by_id(answer), self._clock()
            return dict(self._keys or {})

    def verify(self, token: str, now: datetime) -> dict:
        """The claims of a valid session token (SessionRefused otherwise)."""
        return verify_id_token(token, self.keys(token_key_id(token)), self.pool(), now)

    # --- the managed login's token endpoint --------------------------------------------------
    def exchange_code(self, code: str, verifier: str, redirect_uri: str) -> dict:
        form = {"grant_type": "authorization_code", "client_id": self.client_id(), "code": code,
                "redirect_uri": redirect_uri, "code_verifier": verifier}
        try:
            response = self._http().post(self._token_url or f"{self.base_url}/oauth2/token", data=form,
                                         headers={"Accept": "application/json"}, timeout=TIMEOUT)
        except Exception as error:  # requests' network errors
            raise SignInUnavailable(f"Cognito could not be reached ({type(error).__name__}).") from None
        if response.status_code == 400:
            raise CodeRefused("Cognito refused the sign-in code (it was used, expired, or is not for this page).")
        answer = _json(response)
        if not isinstance(answer.get("id_token"), str):
            raise SignInUnavailable("Cognito's answer held no ID token.")
        return answer

    # --- plumbing --------------------------------------------------------------------------
    def _get_json(self, url: str) -> dict:
        try:
            response = self._http().get(url, headers={"Accept": "application/json"}, timeout=TIMEOUT)
        except Exception as error:  # requests' network errors
            raise SignInUnavailable(f"Cognito could not be reached ({type(error).__name__}).") from None
        return _json(response)

    def _http(self):
        if self._session is None:
            from cwsync.adapters.http import RetryPolicy, build_session

            once = RetryPolicy(attempts=1, backoff_factor=0.2, backoff_max=0.5, backoff_jitter=0.2,
                               retry_after_max=0.5)
            self._session = build_session(timeout=TIMEOUT, retry=once)
        return self._session

    def _cognito_client(self):
        if self._cognito is None:
            import boto3
            from botocore.config import Config

            self._cognito = boto3.client("cognito-idp", region_name=self.settings.region, config=Config(
                connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 3}))
        return self._cognito


def _json(response: Any) -> dict:
    if response.status_code != 200:
        raise SignInUnavailable(f"Cognito answered HTTP {response.status_code}.")
    try:
        answer = response.json()
    except ValueError:
        raise SignInUnavailable("Cognito's answer was not JSON.") from None
    if not isinstance(answer, dict):
        raise SignInUnavailable("Cognito's answer was not what it answers.")
    return answer


_shared: CognitoOperatorPool | None = None


def shared_pool() -> CognitoOperatorPool:
    """One pool per container (keys and the client id are kept between invocations)."""
    global _shared
    if _shared is None:
        _shared = CognitoOperatorPool(SignInSettings.from_environment())
    return _shared
