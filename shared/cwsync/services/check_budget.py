"""How a Check Changes run stays inside its Lambda's time limit and the next run goes on.

A run takes the listed orders in batches of 100. Before each batch after the first it asks
the invocation how much time is left (`context.get_remaining_time_in_millis`); below the
reserve (`CHECK_TIME_RESERVE_SECONDS`) it stops and writes a checkpoint: the window it was
reading (`created_to` pins it, so offsets stay put), how many list entries it had taken,
and what the watermark may become once the window is finished. The next run resumes that
window at that offset before it reads anything newer. Every batch is finished before the
run stops, so nothing is left half-done; an order taken twice (a repeat at a page edge,
or two runs at once) is found by BatchGetItem and costs no detail call and no write.

The watermark does not move while a window is unfinished: the marketplace lists newest
first, so the orders not yet read are the oldest of the window.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from cwsync.adapters.store import format_time, parse_time

DEFAULT_RESERVE_SECONDS = 60  # left for the batch under way and the checkpoint itself


@dataclass(frozen=True)
class TimeBudget:
    """`remaining_ms` is the invocation's clock (None: no limit, e.g. `cwsync check`)."""

    remaining_ms: Callable[[], int] | None = None
    reserve_seconds: float = DEFAULT_RESERVE_SECONDS

    def nearly_spent(self) -> bool:
        return self.remaining_ms is not None and self.remaining_ms() < self.reserve_seconds * 1000


@dataclass
class WindowProgress:
    """What a run of one window has done so far; saved as the checkpoint when it stops early."""

    window_from: datetime
    window_to: datetime
    offset: int = 0  # list entries of the window already taken (newest first)
    stored_max: datetime | None = None  # newest creation time stored by earlier runs of the window
    held_min: datetime | None = None  # oldest pending/deferred order seen by earlier runs
    held_without_time: bool = False
    runs: int = 0  # earlier runs of this window

    def to_item(self, saved_at: datetime) -> dict:
        item: dict[str, Any] = {"windowFrom": format_time(self.window_from), "windowTo": format_time(self.window_to),
                                "offset": self.offset, "heldWithoutTime": self.held_without_time,
                                "runs": self.runs, "savedAt": format_time(saved_at)}
        if self.stored_max is not None:
            item["storedMax"] = format_time(self.stored_max)
        if self.held_min is not None:
            item["heldMin"] = format_time(self.held_min)
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any] | None) -> "WindowProgress | None":
        """The checkpoint as progress; None when there is none or it cannot be read (start afresh)."""
        if not item:
            return None
        try:
            return cls(window_from=parse_time(item["windowFrom"]), window_to=parse_time(item["windowTo"]),
                       offset=max(0, int(item.get("offset") or 0)),
                       stored_max=parse_time(item["storedMax"]) if item.get("storedMax") else None,
                       held_min=parse_time(item["heldMin"]) if item.get("heldMin") else None,
                       held_without_time=bool(item.get("heldWithoutTime")), runs=int(item.get("runs") or 0))
        except (KeyError, TypeError, ValueError):
            return None

    def merged(self, stored_times: list[datetime], held_times: list[datetime], held_without_time: bool,
               offset: int) -> "WindowProgress":
        """This progress plus one more run's part of the window."""
        helds = [t for t in (self.held_min, *held_times) if t is not None]
        stored = [t for t in (self.stored_max, *stored_times) if t is not None]
        return WindowProgress(self.window_from, self.window_to, offset=offset,
                              stored_max=max(stored) if stored else None,
                              held_min=min(helds) if helds else None,
                              held_without_time=self.held_without_time or held_without_time, runs=self.runs + 1)

    def watermark_target(self, stored_times: list[datetime], held_times: list[datetime],
                         held_without_time: bool) -> datetime | None:
        """Where the watermark may move once the window is finished: the newest stored creation
        time not past the oldest order still to be read again. Earlier runs are summed up by
        their newest stored time; when that one is past the limit, only this run's times count
        (a lower watermark only means a longer list next time, never a lost order)."""
        if held_without_time or self.held_without_time:
            return None
        limit = min([t for t in (self.held_min, *held_times) if t is not None] + [self.window_to])
        eligible = [t for t in stored_times if t <= limit]
        if self.stored_max is not None and self.stored_max <= limit:
            eligible.append(self.stored_max)
        return max(eligible) if eligible else None
