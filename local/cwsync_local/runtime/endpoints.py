"""Real ConnectWise / marketplace endpoints for the embedded runtime, instead of the simulators.

From environment variables (they win) or a JSON config file (`<data-dir>/config.json` or
`--config FILE`) of the shape
`{"connectwise": {"siteUrl", "companyId", "publicKey", "privateKey", "clientId"},
  "marketplace": {"baseUrl", "username", "password", "subscriptionKey", "marketplace"},
  "parameters": {"ApprovalPolicy": "always", ...}}`.
A side that is not configured at all uses its simulator; a half-configured side is an error
that names what is missing (never the values).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping

CONNECTWISE_ENV = {
    "siteUrl": "CWSYNC_CONNECTWISE_SITE_URL",
    "baseUrl": "CWSYNC_CONNECTWISE_BASE_URL",
    "companyId": "CWSYNC_CONNECTWISE_COMPANY_ID",
    "publicKey": "CWSYNC_CONNECTWISE_PUBLIC_KEY",
    "privateKey": "CWSYNC_CONNECTWISE_PRIVATE_KEY",
    "clientId": "CWSYNC_CONNECTWISE_CLIENT_ID",
}
MARKETPLACE_ENV = {
    "baseUrl": "CWSYNC_MARKETPLACE_URL",
    "username": "CWSYNC_MARKETPLACE_USERNAME",
    "password": "CWSYNC_MARKETPLACE_PASSWORD",
    "subscriptionKey": "CWSYNC_MARKETPLACE_SUBSCRIPTION_KEY",
    "marketplace": "CWSYNC_MARKETPLACE_MARKETPLACE",
}
CONNECTWISE_REQUIRED = ("companyId", "publicKey", "privateKey", "clientId")
MARKETPLACE_REQUIRED = ("baseUrl", "username", "password", "subscriptionKey", "marketplace")


class EndpointConfigError(SystemExit):
    """A configuration a person must fix; the message says what."""


def load_file(path: Path | None) -> dict:
    if not path or not Path(path).exists():
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise EndpointConfigError(f"config file {path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise EndpointConfigError(f"config file {path} must hold a JSON object")
    return data


def _side(name: str, from_file: Mapping | None, env_names: Mapping[str, str], required: tuple[str, ...],
          environ: Mapping[str, str]) -> dict | None:
    values = {key: str(value) for key, value in (from_file or {}).items() if value not in (None, "")}
    for key, variable in env_names.items():
        if environ.get(variable):
            values[key] = environ[variable]
    if not values:
        return None
    missing = [key for key in required if not values.get(key)]
    if name == "connectwise" and not (values.get("siteUrl") or values.get("baseUrl")):
        missing.insert(0, "siteUrl")
    if missing:
        hints = ", ".join(f"{key} ({env_names.get(key, '-')})" for key in missing)
        raise EndpointConfigError(f"The real {name} endpoint is only partly configured; missing: {hints}")
    return values


def resolve(config_path: Path | None, environ: Mapping[str, str] | None = None) -> dict:
    """`{"connectwise": dict | None, "marketplace": dict | None, "parameters": dict}`."""
    environ = os.environ if environ is None else environ
    data = load_file(config_path)
    return {
        "connectwise": _side("connectwise", data.get("connectwise"), CONNECTWISE_ENV, CONNECTWISE_REQUIRED, environ),
        "marketplace": _side("marketplace", data.get("marketplace"), MARKETPLACE_ENV, MARKETPLACE_REQUIRED, environ),
        "parameters": {str(k): str(v) for k, v in (data.get("parameters") or {}).items()},
    }
