"""The one reader of ISO 8601 times, for every layer: orders, stored items, links, pages.

A value without a zone is taken as UTC (both APIs and the table write UTC); results are
aware UTC datetimes. `parse_date` keeps the calendar day as written (an agreement's end
date is a day, not an instant).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))


def parse_datetime(value: Any) -> datetime:
    """ISO 8601 text (or a datetime) → aware UTC datetime; ValueError when it is not one."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = _iso(value)
    else:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def parse_datetime_or_none(value: Any) -> datetime | None:
    """As `parse_datetime`, None for a missing or unreadable value."""
    if value in (None, ""):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def parse_date(value: Any) -> date | None:
    """The calendar day an ISO 8601 date or date-time names (no zone conversion); None if unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return _iso(value).date()
    except ValueError:
        return None
