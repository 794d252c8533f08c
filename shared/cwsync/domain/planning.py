"""What a billing person would change in ConnectWise for one marketplace order.

`plan_task` turns an order and what ConnectWise already holds into a `Plan` of explicit
operations; nothing here writes anything. Assumptions about the marketplace data:
- a charge line's unit amounts are per unit per billing period, unless its `duration` is a
  part of one (a change order's days to the period end): those amounts are prorated, so the
  unit price then comes from the current addition or the catalog item;
- a change or renewal order's product quantity is the new total quantity.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Mapping, Sequence

from cwsync.errors import SyncFailed
from cwsync.domain import handmade
from cwsync.domain.matching import unit_amounts
from cwsync.domain.models import Order, OrderLine, last_day
from cwsync.domain.money import days_left, format_money, format_quantity, prorate, round_money, to_decimal
from cwsync.domain.operations import (ADJUSTMENT_DESCRIPTION_MAX, CANCEL_ADDITION, CREATE_ADDITION,
                                      CREATE_ADJUSTMENT, CREATE_CATALOG_ITEM, UPDATE_ADDITION, Operation, Plan,
                                      has_subscription_tag, ownership_tag, subscription_tag_prefix)
from cwsync.domain.records import AdditionRecord
from cwsync.domain.plan_context import PlanContext, PlanSettings  # noqa: F401 (PlanSettings: re-exported)
from cwsync.domain.planning_billing import plan_billing_order
from cwsync.vocabulary import ChargeType, PriceOrigin, PriceSource, Proration, TaskType


def plan_task(task_type: TaskType | str, order: Order, context: PlanContext) -> Plan:
    planner = _PLANNERS.get(TaskType(task_type))
    return planner(_Planner(order, context))


@dataclass
class _Price:
    price: Decimal
    cost: Decimal
    source: str
    # Every source that had amounts, by PRICE_SOURCE_KEYS, for the approver's price source switch.
    options: dict = field(default_factory=dict)
    chosen: str = ""


# The price sources in the order price_of tries them (marketplace setting), as the approver reads them.
PRICE_SOURCE_KEYS = (PriceOrigin.MARKETPLACE, PriceOrigin.AGREEMENT, PriceOrigin.CATALOG)
# What the approver is shown of an addition as it is today, beside the planned change.
BEFORE_FIELDS = ("description", "quantity", "unitPrice", "unitCost", "effectiveDate", "cancelledDate",
                 "billCustomer", "taxableFlag", "serialNumber")


class _Planner:
    """Shared facts and helpers for one order's plan."""

    task_type: TaskType  # set by the task type's planner

    def __init__(self, order: Order, context: PlanContext):
        self.order, self.ctx, self.settings = order, context, context.settings
        self.agreement_id = context.agreement.get("id")
        self.effective = order.effective_date
        self.day = self.effective.date()
        self.ops: list[Operation] = []
        self.notes: list[str] = []  # what the approver must be told beyond the operations

    # --- tags and existing additions ---------------------------------------------------
    def subscription_of(self, line: OrderLine | None = None) -> str:
        subscription = (line.subscription_id if line else None) or self.order.subscription_id
        if not subscription:
            raise SyncFailed(f"Order {self.order.number} names no subscription id; the sync cannot tag its additions")
        return subscription

    def tag(self, subscription: str, suffix: str = "") -> str:
        return ownership_tag(self.settings.tag_format, subscription_id=subscription,
                             order_number=self.order.number, order_id=self.order.id, suffix=suffix)

    def active_additions(self, subscription: str) -> list[AdditionRecord]:
        prefix = subscription_tag_prefix(self.settings.tag_format, subscription)
        return [a for a in self.ctx.additions if a.live and has_subscription_tag(a.serial_number, prefix)]

    def current_additions(self, subscription: str, lines: Sequence[OrderLine]) -> list[AdditionRecord]:
        """The subscription's live additions: the tagged ones, else the hand-made ones adopted (see handmade)."""
        tagged = self.active_additions(subscription)
        if tagged:
            return tagged
        literal = handmade.tag_literal(self.settings.tag_format)
        hand_tag = subscription_tag_prefix(self.settings.tag_format, subscription).rstrip("-_:/ ")
        adopted: list[AdditionRecord] = []
        for line in lines:
            item = self.ctx.catalog_item_for(line.mpn)
            product_id = item.id if item is not None else None
            taken = {a.id for a in adopted}
            candidates = [a for a in handmade.untagged(self.ctx.additions, product_id, literal) if a.id not in taken]
            chosen = handmade.choose(candidates, handmade.previous_quantity(self.order, line, self.task_type),
                                     line=line, subscription=subscription, agreement_id=self.agreement_id,
                                     currency=self.order.currency, hand_tag=hand_tag)
            if chosen is not None:
                adopted.append(self.adopt(chosen, subscription))
        return adopted

    def adopt(self, addition: AdditionRecord, subscription: str) -> AdditionRecord:
        tag = self.tag(subscription, "-adopted")
        shown = handmade.describe(addition, self.order.currency)
        self.ops.append(Operation(f"adopt-addition:{addition.id}", UPDATE_ADDITION, self.agreement_id,
                                  {"id": addition.id}, {"serialNumber": tag},
                                  f"The addition {shown} was typed by hand and bills subscription {subscription}: "
                                  f"cwsync tags it {tag} and treats it as its own"))
        self.notes.append(f"Hand-made addition {shown} is this subscription's: it gets the tag {tag}.")
        return replace(addition, serial_number=tag)

    # --- prices ------------------------------------------------------------------------
    def price_of(self, mpn: str, existing: Sequence[AdditionRecord] = (), charge_types=(ChargeType.RECURRING, ChargeType.RENEW)) -> _Price:
        # A line billed for part of a period (a change order's days to the period end) holds
        # prorated amounts, not the unit price: those come from the addition or catalog item.
        per_period = [c for c in self.order.charges if not _partial_period(c, self.order.billing_period)]
        from_order = unit_amounts(per_period, mpn, cost_field=self.settings.cost_field,
                                  price_field=self.settings.price_field, types=charge_types)
        from_addition = next(((a.unit_price or Decimal(0), a.unit_cost or Decimal(0)) for a in existing), None)
        item, proposal = self.ctx.catalog_item_for(mpn), self.ctx.proposal_for(mpn)
        from_catalog = ((item.price or Decimal(0), item.cost or Decimal(0)) if item is not None
                        else (_dec(proposal, "price"), _dec(proposal, "cost")) if proposal else None)
        sources = [(from_order, "the marketplace order's charge line"),
                   (from_addition, "the current ConnectWise addition"),
                   (from_catalog, "the ConnectWise catalog item")]
        options = {str(key): {"unitPrice": amounts[0], "unitCost": amounts[1]}
                   for key, (amounts, _) in zip(PRICE_SOURCE_KEYS, sources) if amounts is not None}
        keys = list(PRICE_SOURCE_KEYS)
        if self.settings.price_source == PriceSource.CONNECTWISE:
            sources = sources[1:] + sources[:1]
            keys = keys[1:] + keys[:1]
        for (amounts, source), key in zip(sources, keys):
            if amounts is not None:
                return _Price(amounts[0], amounts[1], source, options, str(key))
        raise SyncFailed(f"No price for {mpn}: the order has no charge line for it and ConnectWise has no "
                         "addition or catalog item to take it from")

    # --- operations --------------------------------------------------------------------
    def product_ref(self, mpn: str) -> dict:
        item = self.ctx.catalog_item_for(mpn)
        if item is not None:
            return {"id": item.id}
        proposal = self.ctx.proposal_for(mpn)
        if proposal is not None:
            self.add_catalog_item(proposal)
            return {"identifier": proposal["identifier"]}
        raise SyncFailed(f"Product {mpn} is not linked to a ConnectWise catalog item")

    def add_catalog_item(self, body: Mapping) -> None:
        key = f"create-catalog-item:{body['identifier']}"
        if any(op.key == key for op in self.ops):
            return
        # Catalog items come first: the additions after them refer to the new item.
        self.ops.insert(0, Operation(key, CREATE_CATALOG_ITEM, None, {"identifier": body["identifier"]},
                                     dict(body), f"Add product {body['identifier']} to the ConnectWise catalog"))

    def create_addition(self, line: OrderLine, tag: str, price: _Price, *, explanation: str,
                        extra: Mapping | None = None) -> Operation:
        mpn = line.new_mpn or line.mpn
        item = self.ctx.catalog_item_for(mpn)
        taxable = next((flag for flag in (self.settings.taxable, item and item.taxable) if flag is not None), True)
        fields = {
            "product": self.product_ref(mpn), "quantity": line.quantity,
            "unitPrice": price.price, "unitCost": price.cost,
            "billCustomer": self.settings.bill_customer, "taxableFlag": bool(taxable),
            "effectiveDate": self.effective, "serialNumber": tag,
            "description": line.name,
            "invoiceDescription": f"{line.name} (subscription {self.subscription_of(line)})"[:6000],
            **(extra or {}),
        }
        op = Operation(f"create-addition:{tag}", CREATE_ADDITION, self.agreement_id, {"serialNumber": tag},
                       fields, f"{explanation}; price and cost from {price.source}",
                       money_effect=line.quantity * price.price,
                       prices={"chosen": price.chosen, "options": price.options} if price.options else {}, mpn=mpn)
        self.ops.append(op)
        return op

    def cancel_addition(self, addition: AdditionRecord, why: str) -> None:
        serial = addition.serial_number
        self.ops.append(Operation(
            f"cancel-addition:{addition.id}", CANCEL_ADDITION, self.agreement_id,
            {"id": addition.id, "serialNumber": serial}, {"cancelledDate": self.effective},
            f"{why}: addition {serial} ({format_quantity(addition.quantity)} × "
            f"{format_money(addition.unit_price or Decimal(0), self.order.currency)}) ends on {self.day}",
            money_effect=-_recurring(addition),
            before={k: v for k, v in addition.to_fields().items() if k in BEFORE_FIELDS}))

    def create_adjustment(self, tag: str, amount: Decimal, text: str, explanation: str) -> None:
        """A one-time charge; `tag` (not editable) leads the ConnectWise description, `text` is the editable rest."""
        text = text[:ADJUSTMENT_DESCRIPTION_MAX - len(tag) - 1]
        self.ops.append(Operation(f"create-adjustment:{tag}", CREATE_ADJUSTMENT, self.agreement_id,
                                  {"tag": tag},
                                  {"amount": amount, "description": text, "effectiveDate": self.effective},
                                  explanation, money_effect=amount))

    def fee_adjustments(self, charge_type: str, label: str) -> list[str]:
        """One-time charges (setup or cancellation fees) as agreement adjustments."""
        notes = []
        for index, charge in enumerate(self.order.charges_of(charge_type), start=1):
            unit = charge.amount(self.settings.price_field)
            if unit is None:
                raise SyncFailed(f"The {charge_type} charge for {charge.mpn} has no {self.settings.price_field}")
            amount = charge.quantity * unit
            subject = charge.description or charge.mpn or charge_type
            tag = self.tag(self.subscription_of(self._line_for(charge.mpn)))
            self.create_adjustment(f"{tag}:{charge_type}:{index}", amount,
                                   f"{label}: {subject} × {format_quantity(charge.quantity)}",
                                   f"One-time {label.lower()} from the order's {charge_type} charge line")
            notes.append(f"{label.lower()} {format_money(amount, self.order.currency)} {self.order.currency}")
        return notes

    def _line_for(self, mpn: str | None) -> OrderLine | None:
        return next((l for l in self.order.lines if mpn and l.mpn.casefold() == mpn.casefold()), None)

    def plan(self, summary: str, *, decrease: bool = False, nothing_to_change: bool = False) -> Plan:
        summary = " ".join([summary, *self.notes])
        return Plan(self.order.id, self.task_type, self.order.currency, self.agreement_id, summary,
                    self.ops, nothing_to_change=nothing_to_change, decrease=decrease,
                    planned_at=self.ctx.now)


def _dec(record: Mapping, key: str) -> Decimal:
    value = record.get(key)
    return Decimal(0) if value is None else to_decimal(value)


def _partial_period(charge, period) -> bool:
    """A charge whose stated duration is not the subscription's billing period (e.g. 14 days)."""
    duration = charge.duration
    return (duration is not None and period is not None
            and (duration.type, duration.duration) != (period.type, period.duration))


def _recurring(addition: AdditionRecord) -> Decimal:
    return addition.quantity * (addition.unit_price or Decimal(0))


def _line_tags(p: _Planner, lines: Sequence[OrderLine]) -> list[str]:
    """One tag per line; lines sharing a subscription get "-1", "-2"… so tags stay unique."""
    subs = [p.subscription_of(line) for line in lines]
    return [p.tag(sub, f"-{subs[:i + 1].count(sub)}" if subs.count(sub) > 1 else "") for i, sub in enumerate(subs)]


# --- the task types ----------------------------------------------------------------------

def plan_sales_order(p: _Planner) -> Plan:
    """A new subscription: one recurring addition per product line, setup fees one-time."""
    p.task_type = TaskType.SALES
    parts = []
    for line, tag in zip(p.order.recurring_lines, _line_tags(p, p.order.recurring_lines)):
        price = p.price_of(line.mpn)
        p.create_addition(line, tag, price, explanation=f"New subscription {p.subscription_of(line)}")
        parts.append(f"{format_quantity(line.quantity)} × {line.name} at "
                     f"{format_money(price.price, p.order.currency)} {p.order.currency}")
    fees = p.fee_adjustments(ChargeType.SETUP, "Setup fee")
    return p.plan(f"New subscription from {p.day}: " + "; ".join(parts + fees))


def plan_change_order(p: _Planner) -> Plan:
    """Upgrade or downgrade: the current additions end, a new one starts with the new quantity/price.

    With proration `marketplace` the plan also charges (or credits) the difference for the
    rest of the current billing period; with `connectwise` the agreement prorates itself,
    so the new addition asks it to (prorateCurrentPeriodFlag).
    """
    p.task_type = TaskType.CHANGE
    subscription = p.subscription_of(p.order.recurring_lines[0] if p.order.recurring_lines else None)
    active = p.current_additions(subscription, p.order.recurring_lines)
    old_quantity = sum((a.quantity for a in active), Decimal(0))
    old_recurring = sum((_recurring(a) for a in active), Decimal(0))
    for addition in active:
        p.cancel_addition(addition, f"Change order {p.order.number} replaces it")

    marketplace_prorates = p.settings.proration == Proration.MARKETPLACE
    new_quantity, new_recurring, names = Decimal(0), Decimal(0), []
    for line, tag in zip(p.order.recurring_lines, _line_tags(p, p.order.recurring_lines)):
        price = p.price_of(line.new_mpn or line.mpn, active, charge_types=(ChargeType.RECURRING, ChargeType.RENEW, ChargeType.SWITCH))
        p.create_addition(line, tag, price, explanation=f"Change order {p.order.number}: new quantity "
                          f"{format_quantity(line.quantity)}",
                          extra={"prorateCurrentPeriodFlag": not marketplace_prorates})
        new_quantity += line.quantity
        new_recurring += line.quantity * price.price
        names.append(line.name)

    difference = new_recurring - old_recurring
    direction = "downgrade" if difference < 0 else "upgrade"
    if marketplace_prorates and difference:
        start, end = _current_period(p)
        remaining, total_days = days_left(p.effective, start, end)
        amount = prorate(difference, p.effective, start, end)
        tag = p.tag(subscription)
        p.create_adjustment(
            f"{tag}:prorate", amount,
            f"Prorated {direction} {', '.join(names)}: {format_quantity(old_quantity)} → "
            f"{format_quantity(new_quantity)}, {remaining} of {total_days} days ({p.day} to {last_day(end)})",
            f"{direction.capitalize()} of {format_money(difference, p.order.currency)} per period × "
            f"{remaining}/{total_days} days left in the billing period {start} – {last_day(end)}")
    note = "" if active else f" (no active addition tagged for subscription {subscription} was found to end)"
    summary = (f"{', '.join(names)}: {format_quantity(old_quantity)} → {format_quantity(new_quantity)} "
               f"from {p.day}{note}")
    return p.plan(summary, decrease=difference < 0)


def _current_period(p: _Planner) -> tuple[date, date]:
    if p.order.period_start and p.order.period_end:
        return p.order.period_start, p.order.period_end
    if p.order.billing_period is None:
        raise SyncFailed(f"Order {p.order.number} has no billing period to prorate against")
    return p.order.billing_period.period_containing(p.day)


def plan_cancellation(p: _Planner) -> Plan:
    """The subscription's active additions end on the cancellation date; fees are one-time charges."""
    p.task_type = TaskType.CANCELLATION
    subscription = p.subscription_of(p.order.lines[0] if p.order.lines else None)
    active = p.current_additions(subscription, p.order.lines)
    for addition in active:
        p.cancel_addition(addition, f"Subscription {subscription} is cancelled")
    fees = p.fee_adjustments(ChargeType.CANCELLATION, "Cancellation fee")
    if not p.ops:
        return p.plan(f"Nothing to change: subscription {subscription} has no active addition on "
                      f"agreement {p.agreement_id} and no cancellation fee", nothing_to_change=True)
    parts = [f"{len(active)} addition(s) end on {p.day}"] if active else []
    return p.plan(f"Cancel subscription {subscription}: " + "; ".join(parts + fees), decrease=bool(active))


def plan_renewal(p: _Planner) -> Plan:
    """A renewal changes ConnectWise only when quantity, price or cost drifted from the additions."""
    p.task_type = TaskType.RENEWAL
    lines = p.order.recurring_lines
    subscription = p.subscription_of(lines[0])
    active = p.current_additions(subscription, lines)
    prices = [p.price_of(line.new_mpn or line.mpn, active, charge_types=(ChargeType.RENEW, ChargeType.RECURRING)) for line in lines]
    currency = p.order.currency

    def terms(quantity, price, cost):
        return format_quantity(quantity), round_money(price, currency), round_money(cost, currency)

    current = sorted(terms(a.quantity, a.unit_price or Decimal(0), a.unit_cost or Decimal(0)) for a in active)
    renewed = sorted(terms(line.quantity, pr.price, pr.cost) for line, pr in zip(lines, prices))
    described = ", ".join(f"{q} × {pr} (cost {c}) {currency}" for q, pr, c in renewed)
    if current == renewed:
        keeps = f"renewal keeps {described} for subscription {subscription}"
        if p.ops:  # only the tag of an adopted hand-made addition changes
            return p.plan(f"Renewal {p.order.number}: {keeps}")
        return p.plan(f"Nothing to change: {keeps}", nothing_to_change=True)

    for addition in active:
        p.cancel_addition(addition, f"Renewal {p.order.number} changes its terms")
    for line, tag, price in zip(lines, _line_tags(p, lines), prices):
        p.create_addition(line, tag, price, explanation=f"Renewal {p.order.number} with new terms")
    before = ", ".join(f"{q} × {pr} (cost {c}) {currency}" for q, pr, c in current) or "no active addition"
    old_recurring = sum((_recurring(a) for a in active), Decimal(0))
    new_recurring = sum((line.quantity * pr.price for line, pr in zip(lines, prices)), Decimal(0))
    return p.plan(f"Renewal of subscription {subscription} from {p.day}: {before} → {described}",
                  decrease=new_recurring < old_recurring)


_PLANNERS = {
    TaskType.SALES: plan_sales_order,
    TaskType.CHANGE: plan_change_order,
    TaskType.BILLING: plan_billing_order,
    TaskType.CANCELLATION: plan_cancellation,
    TaskType.RENEWAL: plan_renewal,
}
