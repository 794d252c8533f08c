"""Sync tasks run at once against a throttled ConnectWise: none fails because of the limit,
and no request is refused twice in a row (a refusal makes every execution wait as asked).

Small size: the simulator allows 20 requests per 2-second window (600 a minute) and the
executions share the same budget through the table, as Lambdas do in AWS.
"""
from __future__ import annotations

from cwsync.adapters.http import RetryPolicy
from cwsync_local.loadtest import demo_like_seed, run_tasks
from cwsync_local.simulators.common import Faults

TABLE = "cwsync-test"
WINDOW, LIMIT = 2.0, 20
PATIENT = RetryPolicy(attempts=4, backoff_factor=0.05, backoff_max=1.0, backoff_jitter=0.05, retry_after_max=5.0)


def test_tasks_sharing_the_rate_limit_all_sync_and_no_request_is_refused_twice_in_a_row(dynamodb, atomic_dynamodb):
    run = run_tasks(dynamodb, TABLE, demo_like_seed(12), workers=4, per_minute=LIMIT, window=WINDOW,
                    faults=Faults(throttle=LIMIT, throttle_window_seconds=WINDOW), retry=PATIENT)
    summary = run.summary()
    assert run.tasks == 12 and run.outcomes == {"synced": 12}, summary
    assert run.failures == []
    assert run.most_refusals_in_a_row <= 1, summary
    tags = sorted(a["serialNumber"] for a in run.additions if str(a.get("serialNumber", "")).startswith("MP-SUB-B"))
    assert len(tags) == 12 and len(set(tags)) == 12  # each task's addition landed once
    assert summary["connectwise_requests"] > LIMIT  # the limit really was in the way


class CountingLimiter:
    """Stands in for the shared budget: counts the tokens taken."""

    def __init__(self):
        self.taken = 0

    def acquire(self) -> None:
        self.taken += 1

    def pause(self, seconds: float) -> None:
        pass


def test_finding_the_api_address_takes_its_token_from_the_shared_budget_too():
    from cwsync.adapters.connectwise import ConnectWiseClient
    from cwsync_local.simulators import connectwise as cw_sim

    limiter = CountingLimiter()
    with cw_sim.start(demo_like_seed(1)) as simulator:
        client = ConnectWiseClient.from_secret({"siteUrl": simulator.url, **cw_sim.DEFAULT_CREDENTIALS},
                                               limiter=limiter)
        assert limiter.taken == 1  # login/companyinfo, before any request of the sync
        client.first("finance/agreements")
        client.close()
    assert limiter.taken == 2
