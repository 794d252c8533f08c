"""A failed task's reason is cwsync's own message, or a plain sentence: never Python's text."""
from __future__ import annotations

import json

import pytest

from cwsync.services.steps.finish import UNEXPECTED, UNEXPECTED_MESSAGE, error_text


def lambda_error(error_type: str, message: str) -> dict:
    """A state machine Catch of a Lambda function error: Cause holds the function's error JSON."""
    return {"Error": error_type, "Cause": json.dumps({
        "errorMessage": message, "errorType": error_type,
        "stackTrace": ['  File "/var/task/cwsync/domain/agreements.py", line 60, in _problems\n']})}


@pytest.mark.parametrize("error_type, message", [
    ("AttributeError", "'dict' object has no attribute 'upper'"),
    ("KeyError", "'currencyCode'"),
    ("TypeError", "'<' not supported between instances of 'NoneType' and 'int'"),
    ("Lambda.Unknown", "Unhandled"),
])
def test_an_error_that_is_not_cwsyncs_own_becomes_a_plain_sentence(error_type, message):
    assert error_text(lambda_error(error_type, message)) == (UNEXPECTED, UNEXPECTED_MESSAGE)
    assert "object" not in UNEXPECTED_MESSAGE and "Error" not in UNEXPECTED_MESSAGE


def test_cwsyncs_own_errors_keep_their_message():
    message = ("ConnectWise agreement 401: currency/currencyCode is 5, not a currency code; correct the agreement "
               "in ConnectWise and check again")
    assert error_text(lambda_error("InvalidRecord", message)) == ("InvalidRecord", message)
    assert error_text(lambda_error("SyncFailed", "Customer 1 is not linked")) == ("SyncFailed", "Customer 1 is not linked")


def test_a_state_machine_error_keeps_its_name():
    assert error_text({"Error": "States.Timeout", "Cause": ""}) == ("States.Timeout", "")
