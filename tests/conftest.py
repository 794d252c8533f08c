"""Fixtures shared by the suites: an in-process AWS (moto) with the cwsync table."""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager

import boto3
import pytest
from hypothesis import settings
from moto import mock_aws

from cwsync.adapters.store import create_table

# Property-based tests draw the same examples on every `make test` (a new random draw must not turn a
# run red that the last one passed: a failure found once is found every time, and is fixed).
# `HYPOTHESIS_PROFILE=explore make test` draws new examples each run, to look for more.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

TABLE_NAME = "cwsync-test"
FAKE_AWS_ENVIRONMENT = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}


@contextmanager
def fake_aws():
    """moto for everything boto3 does inside, with credentials that can reach nothing real."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAKE_AWS_ENVIRONMENT.items():
            patch.setenv(name, value)
        with mock_aws():
            yield


@pytest.fixture
def aws():
    """moto for the test, fresh and empty."""
    with fake_aws():
        yield


@pytest.fixture
def dynamodb(aws):
    """A DynamoDB client with the cwsync table (`TABLE_NAME`) created, fresh for each test."""
    client = boto3.client("dynamodb")
    create_table(client, TABLE_NAME)
    return client


@pytest.fixture(scope="module")
def module_dynamodb():
    """A DynamoDB client shared by a module's tests; each test creates the tables it needs."""
    with fake_aws():
        yield boto3.client("dynamodb")


@pytest.fixture
def atomic_dynamodb():
    """moto applies a ConditionExpression without a lock, so two threads can both pass the
    check; real DynamoDB makes each item write atomic (`cwsync_local.loadtest.atomic_moto_dynamodb`)."""
    from cwsync_local.loadtest import atomic_moto_dynamodb

    with atomic_moto_dynamodb():
        yield


@pytest.fixture
def http_log_records():
    """The records the HTTP adapter logs at INFO and above during the test (attached to its own
    logger, so they are seen whatever the `cwsync` logger's propagation)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("cwsync.adapters.http")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def pytest_configure(config):
    config.addinivalue_line("markers", "python_text_allowed: the test feeds Python-looking text in on purpose")


@pytest.fixture(autouse=True)
def nothing_shown_has_python_text(request):
    """The suite-wide guard (`tests/python_text_guard.py`): a page, an HTTP answer, a task
    reason, an approval or a notification with Python's text fails the test that made it."""
    import python_text_guard as guard

    guard.install()
    guard.findings.clear()
    guard.collect_in_memory()
    yield
    found = guard.findings[:] + guard.collect_in_memory()
    guard.findings.clear()
    if found and request.node.get_closest_marker("python_text_allowed") is None:
        pytest.fail("Python text in what cwsync told people:\n  " + "\n  ".join(found[:10]), pytrace=False)
