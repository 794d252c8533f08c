"""The retry budget of one write to ConnectWise, stated once (docs/ARCHITECTURE.md, "Retry budget").

Three layers could send a write again; each has one job:

| layer | resends | at most |
|---|---|---|
| HTTP adapter (`RetryPolicy`) | GET, DELETE and PATCH made only of `replace`s after a connection error or 5xx; never a POST | `HTTP_RETRIES` per request |
| HTTP adapter (rate limit) | any request ConnectWise refused with 429 (not processed), after its Retry-After | until accepted |
| applier (`Applier.write_attempts`) | a write that failed with `TransientError`, only when its ownership tag is not found first | `WRITE_ATTEMPTS` per ApplyChanges run |
| state machine (`RetryMaxAttempts`) | the whole ApplyChanges step after a `TransientError` | `STATE_MACHINE_RETRIES` |

So a POST that may have reached ConnectWise is sent at most `post_budget()` times (7 by
default), each time after its ownership tag was looked up and not found (but the first send of
a task's first apply attempt: `cwsync.services.apply_known`); a PATCH (idempotent:
the same absolute values) at most `patch_budget()` times. Nothing is ever written twice: an
operation recorded as applied is skipped, and one whose tag is found is recorded, not resent.
"""
from __future__ import annotations

HTTP_RETRIES = 4            # RetryPolicy.attempts: resends of one idempotent request
WRITE_ATTEMPTS = 1          # Applier.write_attempts: tries of one write per ApplyChanges run
STATE_MACHINE_RETRIES = 6   # the template's RetryMaxAttempts default: reruns of a failed step


def post_budget(state_machine_retries: int = STATE_MACHINE_RETRIES) -> int:
    """How often one POST may be sent in the worst case (it is never resent by the HTTP layer)."""
    return WRITE_ATTEMPTS * (1 + state_machine_retries)


def patch_budget(state_machine_retries: int = STATE_MACHINE_RETRIES) -> int:
    """How often one idempotent PATCH may be sent in the worst case."""
    return (1 + HTTP_RETRIES) * post_budget(state_machine_retries)
