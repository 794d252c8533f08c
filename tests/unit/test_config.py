"""Settings from the environment (secrets from Secrets Manager: tests/integration/test_config_secrets.py)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from cwsync.config import Settings
from cwsync.errors import ConfigurationError

FULL = {
    "TABLE_NAME": "cwsync", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:s",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t", "CONNECTWISE_SECRET_ARN": "cw",
    "MARKETPLACE_SECRET_ARN": "mp", "SIGNING_SECRET_ARN": "sign",
    "APPROVALS_BASE_URL": "https://abc.execute-api.us-east-1.amazonaws.com/", "APPROVAL_POLICY": "never",
    "APPROVAL_THRESHOLD": "99.50", "APPROVAL_TIMEOUT_SECONDS": "3600", "PRICE_SOURCE": "connectwise",
    "PRORATION": "connectwise", "FIRST_RUN_LOOKBACK_DAYS": "3", "OVERLAP_MINUTES": "10",
    "WEBHOOK_URL": "https://hooks.example.com/x", "POWERTOOLS_SERVICE_NAME": "svc", "POWERTOOLS_LOG_LEVEL": "debug",
}


def test_every_documented_variable_is_read():
    s = Settings.from_environment(FULL)
    assert (s.table_name, s.approval_policy, s.approval_threshold, s.approval_timeout_seconds) == \
        ("cwsync", "never", Decimal("99.50"), 3600)
    assert (s.price_source, s.proration, s.first_run_lookback_days, s.overlap_minutes) == \
        ("connectwise", "connectwise", 3, 10)
    assert s.approvals_base_url == "https://abc.execute-api.us-east-1.amazonaws.com"
    assert (s.webhook_url, s.service_name, s.log_level) == ("https://hooks.example.com/x", "svc", "DEBUG")
    assert (s.connectwise_secret_arn, s.marketplace_secret_arn, s.signing_secret_arn) == ("cw", "mp", "sign")


def test_defaults_apply_when_only_the_table_is_set():
    s = Settings.from_environment({"TABLE_NAME": "t"})
    assert (s.approval_policy, s.price_source, s.proration, s.approval_threshold) == \
        ("always", "marketplace", "marketplace", Decimal(0))
    assert s.webhook_url is None and s.topic_arn is None


def test_every_problem_is_named_at_once():
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_environment({"APPROVAL_POLICY": "sometimes", "APPROVAL_TIMEOUT_SECONDS": "soon",
                                   "APPROVAL_THRESHOLD": "-1", "APPROVALS_BASE_URL": "ftp://x",
                                   "TOPIC_ARN": "my-topic"})
    message = str(caught.value)
    for expected in ("TABLE_NAME is not set", "APPROVAL_POLICY is 'sometimes'", "APPROVAL_TIMEOUT_SECONDS is 'soon'",
                     "APPROVAL_THRESHOLD is '-1'", "APPROVALS_BASE_URL", "TOPIC_ARN is 'my-topic'"):
        assert expected in message


def test_a_setting_a_function_needs_says_which_variable_to_set():
    with pytest.raises(ConfigurationError, match="APPROVALS_BASE_URL is not set"):
        Settings.from_environment({"TABLE_NAME": "t"}).need("approvals_base_url")


def test_a_first_check_looks_back_thirty_days_and_reads_eight_new_orders_at_once_by_default():
    settings = Settings.from_environment({"TABLE_NAME": "t"})
    assert settings.first_run_lookback_days == 30
    assert settings.check_concurrency == 8
    assert Settings.from_environment({"TABLE_NAME": "t", "CHECK_CONCURRENCY": "2"}).check_concurrency == 2


@pytest.mark.parametrize("name, raw, expected", [
    ("APPROVAL_POLICY", "Never", "never"), ("PRICE_SOURCE", "ConnectWise", "connectwise"),
    ("PRORATION", "MARKETPLACE", "marketplace"), ("BILL_CUSTOMER", "donotbill", "DoNotBill"),
])
def test_a_setting_with_fixed_values_accepts_any_case_and_keeps_the_documented_spelling(name, raw, expected):
    settings = Settings.from_environment({"TABLE_NAME": "t", name: raw})
    attribute = {"APPROVAL_POLICY": "approval_policy", "PRICE_SOURCE": "price_source", "PRORATION": "proration",
                 "BILL_CUSTOMER": "bill_customer"}[name]
    assert getattr(settings, attribute) == expected
