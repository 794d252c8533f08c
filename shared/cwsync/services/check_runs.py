"""When the marketplace was last checked, when it will be next, and "Check Changes" on demand.

Every CheckChanges run records itself (time, how it was started, its one-sentence summary);
the dashboard shows the latest run and the next scheduled one (from `rate(...)` schedules).
The dashboard's button queues a CheckChanges invocation rather than running the check inside
the page request, so a long check never times the page out.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Mapping

DASHBOARD_SOURCE = "cwsync.dashboard"
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def run_check(deps, event: Mapping[str, Any] | None = None, *, remaining_ms=None) -> dict:
    """CheckChanges as the handler runs it: check, then record the run for the dashboard."""
    from cwsync.services.check_changes import check_changes

    result = check_changes(deps, remaining_ms=remaining_ms)
    from cwsync.services.task_notices import send_digest

    source = "dashboard" if (event or {}).get("source") == DASHBOARD_SOURCE else "schedule"
    previous = (deps.store.last_checks().get("last") or {}).get("digest")
    digest = send_digest(deps, previous)
    deps.store.record_check(deps.now(), source, result.summary(), result.counts(), digest=digest)
    return result.to_dict()


def request_check(deps, who: str) -> None:
    """Queue a CheckChanges run (the dashboard's Check Changes button)."""
    deps.check_trigger.invoke_async({"source": DASHBOARD_SOURCE, "requestedBy": who})


def schedule_interval(expression: str | None) -> timedelta | None:
    match = _RATE.match((expression or "").strip())
    if not match:
        return None
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2).rstrip("s")])


def check_times(deps, now: datetime) -> dict:
    """{"last": run | None, "next": datetime | None, "schedule": expression}."""
    from cwsync.services.operator import parse_iso

    runs = deps.store.last_checks()
    last = runs.get("last")
    interval = schedule_interval(deps.settings.schedule_expression)
    next_at = None
    scheduled = parse_iso((runs.get("lastScheduled") or {}).get("at"))
    if interval is not None:
        next_at = scheduled + interval if scheduled else None
        while next_at is not None and next_at < now:
            next_at += interval
    return {"last": last, "lastAt": parse_iso((last or {}).get("at")), "next": next_at,
            "schedule": deps.settings.schedule_expression or ""}
