"""The template's `ScheduleV2` event, played by a timer thread (moto has no EventBridge Scheduler)."""
from __future__ import annotations

import re
import threading
from typing import Callable

RATE = re.compile(r"^\s*rate\(\s*(\d+)\s+(second|minute|hour|day)s?\s*\)\s*$", re.IGNORECASE)
UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def interval_seconds(expression: str) -> int:
    """Seconds between runs of `rate(N minutes|hours|days)` (seconds accepted for local runs)."""
    match = RATE.match(expression or "")
    if not match:
        raise ValueError(f"ScheduleExpression {expression!r} is not supported locally; "
                         "use rate(N minutes), rate(N hours) or rate(N days)")
    value = int(match.group(1))
    if value < 1:
        raise ValueError(f"ScheduleExpression {expression!r}: the rate must be at least 1")
    return value * UNIT_SECONDS[match.group(2).lower()]


class Schedule:
    """Calls `action()` every `interval` seconds in a daemon thread until `stop()`."""

    def __init__(self, interval: float, action: Callable[[], object], *, name: str = "schedule",
                 on_error: Callable[[Exception], None] | None = None):
        self.interval = interval
        self.action = action
        self.on_error = on_error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> "Schedule":
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.action()
            except Exception as error:  # noqa: BLE001 - a failed run must not stop the schedule
                if self.on_error:
                    self.on_error(error)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
