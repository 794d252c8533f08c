"""Errors the sync raises. A class name that the state machine routes on is its ASL `ErrorEquals` name."""
from __future__ import annotations

import json
from typing import Any


def shown(value: Any, limit: int = 60) -> str:
    """A value in a message as the API's JSON spells it, shortened: `null`, `[1, 2]`, never Python's repr."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = "an unreadable value"
    return text if len(text) <= limit else text[:limit - 3] + "..."


class CwsyncError(Exception):
    """Base class: the message tells a billing person what happened and what to fix."""


class ConfigurationError(CwsyncError):
    """A setting or secret is missing or invalid."""


class InvalidOrder(CwsyncError):
    """A marketplace order cannot be turned into a task (malformed or unsupported)."""


class TransientError(CwsyncError):
    """A temporary failure (throttling, 5xx, network): the step may be retried."""


class ExternalApiError(CwsyncError):
    """An external API refused a request for a reason retrying will not fix."""

    def __init__(self, message: str, *, status: int | None = None, details: list | None = None):
        super().__init__(message)
        self.status = status
        self.details = details or []


class NotFound(ExternalApiError):
    """The external API has no such object (HTTP 404)."""


class ApprovalRejected(CwsyncError):
    """The approver rejected the task."""


class SyncFailed(CwsyncError):
    """The task cannot be synced; the message says why."""


class TaskNotWaiting(CwsyncError):
    """The execution no longer waits for an approval's task token (timed out, stopped, resumed)."""

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.code = code


class ItemRejected(CwsyncError):
    """The table refused an item itself (too big, a value it cannot hold), not the request."""


class TaskNotFound(CwsyncError):
    """The task does not exist in the cwsync table."""


class InvalidRecord(SyncFailed):
    """A record an external system sent is not in a shape cwsync can read.

    The message names the system, the record and the field, and says what to fix there.
    """

    def __init__(self, system: str, record: str, record_id: object, field: str, problem: str, fix: str):
        self.system, self.record, self.record_id, self.field = system, record, record_id, field
        self.problem, self.fix = problem, fix
        super().__init__(self.told(fix))

    def told(self, fix: str) -> str:
        """The message with another fix (what to do after correcting the record depends on who reads it)."""
        return f"{self.system} {self.record} {self.record_id}: {self.field} {self.problem}; {fix}"
