"""The dashboard's pure rules: which buttons a task gets, ages, schedules, search."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cwsync.services.check_runs import schedule_interval
from cwsync.services.operator import age_text, allowed_actions, matches, task_row

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("status, started, expected", [
    ("new", False, ["sync", "ignore"]),
    ("new", True, []),
    ("in_progress", True, []),
    ("waiting_approval", True, []),
    ("synced", True, []),
    ("nothing_to_change", True, []),
    ("failed", True, ["sync_again", "ignore"]),
    ("expired", True, ["sync_again", "ignore"]),
    ("rejected", True, ["sync_again", "ignore"]),
    ("ignored", False, ["sync_again", "unignore"]),
    ("invalid", False, ["ignore"]),
])
def test_each_status_offers_exactly_the_buttons_that_are_safe_for_it(status, started, expected):
    task = {"taskId": "1", "status": status, **({"workflowStartedAt": "2026-03-01T00:00:00.000Z"} if started else {})}
    assert allowed_actions(task) == expected


def test_ages_read_in_minutes_hours_then_days():
    assert age_text((NOW - timedelta(seconds=20)).isoformat(), NOW) == "1 min"
    assert age_text((NOW - timedelta(minutes=59)).isoformat(), NOW) == "59 min"
    assert age_text((NOW - timedelta(hours=5)).isoformat(), NOW) == "5 h"
    assert age_text((NOW - timedelta(days=3, hours=2)).isoformat(), NOW) == "3 d"
    assert age_text("not a time", NOW) == ""


def test_rate_schedules_give_the_interval_and_others_none():
    assert schedule_interval("rate(15 minutes)") == timedelta(minutes=15)
    assert schedule_interval("rate(1 hour)") == timedelta(hours=1)
    assert schedule_interval("rate(2 days)") == timedelta(days=2)
    assert schedule_interval("cron(0 8 * * ? *)") is None
    assert schedule_interval(None) is None


def test_search_finds_a_task_by_every_word_in_customer_order_or_id():
    task = {"taskId": "5000112", "orderNumber": "SO000112", "customerName": "Green Lane LLC"}
    assert matches(task, "green so000112")
    assert matches(task, "5000112")
    assert not matches(task, "green harbour")


def test_a_row_names_the_customer_even_before_it_is_known_by_name():
    row = task_row({"taskId": "9", "status": "failed", "customerId": "1000048531", "taskType": "sales",
                    "orderNumber": "SO9"}, NOW)
    assert row["customer"] == "customer 1000048531"
    assert row["type"] == "Sales Order (new subscription)"
    assert row["nextAction"].startswith("Fix the cause")


@pytest.mark.parametrize("subject", [
    "Choose the ConnectWise company for " + "Very Long Customer Name Incorporated " * 3 + "(order SO000123)",
    "Confirm the ConnectWise changes for <script>alert(1)</script> & Co \"Ltd\" of the Northern Territories "
    "and Islands (order SO000123)",
    "Sync failed: order SO000123 for " + "Very Long Customer Name Incorporated " * 3,
])
def test_a_long_notification_subject_keeps_its_whole_order_number(subject):
    from cwsync.adapters.notify import SUBJECT_MAX, clean_subject

    shortened = clean_subject(subject)
    assert len(shortened) <= SUBJECT_MAX
    assert "SO000123" in shortened and "…" in shortened
