"""The plan of a usage billing order: the billed period's charges as one-time agreement adjustments."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from cwsync.domain.models import last_day
from cwsync.domain.money import format_money, format_quantity, round_money
from cwsync.domain.operations import Plan
from cwsync.errors import SyncFailed
from cwsync.vocabulary import ChargeType, TaskType

if TYPE_CHECKING:
    from cwsync.domain.planning import _Planner


def plan_billing_order(p: _Planner) -> Plan:
    """Usage billing: the billed period's recurring and overuse charges as agreement adjustments.

    Adjustments, not additions: usage is a one-time amount for a period that has passed,
    and a billing person wants it on the next invoice once — an addition would recur.
    Adjustments carry no cost, so the cost is stated in each operation's explanation.
    """
    p.task_type = TaskType.BILLING
    start, end = _billed_period(p)
    period = f"{start} to {last_day(end)}"
    labels = {ChargeType.RECURRING: "Recurring charge", ChargeType.OVERUSE: "Overuse"}
    parts = []
    for charge_type, label in labels.items():
        for index, charge in enumerate(p.order.charges_of(charge_type), start=1):
            price, cost = charge.amount(p.settings.price_field), charge.amount(p.settings.cost_field)
            if price is None:
                raise SyncFailed(f"The {charge_type} charge for {charge.mpn} has no {p.settings.price_field}")
            amount = charge.quantity * price
            line = p._line_for(charge.mpn)
            tag = p.tag(p.subscription_of(line))
            subject = charge.description or (line.name if line else charge.mpn) or charge_type
            unit = f"{format_quantity(charge.quantity)} × {_unit_price(price, p.order.currency)} {p.order.currency}"
            cost_note = (f"; cost {format_money(charge.quantity * cost, p.order.currency)} {p.order.currency}"
                         if cost is not None else "")
            p.create_adjustment(f"{tag}:{charge_type}:{index}", amount,
                                f"{label}: {subject}, {unit}, period {period}",
                                f"{label} for {period}: {unit}{cost_note}")
            parts.append(f"{label.lower()} {format_money(amount, p.order.currency)} {p.order.currency}")
    skipped = sorted({c.type for c in p.order.charges if c.type not in labels})
    note = f" (charge lines not synced: {', '.join(skipped)})" if skipped else ""
    if not parts:
        return p.plan(f"Nothing to change: the billing order has no recurring or overuse charges{note}",
                      nothing_to_change=True)
    return p.plan(f"Usage for {period}: {'; '.join(parts)}{note}")


def _unit_price(price: Decimal, currency: str) -> str:
    """A unit price as the invoice shows it: currency decimals, more only when it has them (0.0125)."""
    return format_money(price, currency) if round_money(price, currency) == price else f"{price.normalize():f}"


def _billed_period(p: _Planner) -> tuple[date, date]:
    if p.order.period_start and p.order.period_end:
        return p.order.period_start, p.order.period_end
    if p.order.billing_period is None:
        raise SyncFailed(f"Billing order {p.order.number} has no billing period")
    # Charged after the period: the billed period is the one before the order's.
    current_start, _ = p.order.billing_period.period_containing(p.day)
    return p.order.billing_period.period_containing(current_start - timedelta(days=1))
