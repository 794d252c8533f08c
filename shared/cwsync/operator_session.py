"""The operator's session in AWS: a Cognito ID token, kept in a cookie, verified on every request.

A browser that opens a dashboard page sends no `Authorization` header, so the session is an
HttpOnly cookie the sign-in callback sets (`cwsync.sign_in`). The HTTP API's Lambda
authorizer (`functions/operator_authorizer`) and the sign-in page verify it here:
- the token is a compact JWS signed with RS256 by one of the user pool's keys (its JWKS,
  looked up by `kid`); any other algorithm, a missing key or a bad signature is refused;
- it was issued by the operator pool (`iss`), to the dashboard's app client (`aud`), as an
  ID token (`token_use`), and has not expired (`exp`, `iat` not in the future).
The signature check is RSASSA-PKCS1-v1_5 with SHA-256 (the `rsa` package, pure Python).
Nothing here logs or repeats a token: errors say what was wrong in words only.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

import rsa

from cwsync.errors import CwsyncError

SESSION_COOKIE = "__Host-cwsync-session"
SIGN_IN_COOKIE = "__Host-cwsync-sign-in"
CLOCK_SKEW_SECONDS = 60  # an `iat` this far in the future is still accepted (clocks differ)
MAX_TOKEN_CHARS = 8192
# The dashboard's pages (HTTP API route keys). A page opened without a valid session is let
# through marked `signedIn: false`, so the page can send the browser to sign in and back; the
# dashboard shows nothing without a verified operator. Every other route (the forms, the
# exports) is refused without a valid session.
PAGE_ROUTES = frozenset({"GET /", "GET /tasks/{id}", "GET /reconciliation", "GET /links"})
EXPORT_PARAMETER = "format"  # `/reconciliation?format=csv|json`: a download, not a page


class SessionRefused(CwsyncError):
    """The cookie holds no valid operator session; the message names the reason, never the token."""


@dataclass(frozen=True)
class OperatorPool:
    """The Cognito user pool operators sign in with, and the dashboard's app client in it."""

    region: str
    pool_id: str
    client_id: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"


def _b64decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise SessionRefused("the session is not a readable token") from None


def _b64int(value: Any) -> int:
    if not isinstance(value, str) or not value:
        raise SessionRefused("the pool's signing key is not usable")
    return int.from_bytes(_b64decode(value), "big")


def _json_part(part: str) -> dict:
    try:
        value = json.loads(_b64decode(part))
    except (UnicodeDecodeError, ValueError):
        raise SessionRefused("the session is not a readable token") from None
    if not isinstance(value, dict):
        raise SessionRefused("the session is not a readable token")
    return value


def keys_by_id(jwks: Mapping[str, Any]) -> dict[str, dict]:
    """The RSA signing keys of a JWKS document, by `kid`."""
    found = {}
    for key in jwks.get("keys") or []:
        if isinstance(key, Mapping) and key.get("kty") == "RSA" and key.get("kid") and key.get("use", "sig") == "sig":
            found[str(key["kid"])] = dict(key)
    return found


def token_key_id(token: str) -> str | None:
    """The `kid` the token's header names (None when the token cannot be read)."""
    try:
        header = _json_part(token.split(".")[0])
    except SessionRefused:
        return None
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


def verify_id_token(token: str, keys: Mapping[str, Mapping[str, Any]], pool: OperatorPool, now: datetime) -> dict:
    """The token's claims when it is a valid, current ID token of `pool`; SessionRefused otherwise."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise SessionRefused("there is no session")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise SessionRefused("the session is not a readable token")
    header, claims = _json_part(parts[0]), _json_part(parts[1])
    if header.get("alg") != "RS256":
        raise SessionRefused("the session is not signed the way Cognito signs")
    key = keys.get(str(header.get("kid") or ""))
    if key is None:
        raise SessionRefused("the session was not signed by the operator pool")
    if key.get("alg") not in (None, "RS256"):
        raise SessionRefused("the pool's signing key is not usable")
    public = rsa.PublicKey(_b64int(key.get("n")), _b64int(key.get("e")))
    try:
        method = rsa.verify(f"{parts[0]}.{parts[1]}".encode("ascii"), _b64decode(parts[2]), public)
    except (rsa.VerificationError, ValueError, UnicodeEncodeError):
        raise SessionRefused("the session's signature is not valid") from None
    if method != "SHA-256":
        raise SessionRefused("the session is not signed the way Cognito signs")
    _check_claims(claims, pool, now)
    return claims


def _check_claims(claims: Mapping[str, Any], pool: OperatorPool, now: datetime) -> None:
    if claims.get("iss") != pool.issuer:
        raise SessionRefused("the session comes from another user pool")
    audience = claims.get("aud")
    if audience != pool.client_id and not (isinstance(audience, list) and pool.client_id in audience):
        raise SessionRefused("the session was issued to another application")
    if claims.get("token_use") != "id":
        raise SessionRefused("the session does not hold an ID token")
    moment = now.timestamp()
    expires, issued = claims.get("exp"), claims.get("iat")
    if not isinstance(expires, (int, float)) or isinstance(expires, bool) or expires <= moment:
        raise SessionRefused("the session has ended")
    if isinstance(issued, (int, float)) and not isinstance(issued, bool) and issued > moment + CLOCK_SKEW_SECONDS:
        raise SessionRefused("the session was issued in the future")
    if not operator_name(claims):
        raise SessionRefused("the session names no operator")


def operator_name(claims: Mapping[str, Any]) -> str | None:
    """Who the operator is, as the dashboard writes it in the history: the e-mail address."""
    for claim in ("email", "cognito:username", "sub"):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


# --- cookies ---------------------------------------------------------------------------------

def cookie_value(cookies: Iterable[str], name: str) -> str | None:
    """The value of cookie `name` among `name=value` pairs (HTTP API v2 `cookies`, or a Cookie header split)."""
    for pair in cookies:
        for piece in str(pair).split(";"):
            key, separator, value = piece.strip().partition("=")
            if separator and key == name:
                return value.strip()
    return None


def event_cookies(event: Mapping[str, Any]) -> list[str]:
    """The request's cookies from an HTTP API v2 event (request or authorizer payload)."""
    cookies = list(event.get("cookies") or [])
    headers = event.get("headers") or {}
    header = next((value for key, value in headers.items() if key.lower() == "cookie"), None)
    if header:
        cookies.append(str(header))
    return cookies


# --- the HTTP API's Lambda authorizer ---------------------------------------------------------

def is_page_request(event: Mapping[str, Any]) -> bool:
    """A browser opening one of the dashboard's pages (GET, not an export)."""
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method") or "").upper()
    return (method == "GET" and event.get("routeKey") in PAGE_ROUTES
            and EXPORT_PARAMETER not in (event.get("queryStringParameters") or {}))


def authorize(event: Mapping[str, Any], pool, now: datetime | None = None) -> dict:
    """The Lambda authorizer's answer for one request (simple responses, payload 2.0): allowed,
    with the operator's e-mail as `context.operator`, when the session cookie verifies with `pool`.
    Without a valid session a page request is allowed as `signedIn: false` (the page sends the
    browser to sign in); any other request is refused."""
    from cwsync.observability import logger

    signed_out = ({"isAuthorized": True, "context": {"signedIn": False}} if is_page_request(event)
                  else {"isAuthorized": False})
    token = cookie_value(event_cookies(event), SESSION_COOKIE)
    if not token:
        return signed_out
    try:
        claims = pool.verify(token, now or datetime.now(timezone.utc))
    except SessionRefused as refused:
        logger.info("Operator session refused", extra={"reason": str(refused)})
        return signed_out
    except Exception as error:  # keys or the pool could not be read: closed, and said in the log
        logger.error("Operator sessions cannot be checked", extra={"error": type(error).__name__})
        return {"isAuthorized": False}
    return {"isAuthorized": True, "context": {"operator": operator_name(claims)}}
