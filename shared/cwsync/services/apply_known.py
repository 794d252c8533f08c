"""The ConnectWise answers the applier already has on a task's first apply attempt, right after its plan.

The applier looks up each write's ownership tag before writing and reads an addition again
before changing it: that is how an apply that runs again finds what an earlier attempt wrote.
On the first apply attempt a task ever has, moments after its plan read ConnectWise, those
answers are known without asking:

- **No record carries a tag this order's plan made.** Every tag of an order's plan names the
  order (`check_tag_format`), only this task's applier writes it, and no apply of this task
  began before (`Store.begin_apply` said so, atomically, before the first write). So a new
  addition or adjustment is written without its lookup.
- **The additions the plan changes are as the plan read them.** The plan's read (the
  subscription's tagged additions) is kept with the plan (`plan_read`), so a cancellation or
  an update is sent without reading its addition again. An addition deleted meanwhile answers
  the write with 404: the operation fails and says so, as after the read.

Trusted only when all of these hold, else every lookup happens as on any retry:
the apply is the task's first (`begin_apply`); the plan is an order's plan kept with its read
(reconciliation repairs and plans made before this rule carry none); no person confirmed it
(`confirmed`; a plan that asks a person is stored without its read: it may wait for days);
and the read is at most `PLAN_READ_TRUSTED_FOR` old. A failed write is never trusted: the
applier looks its tag up before anything else. A person's edit of a cwsync-tagged addition
in the seconds between the plan's read and the write is overwritten by the planned values,
as it would be in the moment between the applier's own read and its write.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from cwsync.dates import parse_datetime
from cwsync.domain.records import AdditionRecord
from cwsync.vocabulary import Action

# How old the plan's read may be when the apply begins (the steps between are the state
# machine's moves and, under ConnectWise's rate limit, waits for its budget).
PLAN_READ_TRUSTED_FOR = timedelta(minutes=2)
READ_KEY = "read"  # the plan's key for what its ConnectWise read answered
CHANGES_ADDITION = (Action.CANCEL_ADDITION, Action.UPDATE_ADDITION)


@dataclass(frozen=True)
class KnownAnswers:
    """What the applier need not ask ConnectWise: the plan's tags are on no record yet, and
    these additions (by id) are as read, with the fields that read asked for."""

    additions: Mapping[str, AdditionRecord] = field(default_factory=dict)
    fields: frozenset[str] = frozenset()

    def addition(self, addition_id: Any, fields: Iterable[str]) -> AdditionRecord | None:
        """The addition as the plan read it, when that read had every one of `fields`."""
        seen = self.additions.get(str(addition_id))
        return seen if seen is not None and set(fields) <= self.fields else None


def plan_read(additions: Iterable[AdditionRecord], operations: Iterable[Mapping[str, Any]], at: datetime,
              fields: Iterable[str]) -> dict:
    """The part of the plan's read the applier would otherwise ask again: the additions its
    operations cancel or update (as ConnectWise's fields), the fields read, and when."""
    changed = {str((op.get("match") or {}).get("id")) for op in operations if op.get("action") in CHANGES_ADDITION}
    return {"at": at.isoformat(), "fields": sorted(set(fields)),
            "additions": {str(a.id): a.to_fields() for a in additions if str(a.id) in changed}}


def known_answers(plan: Mapping[str, Any], task: Mapping[str, Any], *, first_attempt: bool,
                  now: datetime) -> KnownAnswers | None:
    """The answers this apply may take as known, or None: look everything up (see the module docstring)."""
    from cwsync.adapters.cw_records import addition

    read = plan.get(READ_KEY)
    if not first_attempt or not isinstance(read, Mapping) or task.get("confirmed"):
        return None
    try:
        age = now - parse_datetime(str(read.get("at")))
    except (TypeError, ValueError):
        return None
    if not timedelta(0) <= age <= PLAN_READ_TRUSTED_FOR:
        return None
    seen = {str(key): addition(dict(fields)) for key, fields in (read.get("additions") or {}).items()}
    return KnownAnswers(seen, frozenset(read.get("fields") or ()))
