"""The result of one Check Changes run: what it found, as JSON and as one sentence."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cwsync.adapters.store import format_time
from cwsync.vocabulary import Classified, TaskStatus

SHOWN_REASONS = 3  # the summary sentence names the first few unreadable list entries


# --- result ------------------------------------------------------------------------------------

@dataclass
class CheckResult:
    window_from: datetime
    window_to: datetime
    watermark_before: datetime | None
    watermark_after: datetime | None = None
    listed: int = 0  # distinct orders the marketplace listed in the window
    new_tasks: list[str] = field(default_factory=list)  # stored as `new`, execution started
    pending: list[str] = field(default_factory=list)  # not completed yet: read again next run
    invalid: list[str] = field(default_factory=list)  # stored as `invalid` this run
    ignored: list[str] = field(default_factory=list)  # stored as `ignored` this run
    already_known: list[str] = field(default_factory=list)  # stored before (by any run)
    deferred: list[str] = field(default_factory=list)  # detail unreadable now (transient): next run
    restarted: list[str] = field(default_factory=list)  # stored earlier without an execution; started now
    not_started: list[str] = field(default_factory=list)  # stored, execution start failed: next run retries
    unreadable: int = 0  # list entries without an order id (cannot be stored; logged)
    unreadable_reasons: list[str] = field(default_factory=list)  # why, naming the entry and the field
    details_fetched: int = 0
    resumed_at: int | None = None  # a window an earlier run stopped in, resumed at this list offset
    stopped_at: int | None = None  # stopped near the time limit after this many list entries

    def counts(self) -> dict[str, int]:
        return {"listed": self.listed, TaskStatus.NEW: len(self.new_tasks), Classified.PENDING: len(self.pending),
                Classified.INVALID: len(self.invalid), Classified.IGNORED: len(self.ignored),
                "alreadyKnown": len(self.already_known), "deferred": len(self.deferred),
                "restarted": len(self.restarted), "notStarted": len(self.not_started),
                "unreadable": self.unreadable, "detailsFetched": self.details_fetched,
                "resumedAt": self.resumed_at, "stoppedAt": self.stopped_at}

    def to_dict(self) -> dict:
        """JSON-serialisable (the handler's return value, `cwsync check --json`), with the one
        sentence the dashboard shows for this run (`summary`)."""
        return {"summary": self.summary(), "windowFrom": format_time(self.window_from), "windowTo": format_time(self.window_to),
                "watermarkBefore": format_time(self.watermark_before) if self.watermark_before else None,
                "watermarkAfter": format_time(self.watermark_after) if self.watermark_after else None,
                "counts": self.counts(), "newTasks": self.new_tasks, Classified.PENDING: self.pending,
                Classified.INVALID: self.invalid, Classified.IGNORED: self.ignored, "alreadyKnown": self.already_known,
                "deferred": self.deferred, "restarted": self.restarted, "notStarted": self.not_started}

    def summary(self) -> str:
        """One sentence a billing person reads: what this run found."""
        since = self.window_from.strftime("%Y-%m-%d %H:%M UTC")
        parts = [_count(len(self.new_tasks), "new task")]
        parts += [phrase.format(len(ids)) for ids, phrase in (
            (self.pending, "{} not completed yet (read again next run)"),
            (self.invalid, "{} invalid (see the task for the reason)"),
            (self.ignored, "{} ignored"),
            (self.already_known, "{} already known"),
            (self.deferred, "{} could not be read now (tried again next run)")) if ids]
        if self.restarted:
            parts.append(f"{_count(len(self.restarted), 'earlier task')} started")
        if self.not_started:
            parts.append(f"{len(self.not_started)} not started (retried next run)")
        if self.unreadable:
            shown = "; ".join(self.unreadable_reasons[:SHOWN_REASONS])
            more = ", …" if len(self.unreadable_reasons) > SHOWN_REASONS else ""
            parts.append(f"{self.unreadable} unreadable list entries skipped" + (f" ({shown}{more})" if shown else ""))
        if self.stopped_at is not None:
            parts.append(f"stopped near the time limit after {self.stopped_at} listed orders "
                         "(the next run goes on from there)")
        return f"Checked {_count(self.listed, 'order')} created since {since}: {', '.join(parts)}."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
