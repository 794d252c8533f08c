"""The pure rules of a Check Changes window spread over several runs (cwsync.services.check_budget)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cwsync.services.check_budget import TimeBudget, WindowProgress

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
WINDOW = WindowProgress(T0, T0 + timedelta(hours=10))


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_without_a_clock_the_budget_never_runs_out_and_with_one_it_keeps_the_reserve():
    assert TimeBudget().nearly_spent() is False
    assert TimeBudget(lambda: 61_000, reserve_seconds=60).nearly_spent() is False
    assert TimeBudget(lambda: 59_999, reserve_seconds=60).nearly_spent() is True


def test_a_checkpoint_survives_the_table_and_a_broken_one_means_starting_afresh():
    progress = WINDOW.merged([at(9), at(8)], [at(7)], False, offset=100)
    again = WindowProgress.from_item(progress.to_item(at(11)))
    assert again == progress and again.runs == 1 and again.stored_max == at(9) and again.held_min == at(7)
    assert WindowProgress.from_item(None) is None
    assert WindowProgress.from_item({"windowFrom": "yesterday"}) is None


def test_the_finished_window_moves_the_watermark_to_the_newest_stored_order_of_all_its_runs():
    earlier = WINDOW.merged([at(9), at(8)], [], False, offset=100)  # newest first: the first run's part
    assert earlier.watermark_target([at(3), at(2)], [], False) == at(9)


def test_an_order_held_back_by_any_run_keeps_the_watermark_at_or_before_it():
    earlier = WINDOW.merged([at(9), at(8)], [at(7)], False, offset=100)  # pending order at 7 h
    target = earlier.watermark_target([at(6), at(3)], [], False)
    assert target == at(6)  # the earlier run's 9 h is past the held order: not used
    later_hold = WINDOW.merged([at(9)], [], False, offset=100)
    assert later_hold.watermark_target([at(6), at(3)], [at(4)], False) == at(3)


def test_an_order_held_without_a_time_keeps_the_watermark_where_it_is():
    assert WINDOW.merged([at(9)], [], True, offset=100).watermark_target([at(3)], [], False) is None
    assert WINDOW.watermark_target([at(3)], [], True) is None
