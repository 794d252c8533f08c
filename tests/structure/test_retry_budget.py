"""One retry budget per write: the numbers in `cwsync.retries` are the ones each layer uses."""
from __future__ import annotations

import inspect

from cwsync import retries
from cwsync.adapters.http import RetryPolicy
from cwsync.services.apply import Applier
from cwsync_local.runtime.translate import load_template


def test_each_layer_uses_the_budget_stated_in_one_place():
    assert RetryPolicy().attempts == retries.HTTP_RETRIES
    assert inspect.signature(Applier).parameters["write_attempts"].default == retries.WRITE_ATTEMPTS
    assert load_template()["Parameters"]["RetryMaxAttempts"]["Default"] == retries.STATE_MACHINE_RETRIES


def test_a_post_is_sent_at_most_seven_times_and_an_idempotent_patch_at_most_thirty_five_by_default():
    assert retries.post_budget() == 7
    assert retries.patch_budget() == 35
    assert retries.post_budget(state_machine_retries=3) == 4  # `cwsync run` uses 3 retries
