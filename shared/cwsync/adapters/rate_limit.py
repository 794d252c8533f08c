"""One request budget for ConnectWise shared by every concurrent execution: a token bucket
kept in the cwsync table (`RATE#<name>` / `BUCKET`).

ConnectWise limits requests per minute per integration (about 1,000), not concurrent
callers, so limiting Lambda concurrency would not bound the rate (a fast answer lets the
same few functions send more). Every ConnectWise request first takes a token:

- the bucket refills at 94 % of the limit and holds at most 2 % of it, so no 60-second
  window sees more than 96 % of the limit, however the requests bunch up (the rest is
  margin for requests that reach ConnectWise later than they took their token: up to
  2.5 s late, none is refused); a busy integration runs at 94 % of the limit;
- taking a token is one conditional UpdateItem on a version number (optimistic: the last
  state seen is reused; when another caller changed it in between, the refused update
  returns the current item and the caller tries once more with it);
- a 429 that gets through anyway (another integration on the same keys, a smaller limit
  than configured) pauses the bucket until its `Retry-After` has passed, for everyone.

Costs one DynamoDB write per ConnectWise request (1 WRU: the item is tiny), two when
callers collide (a refused conditional write is billed as a write too). `CONNECTWISE_REQUESTS_PER_MINUTE=0` turns the limit off.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from cwsync.adapters.dynamo_values import (PK, SK, Attr, Update, conditional_write, expression_request,
                                          from_attribute_values, to_attribute_values)
from cwsync.errors import TransientError

log = logging.getLogger(__name__)

STEADY_SHARE = 0.94  # the refill rate, as a share of the limit
BURST_SHARE = 0.02  # what an idle bucket holds; the last 4 % is margin for requests arriving late
MAX_WAIT_SECONDS = 45.0  # longer waits fail the step for a later retry (a step has 60 s)


def _number(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


@dataclass
class _State:
    tokens: float
    at: float  # epoch seconds of `tokens`
    blocked_until: float
    version: int


class SharedRateLimit:
    """`acquire()` before each request; `pause(seconds)` after the API refused one."""

    def __init__(self, client: Any, table_name: str, per_minute: int, *, name: str = "connectwise",
                 window: float = 60.0, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, max_wait: float = MAX_WAIT_SECONDS):
        """`per_minute` requests per `window` seconds (a minute; tests use a shorter one)."""
        if per_minute < 1:
            raise ValueError("a shared rate limit needs at least one request per minute")
        self.client = client
        self.table_name = table_name
        self.key = to_attribute_values({PK: f"RATE#{name}", SK: "BUCKET"})
        self.rate = per_minute * STEADY_SHARE / window  # tokens per second
        self.capacity = max(1.0, per_minute * BURST_SHARE)
        self.clock, self.sleep, self.max_wait = clock, sleep, max_wait
        self._state: _State | None = None
        self.waited = 0.0  # seconds this caller spent waiting for tokens (benchmarks)
        self.collisions = 0  # updates lost to another caller

    def acquire(self) -> None:
        give_up = self.clock() + self.max_wait
        while True:
            state = self._state or self._read()
            now = self.clock()
            tokens = min(self.capacity, state.tokens + max(0.0, now - state.at) * self.rate)
            wait = state.blocked_until - now
            if wait <= 0 and tokens >= 1:
                if self._write(state, tokens - 1, now, state.blocked_until):
                    return
                continue  # another caller took one first: try again with its state
            wait = max(wait, (1 - tokens) / self.rate) + random.uniform(0, 0.02)
            if now + wait > give_up:
                raise TransientError("ConnectWise's request budget is used up for now; the step can be retried.")
            self._state = None  # others move the bucket while we wait
            self.waited += wait
            self.sleep(wait)

    def pause(self, seconds: float) -> None:
        """Nobody sends until `seconds` from now (a 429's Retry-After); the bucket starts empty then."""
        until = self.clock() + max(0.0, seconds)
        for _ in range(5):
            state = self._state or self._read()
            if state.blocked_until >= until:
                return
            if self._write(state, 0.0, until, until):
                log.info("ConnectWise asked to wait; every execution pauses for %.1f s", seconds)
                return

    # ---- the item ----------------------------------------------------------------------

    def _read(self) -> _State:
        return self._state_of(from_attribute_values(self.client.get_item(
            TableName=self.table_name, Key=self.key, ConsistentRead=True).get("Item") or {}))

    def _state_of(self, values: dict) -> _State:
        if not values:
            return _State(self.capacity, self.clock(), 0.0, 0)
        return _State(float(values.get("tokens", 0)), float(values.get("at", 0)),
                      float(values.get("blockedUntil", 0)), int(values.get("version", 0)))

    def _write(self, seen: _State, tokens: float, at: float, blocked_until: float) -> bool:
        """Store the new state if nobody changed the item since `seen`; else False, keeping the
        item's current state for the next try."""
        update = Update().set({"tokens": _number(tokens), "at": _number(at), "blockedUntil": _number(blocked_until),
                               "version": seen.version + 1})
        unchanged = Attr("version").eq(seen.version) if seen.version else Attr(PK).not_exists()
        written = conditional_write(self.client.update_item, TableName=self.table_name, Key=self.key,
                                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                                    **expression_request(update=update, condition=unchanged))
        if not written.applied:
            self.collisions += 1  # the refusal carries the item as it is now: no extra read
            self._state = self._state_of(written.item) if written.item else None
            return False
        self._state = _State(tokens, at, blocked_until, seen.version + 1)
        return True
