"""Secrets from Secrets Manager (moto, through Powertools' parameters): read as JSON, cached,
and every problem named without the secret's values."""
from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from cwsync import config
from cwsync.config import Settings
from cwsync.errors import ConfigurationError


@pytest.fixture
def secrets(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    config.clear_secret_cache()
    with mock_aws():
        yield boto3.client("secretsmanager")
    config.clear_secret_cache()


def test_secrets_are_read_as_json_and_cached(secrets):
    arn = secrets.create_secret(Name="sign", SecretString=json.dumps({"key": "x" * 40}))["ARN"]
    settings = Settings.from_environment({"TABLE_NAME": "t", "SIGNING_SECRET_ARN": arn})
    assert config.signing_key(settings) == b"x" * 40
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"key": "y" * 40}))
    assert config.signing_key(settings) == b"x" * 40  # cached for max_age
    config.clear_secret_cache()
    assert config.signing_key(settings) == b"y" * 40


def test_a_secret_missing_keys_is_named_without_its_values(secrets):
    arn = secrets.create_secret(Name="cw", SecretString=json.dumps({"siteUrl": "https://x", "publicKey": "PUB",
                                                                    "privateKey": "PRIVATE"}))["ARN"]
    settings = Settings.from_environment({"TABLE_NAME": "t", "CONNECTWISE_SECRET_ARN": arn})
    with pytest.raises(ConfigurationError) as caught:
        config.connectwise_secret(settings)
    assert "companyId, clientId" in str(caught.value) and "PRIVATE" not in str(caught.value)


@pytest.mark.parametrize("value, message", [("not json", "not valid JSON"), (json.dumps({"key": "short"}), "shorter")])
def test_a_bad_signing_secret_is_refused(secrets, value, message):
    arn = secrets.create_secret(Name="s", SecretString=value)["ARN"]
    with pytest.raises(ConfigurationError, match=message):
        config.signing_key(Settings.from_environment({"TABLE_NAME": "t", "SIGNING_SECRET_ARN": arn}))


def test_a_missing_secret_is_a_configuration_error(secrets):
    settings = Settings.from_environment({"TABLE_NAME": "t", "MARKETPLACE_SECRET_ARN": "nope"})
    with pytest.raises(ConfigurationError, match="cannot be read \\(ResourceNotFoundException\\)"):
        config.marketplace_secret(settings)
