"""Settings from environment variables, and the secrets they point at.

`Settings.from_environment()` reads every variable the template sets (docs/INTERFACES.md)
and says clearly which one is wrong. Values a function may not need (a secret ARN, the
state machine) are optional here and checked where they are used, with `settings.need(...)`,
so a least-privilege function is not forced to carry settings it never reads.
Secrets are read with Powertools Parameters (cached for `SECRETS_MAX_AGE_SECONDS`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping
from urllib.parse import urlsplit

from cwsync.errors import ConfigurationError
from cwsync.vocabulary import (APPROVAL_POLICIES, BILL_CUSTOMER_VALUES, DEFAULT_COST_FIELD, DEFAULT_PRICE_FIELD,
                               DEFAULT_TAG_FORMAT, MONEY_FIELDS, PRICE_SOURCES, PRORATIONS, RECONCILE_MODES,
                               ApprovalPolicy, BillCustomer, PriceSource, Proration, ReconcileMode)

_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")

# Secret shapes: required keys, in the words of docs/INTERFACES.md.
CONNECTWISE_SECRET_KEYS = ("companyId", "publicKey", "privateKey", "clientId")
MARKETPLACE_SECRET_KEYS = ("baseUrl", "username", "password", "subscriptionKey", "marketplace")
SIGNING_SECRET_KEYS = ("key",)
MIN_SIGNING_KEY_LENGTH = 16
OPERATOR_ACCESS_MODES = ("cognito", "loopback")


@dataclass(frozen=True)
class Settings:
    table_name: str
    state_machine_arn: str | None = None
    topic_arn: str | None = None
    connectwise_secret_arn: str | None = None
    marketplace_secret_arn: str | None = None
    signing_secret_arn: str | None = None
    approvals_base_url: str | None = None
    # The operator's dashboard: which function Check Changes queues, the schedule it shows, and
    # how operators are let in (`cognito`: the HTTP API's JWT authorizer; `loopback`: local only).
    check_changes_function: str | None = None
    reconcile_function: str | None = None  # the dashboard's Reconcile now button invokes it
    schedule_expression: str | None = None
    operator_access: str = "cognito"
    approval_policy: str = ApprovalPolicy.ALWAYS
    approval_threshold: Decimal = Decimal("0")
    approval_timeout_seconds: int = 7 * 24 * 3600
    price_source: str = PriceSource.MARKETPLACE
    proration: str = Proration.MARKETPLACE
    first_run_lookback_days: int = 30
    check_concurrency: int = 8  # new orders read and stored at once by one check
    check_time_reserve_seconds: int = 60  # a check stops and checkpoints when less time is left
    # ConnectWise's request limit for this integration, shared by every execution (0 = no limit).
    connectwise_requests_per_minute: int = 1000
    overlap_minutes: int = 30
    webhook_url: str | None = None
    service_name: str = "cwsync"
    log_level: str = "INFO"
    secrets_max_age_seconds: int = 300
    # How long a product link's remembered catalog item (price, cost, taxable flag) is trusted.
    catalog_snapshot_max_age_seconds: int = 86400
    # Where "add product to ConnectWise" puts a new catalog item (ConnectWise ids); unset: option disabled.
    catalog_subcategory_id: int | None = None
    catalog_type_id: int | None = None
    # A ConnectWise company custom field holding the marketplace customer id (caption or id).
    customer_id_field: str | None = None
    # How plans read marketplace charge lines and what additions carry (cwsync.domain.planning.PlanSettings).
    cost_field: str = DEFAULT_COST_FIELD
    price_field: str = DEFAULT_PRICE_FIELD
    tag_format: str = DEFAULT_TAG_FORMAT
    bill_customer: str = BillCustomer.BILLABLE
    taxable: bool | None = None  # None: each catalog item's own taxableFlag
    # Plausibility limits (cwsync.domain.plausibility.Limits): larger values are refused, never synced.
    max_quantity: int = 10000
    max_quantity_by_product: Mapping[str, int] = field(default_factory=dict)
    max_price_digits: int = 9
    effective_date_window_days: int = 92
    # Reconciliation: notify when money not billed per month (any currency) is above this;
    # `report` only reports, `repair` also starts a repair task per customer agreement with differences.
    reconcile_threshold: Decimal = Decimal("0")
    reconcile_mode: str = ReconcileMode.REPORT
    extra: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        problems: list[str] = []

        def text(name: str, *, required: bool = False) -> str | None:
            value = (env.get(name) or "").strip()
            if not value:
                if required:
                    problems.append(f"{name} is not set")
                return None
            return value

        def number(name: str, default: int | None, *, minimum: int) -> int | None:
            raw = text(name)
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                problems.append(f"{name} is {raw!r}; expected a whole number")
                return default
            if value < minimum:
                problems.append(f"{name} is {value}; it must be at least {minimum}")
                return default
            return value

        def amount(name: str, default: Decimal) -> Decimal:
            raw = text(name)
            if raw is None:
                return default
            try:
                value = Decimal(raw)
            except InvalidOperation:
                problems.append(f"{name} is {raw!r}; expected an amount such as 500 or 99.50")
                return default
            if not value.is_finite() or value < 0:
                problems.append(f"{name} is {raw!r}; expected an amount of 0 or more")
                return default
            return value

        def url(name: str) -> str | None:
            raw = text(name)
            if raw is None:
                return None
            parts = urlsplit(raw)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                problems.append(f"{name} is {raw!r}; expected an http(s) URL")
                return None
            return raw.rstrip("/")

        def exact(name: str, allowed: tuple[str, ...], default: str) -> str:
            """One of `allowed`, spelled as there (any case is accepted)."""
            raw = text(name)
            if raw is None:
                return default
            value = next((a for a in allowed if a.casefold() == raw.casefold()), None)
            if value is None:
                problems.append(f"{name} is {raw!r}; expected one of {', '.join(allowed)}")
                return default
            return value

        def flag(name: str) -> bool | None:
            raw = text(name)
            if raw is None:
                return None
            if raw.lower() in _TRUE or raw.lower() in _FALSE:
                return raw.lower() in _TRUE
            problems.append(f"{name} is {raw!r}; expected true or false (or unset: the catalog item decides)")
            return None

        def tag_format(name: str) -> str:
            from cwsync.domain.operations import check_tag_format

            raw = text(name)
            if raw is None:
                return DEFAULT_TAG_FORMAT
            try:
                check_tag_format(raw)
            except ConfigurationError as error:
                problems.append(f"{name}: {error}")
                return DEFAULT_TAG_FORMAT
            return raw

        def arn(name: str, service: str) -> str | None:
            raw = text(name)
            if raw is not None and not raw.startswith("arn:") and service != "secretsmanager":
                problems.append(f"{name} is {raw!r}; expected an ARN (arn:aws:{service}:...)")
                return None
            return raw  # a secret may also be named by its name, which Secrets Manager accepts

        def per_product(name: str) -> dict[str, int]:
            raw = text(name)
            result: dict[str, int] = {}
            for part in (raw or "").split(","):
                mpn, _, limit = part.strip().rpartition("=")
                if not part.strip():
                    continue
                if not mpn.strip() or not limit.strip().isdigit() or int(limit) < 1:
                    problems.append(f"{name} has {part.strip()!r}; expected MPN=maximum, e.g. MS-365-BB=500")
                    continue
                result[mpn.strip()] = int(limit)
            return result

        settings = cls(
            table_name=text("TABLE_NAME", required=True) or "",
            state_machine_arn=arn("STATE_MACHINE_ARN", "states"),
            topic_arn=arn("TOPIC_ARN", "sns"),
            connectwise_secret_arn=arn("CONNECTWISE_SECRET_ARN", "secretsmanager"),
            marketplace_secret_arn=arn("MARKETPLACE_SECRET_ARN", "secretsmanager"),
            signing_secret_arn=arn("SIGNING_SECRET_ARN", "secretsmanager"),
            approvals_base_url=url("APPROVALS_BASE_URL"),
            check_changes_function=text("CHECK_CHANGES_FUNCTION"),
            reconcile_function=text("RECONCILE_FUNCTION"),
            schedule_expression=text("SCHEDULE_EXPRESSION"),
            operator_access=exact("OPERATOR_ACCESS", OPERATOR_ACCESS_MODES, "cognito"),
            approval_policy=exact("APPROVAL_POLICY", APPROVAL_POLICIES, ApprovalPolicy.ALWAYS),
            approval_threshold=amount("APPROVAL_THRESHOLD", Decimal("0")),
            approval_timeout_seconds=number("APPROVAL_TIMEOUT_SECONDS", 7 * 24 * 3600, minimum=1),
            price_source=exact("PRICE_SOURCE", PRICE_SOURCES, PriceSource.MARKETPLACE),
            proration=exact("PRORATION", PRORATIONS, Proration.MARKETPLACE),
            first_run_lookback_days=number("FIRST_RUN_LOOKBACK_DAYS", 30, minimum=0),
            overlap_minutes=number("OVERLAP_MINUTES", 30, minimum=0),
            check_concurrency=number("CHECK_CONCURRENCY", 8, minimum=1),
            check_time_reserve_seconds=number("CHECK_TIME_RESERVE_SECONDS", 60, minimum=0),
            connectwise_requests_per_minute=number("CONNECTWISE_REQUESTS_PER_MINUTE", 1000, minimum=0),
            webhook_url=url("WEBHOOK_URL"),
            service_name=text("POWERTOOLS_SERVICE_NAME") or "cwsync",
            log_level=(text("POWERTOOLS_LOG_LEVEL") or "INFO").upper(),
            secrets_max_age_seconds=number("SECRETS_MAX_AGE_SECONDS", 300, minimum=0),
            catalog_snapshot_max_age_seconds=number("CATALOG_SNAPSHOT_MAX_AGE_SECONDS", 86400, minimum=0),
            catalog_subcategory_id=number("CATALOG_SUBCATEGORY_ID", None, minimum=1),
            catalog_type_id=number("CATALOG_TYPE_ID", None, minimum=1),
            customer_id_field=text("CUSTOMER_ID_FIELD"),
            cost_field=exact("COST_FIELD", MONEY_FIELDS, DEFAULT_COST_FIELD),
            price_field=exact("PRICE_FIELD", MONEY_FIELDS, DEFAULT_PRICE_FIELD),
            tag_format=tag_format("TAG_FORMAT"),
            bill_customer=exact("BILL_CUSTOMER", BILL_CUSTOMER_VALUES, BillCustomer.BILLABLE),
            taxable=flag("TAXABLE"),
            max_quantity=number("MAX_QUANTITY", 10000, minimum=1),
            max_quantity_by_product=per_product("MAX_QUANTITY_BY_PRODUCT"),
            max_price_digits=number("MAX_PRICE_DIGITS", 9, minimum=1),
            effective_date_window_days=number("EFFECTIVE_DATE_WINDOW_DAYS", 92, minimum=1),
            reconcile_threshold=amount("RECONCILE_NOT_BILLED_THRESHOLD", Decimal("0")),
            reconcile_mode=exact("RECONCILE_MODE", RECONCILE_MODES, ReconcileMode.REPORT),
        )
        if problems:
            raise ConfigurationError("cwsync is not configured correctly: " + "; ".join(problems))
        return settings

    def need(self, attribute: str) -> Any:
        """The value of an optional setting a caller cannot work without; ConfigurationError if unset."""
        value = getattr(self, attribute)
        if value in (None, ""):
            raise ConfigurationError(f"{env_name(attribute)} is not set; this function needs it")
        return value


def plausibility_limits(settings: Any):
    """The domain's plausibility Limits from settings (defaults for a settings object without them)."""
    from cwsync.domain.plausibility import Limits

    defaults = Limits()
    return Limits(**{name: getattr(settings, name, None) or getattr(defaults, name)
                     for name in ("max_quantity", "max_quantity_by_product", "max_price_digits",
                                  "effective_date_window_days")})


_ENV_NAMES = {
    "service_name": "POWERTOOLS_SERVICE_NAME",
    "log_level": "POWERTOOLS_LOG_LEVEL",
    "reconcile_threshold": "RECONCILE_NOT_BILLED_THRESHOLD",
}


def env_name(attribute: str) -> str:
    """The environment variable behind a Settings attribute (for messages)."""
    if attribute not in {f.name for f in fields(Settings)}:
        raise AttributeError(attribute)
    return _ENV_NAMES.get(attribute, attribute.upper())


# --- secrets -------------------------------------------------------------------------------

def read_secret(secret_id: str, *, required_keys: tuple[str, ...], what: str,
                max_age: int = 300) -> dict:
    """A JSON secret from Secrets Manager (cached by Powertools); names missing keys, never values."""
    from aws_lambda_powertools.utilities import parameters  # lazy: keeps handler cold starts small

    try:
        value = parameters.get_secret(secret_id, transform="json", max_age=max_age)
    except parameters.TransformParameterError:
        raise ConfigurationError(f"The {what} secret {secret_id} is not valid JSON") from None
    except parameters.GetParameterError as error:
        raise ConfigurationError(
            f"The {what} secret {secret_id} cannot be read ({_reason(error)})") from None
    if not isinstance(value, dict):
        raise ConfigurationError(f"The {what} secret {secret_id} should be a JSON object")
    missing = [key for key in required_keys if value.get(key) in (None, "")]
    if missing:
        raise ConfigurationError(
            f"The {what} secret {secret_id} lacks {', '.join(missing)}")
    return value


def _reason(error: Exception) -> str:
    cause = error.__cause__ or error.__context__
    code = getattr(cause, "response", {}).get("Error", {}).get("Code") if cause is not None else None
    return code or type(cause or error).__name__


def connectwise_secret(settings: Settings) -> dict:
    secret = read_secret(settings.need("connectwise_secret_arn"), required_keys=CONNECTWISE_SECRET_KEYS,
                         what="ConnectWise", max_age=settings.secrets_max_age_seconds)
    if not secret.get("siteUrl") and not secret.get("baseUrl"):
        raise ConfigurationError(
            f"The ConnectWise secret {settings.connectwise_secret_arn} needs siteUrl or baseUrl")
    return secret


def marketplace_secret(settings: Settings) -> dict:
    return read_secret(settings.need("marketplace_secret_arn"), required_keys=MARKETPLACE_SECRET_KEYS,
                       what="marketplace", max_age=settings.secrets_max_age_seconds)


def signing_key(settings: Settings) -> bytes:
    """The approval-link signing key (bytes); too short a key is refused."""
    secret = read_secret(settings.need("signing_secret_arn"), required_keys=SIGNING_SECRET_KEYS,
                         what="link-signing", max_age=settings.secrets_max_age_seconds)
    key = str(secret["key"])
    if len(key) < MIN_SIGNING_KEY_LENGTH:
        raise ConfigurationError(
            f"The link-signing secret {settings.signing_secret_arn} key is shorter than "
            f"{MIN_SIGNING_KEY_LENGTH} characters; use a long random value")
    return key.encode("utf-8")


def clear_secret_cache() -> None:
    """Forget cached secrets (tests, or after a rotation)."""
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters import base

    parameters.clear_caches()
    base.DEFAULT_PROVIDERS.clear()
