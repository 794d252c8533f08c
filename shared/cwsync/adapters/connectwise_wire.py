"""ConnectWise's wire format: finding the API address, reading error bodies, writing request bodies."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

import requests

from cwsync.adapters.http import DEFAULT_TIMEOUT, HttpClient, RetryPolicy, Timeout, loads
from cwsync.errors import ConfigurationError
from cwsync.vocabulary import NUMERIC_FIELDS


def discover_base_url(site_url: str, company_id: str, *, timeout: Timeout = DEFAULT_TIMEOUT,
                      retry: RetryPolicy | None = None, limiter: Any = None) -> str:
    """`{site}/{Codebase}apis/3.0` from the unauthenticated company-info endpoint (a request that
    takes its token from `limiter`, the shared budget, like every other)."""
    site = site_url.rstrip("/")
    if "://" not in site:
        site = f"https://{site}"
    http = HttpClient("ConnectWise", timeout=timeout, retry=retry, limiter=limiter)
    try:
        response = http.request("GET", f"{site}/login/companyinfo/{company_id}")
        if response.status_code == 404:
            raise ConfigurationError(f"ConnectWise at {site} does not know company id {company_id!r}: "
                                     "check siteUrl and companyId in the ConnectWise secret.")
        http.raise_for_status(response, what="find the API address (login/companyinfo)")
        try:
            info = loads(response.content)
        except ValueError:
            info = None
    finally:
        http.close()
    codebase = info.get("Codebase") if isinstance(info, dict) else None
    if not codebase:
        raise ConfigurationError(f"ConnectWise at {site} did not say which codebase company {company_id!r} uses: "
                                 "check siteUrl (cloud hosts need the api- prefix) or set baseUrl in the secret.")
    codebase = codebase.strip("/") + "/"
    return f"{site}/{codebase}apis/3.0"


def error_detail(response: requests.Response) -> tuple[str, list]:
    """ConnectWise's `{code, message, errors[]}` as one readable sentence naming the fields."""
    try:
        payload = loads(response.content)
    except ValueError:
        return ((response.text or "").strip()[:300] or response.reason or "no details"), []
    if not isinstance(payload, dict):
        return str(payload)[:300], []
    errors = payload.get("errors") if isinstance(payload.get("errors"), list) else []
    message = str(payload.get("message") or payload.get("code") or "no details").rstrip(".")
    parts = []
    for item in errors:
        if not isinstance(item, dict):
            continue
        name = item.get("field") or item.get("resource")
        text = str(item.get("message") or item.get("code") or "is invalid").rstrip(".")
        if text in message:
            continue
        parts.append(text if not name or name in text else f"{name}: {text}")
    if parts:
        message = f"{message}: " + "; ".join(parts)
    return message, errors


def prepare_body(body: Mapping[str, Any]) -> dict:
    """Numeric fields as Decimals (sent as exact JSON numbers); dates as ISO UTC text."""
    return {name: prepare_value(name, value) for name, value in body.items()}


def prepare_value(name: str, value: Any) -> Any:
    if name in NUMERIC_FIELDS and isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, float) and name in NUMERIC_FIELDS:
        return Decimal(str(value))
    return value


def access_error(response: requests.Response, method: str, path: str) -> ConfigurationError:
    if response.status_code == 401:
        error = ConfigurationError(
            "ConnectWise refused the API credentials (HTTP 401): check the company id, public key, private key "
            "and clientId in the ConnectWise secret, and that the API member is active.")
    else:
        resource = "/".join(part for part in path.split("/apis/3.0/")[-1].split("/") if not part.isdigit())
        error = ConfigurationError(
            f"ConnectWise denied {method} {resource} (HTTP 403): the API member's security role lacks this "
            "permission. It needs Companies inquire; Agreements inquire/add/edit; Product Catalog "
            "inquire/add/edit; Table Setup inquire.")
    error.status = response.status_code  # type: ignore[attr-defined]
    return error
