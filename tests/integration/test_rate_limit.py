"""The ConnectWise request budget shared through the table (moto DynamoDB: the conditional version
update is what makes it shared): never more than the limit in any
minute, whoever takes the tokens; a refusal makes everyone wait. Time is a fake clock that
moves only when a caller sleeps, so the checks are exact and take no real time."""
from __future__ import annotations

from collections import deque

import pytest

from cwsync.adapters.rate_limit import BURST_SHARE, STEADY_SHARE, SharedRateLimit

TABLE = "cwsync-test"


class FakeTime:
    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def most_in_any_window(times: list[float], window: float) -> int:
    recent: deque[float] = deque()
    most = 0
    for at in sorted(times):
        recent.append(at)
        while at - recent[0] >= window:
            recent.popleft()
        most = max(most, len(recent))
    return most


@pytest.fixture
def fake_time():
    return FakeTime()


def limiters(dynamodb, fake_time, count: int, per_minute: int) -> list[SharedRateLimit]:
    """`count` callers (as separate Lambda containers would be), one bucket item between them."""
    return [SharedRateLimit(dynamodb, TABLE, per_minute, clock=fake_time.clock, sleep=fake_time.sleep)
            for _ in range(count)]


def test_callers_sharing_the_budget_never_send_more_than_the_limit_in_any_minute(dynamodb, fake_time):
    callers = limiters(dynamodb, fake_time, 3, per_minute=120)
    taken = []
    for turn in range(400):  # about three minutes' worth, taken in turns
        callers[turn % 3].acquire()
        taken.append(fake_time.now)
    assert most_in_any_window(taken, 60.0) <= 0.96 * 120  # margin for requests that arrive late
    minutes = (taken[-1] - taken[0]) / 60
    assert len(taken) / minutes >= 0.93 * 120  # a busy integration keeps at least 90 % of the limit
    assert sum(c.collisions for c in callers) > 0  # they really did contend for the same item


def test_a_refusal_pauses_every_caller_for_the_time_asked(dynamodb, fake_time):
    first, second = limiters(dynamodb, fake_time, 2, per_minute=600)
    first.acquire()
    paused_at = fake_time.now
    first.pause(7)
    second.acquire()
    assert fake_time.now >= paused_at + 7


def test_a_shorter_pause_does_not_cut_a_longer_one(dynamodb, fake_time):
    first, second = limiters(dynamodb, fake_time, 2, per_minute=600)
    start = fake_time.now
    first.pause(30)
    second.pause(2)
    first.acquire()
    assert fake_time.now >= start + 30


def test_an_idle_budget_refills_only_up_to_its_burst(dynamodb, fake_time):
    (caller,) = limiters(dynamodb, fake_time, 1, per_minute=600)
    caller.acquire()
    fake_time.sleep(3600)  # an hour idle
    start = fake_time.now
    burst, per_second = 600 * BURST_SHARE, 600 * STEADY_SHARE / 60
    for _ in range(int(burst) + int(per_second * 60)):
        caller.acquire()
    # the burst at once, then a minute's refill at 9.4 a second: about a minute, not at once
    assert fake_time.now - start >= 59


def test_a_limit_of_zero_requests_is_refused():
    with pytest.raises(ValueError):
        SharedRateLimit(None, TABLE, 0)
