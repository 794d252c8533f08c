"""Reading list query parameters the way the API does: strict, with a 400 that says why."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Iterable, Mapping

from cwsync_local.simulators.marketplace.responses import ApiError

DEFAULT_LIMIT = 10
MAX_LIMIT = 500  # larger pages are refused (400), never silently cut, so no client skips records


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int

    def envelope(self, data: list, total: int) -> dict:
        return {"data": data, "pagination": {"offset": self.offset, "limit": self.limit, "total": total}}


def _integer(args: Mapping[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"Query parameter {name} must be a whole number, got {raw!r}.") from None


def page(args: Mapping[str, str]) -> Page:
    offset = _integer(args, "offset", 0)
    limit = _integer(args, "limit", DEFAULT_LIMIT)
    if offset < 0:
        raise ApiError(400, f"Query parameter offset must be 0 or more, got {offset}.")
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"Query parameter limit must be between 1 and {MAX_LIMIT}, got {limit}.")
    return Page(offset, limit)


def parse_instant(value: str, name: str) -> datetime:
    """ISO 8601 date-time; no offset means UTC; a bare date means its midnight UTC."""
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=timezone.utc)
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ApiError(400, f"Query parameter {name} must be an ISO 8601 date-time like "
                            f"2026-11-10T00:00:00Z, got {value!r}.") from None
    return (parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed).astimezone(timezone.utc)


def instant(args: Mapping[str, str], name: str) -> datetime | None:
    raw = args.get(name)
    return None if raw is None or raw == "" else parse_instant(raw, name)


def choice(args: Mapping[str, str], name: str, allowed: Iterable[str]) -> str | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    allowed = tuple(allowed)
    if raw not in allowed:
        raise ApiError(400, f"Query parameter {name} must be one of {', '.join(allowed)}, got {raw!r}.")
    return raw


def text(args: Mapping[str, str], name: str) -> str | None:
    raw = args.get(name)
    return None if raw is None or raw == "" else raw


def check_range(low: datetime | None, high: datetime | None, low_name: str, high_name: str) -> None:
    if low and high and high < low:
        raise ApiError(400, f"{high_name} ({high.isoformat()}) is before {low_name} ({low.isoformat()}).")
