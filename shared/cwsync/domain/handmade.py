"""Additions typed by hand (no cwsync tag) that already bill a subscription: found, never doubled.

Most MSPs have additions typed by hand when they adopt cwsync. Before a change,
cancellation or renewal ends or replaces a subscription's additions, the planner looks for
live additions of the same product on the agreement that carry no cwsync tag:
- exactly one, with the marketplace's quantity before the order → it is the subscription's
  addition: the plan tags it (the approver is told) and then treats it as the sync's own;
- several, or one with another quantity → a person decides: the task stops with the
  candidates listed and how to mark the right one.

Reconciliation uses the same rules for what is hand-made (`is_hand_made`: no serial number
starting as cwsync's tags do) and which one fits a subscription line best (`best_first`);
it offers the best one as an adopt candidate, which a person confirms on the repair's page.
"""
from __future__ import annotations

import string
from decimal import Decimal
from typing import Any, Sequence

from cwsync.errors import SyncFailed
from cwsync.domain.money import format_money, format_quantity
from cwsync.domain.models import Order, OrderLine
from cwsync.domain.records import AdditionRecord
from cwsync.vocabulary import TaskType

# Charge line types that say how many licences a change order added or removed (partial period).
_MORE, _FEWER = ("recurring", "switch"), ("downgrade",)


def previous_quantity(order: Order, line: OrderLine, task_type: str) -> Decimal | None:
    """The marketplace's quantity before the order, or None when the order does not tell.

    A cancellation names the quantity it ends; a renewal keeps its quantity; a change order
    states the difference on its charge lines for the rest of the period ("2 more licences").
    """
    if task_type in (TaskType.CANCELLATION, TaskType.RENEWAL):
        return line.quantity
    mpn = (line.mpn or "").casefold()
    partial = [c for c in order.charges if (c.mpn or "").casefold() == mpn and c.duration is not None
               and order.billing_period is not None
               and (c.duration.type, c.duration.duration) != (order.billing_period.type, order.billing_period.duration)]
    more = sum((c.quantity for c in partial if c.type in _MORE), Decimal(0))
    fewer = sum((c.quantity for c in partial if c.type in _FEWER), Decimal(0))
    if not more and not fewer:
        return None
    return line.quantity - more + fewer


def tag_literal(tag_format: str) -> str:
    """What every cwsync tag starts with: "MP-" for the default format."""
    return next(iter(string.Formatter().parse(tag_format)), ("",))[0]


def is_hand_made(serial_number: str | None, literal: str) -> bool:
    """An addition with this serial number carries no cwsync tag (another subscription's tag is a tag too)."""
    return not (literal and (serial_number or "").startswith(literal))


def untagged(additions: Sequence[AdditionRecord], product_id: Any, literal: str) -> list[AdditionRecord]:
    """Live additions of the product that carry no cwsync tag (another subscription's tag is a tag)."""
    if product_id in (None, ""):
        return []
    found = []
    for addition in additions:
        if not addition.live or str(addition.product_id) != str(product_id):
            continue
        if is_hand_made(addition.serial_number, literal):
            found.append(addition)
    return found


def best_first(candidates: Sequence[AdditionRecord], quantity: Decimal,
               unit_price: Decimal) -> list[AdditionRecord]:
    """Hand-made additions for a line, the likeliest first: its quantity, then its price, then the oldest."""
    def key(addition: AdditionRecord) -> tuple:
        text = str(addition.id)
        return (addition.quantity != quantity, (addition.unit_price or Decimal(0)) != unit_price,
                (int(text), "") if text.isdigit() else (1 << 62, text))
    return sorted(candidates, key=key)


def describe(addition: AdditionRecord, currency: str) -> str:
    serial = addition.serial_number
    return (f"#{addition.id} ({format_quantity(addition.quantity)} × "
            f"{format_money(addition.unit_price or Decimal(0), currency)} {currency}"
            + (f", serial number {serial!r}" if serial else ", no serial number") + ")")


def choose(candidates: Sequence[AdditionRecord], expected: Decimal | None, *, line: OrderLine, subscription: str,
           agreement_id: Any, currency: str, hand_tag: str) -> AdditionRecord | None:
    """The one hand-made addition to adopt, None when there is none; SyncFailed when a person must decide."""
    if not candidates:
        return None
    if len(candidates) == 1 and expected is not None and candidates[0].quantity == expected:
        return candidates[0]
    listed = "; ".join(describe(a, currency) for a in candidates)
    if len(candidates) > 1:
        why = f"{len(candidates)} additions of {line.name} on agreement {agreement_id} carry no cwsync tag"
    elif expected is None:
        why = (f"the addition of {line.name} on agreement {agreement_id} carries no cwsync tag and the order "
               "does not say the quantity before it, so cwsync cannot tell whether it is this subscription's")
    else:
        why = (f"the addition of {line.name} on agreement {agreement_id} carries no cwsync tag and bills "
               f"{format_quantity(candidates[0].quantity)}, not the marketplace's "
               f"{format_quantity(expected)}")
    raise SyncFailed(f"A person must decide which addition bills subscription {subscription}: {why} "
                     f"(candidates: {listed}). Nothing was changed. Put the serial number {hand_tag} on the addition "
                     "that is this subscription's in ConnectWise (correct its quantity if needed), then sync the "
                     "task again.")

