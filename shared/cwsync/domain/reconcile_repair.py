"""The repair of reconciled subscriptions: one `Plan` the normal applier writes, for every
subscription of a customer that bills on one agreement (one confirmation per agreement).

A repair never changes an invoiced period. Every write takes effect on the first day the
agreement has not invoiced yet (`next_billed_day`: its `nextInvoiceDate`, else today):
new additions start then, additions that must stop get that day as cancel date, and an
addition whose quantity or price is wrong is patched in place only when it has never been
invoiced (it starts on or after that day); otherwise it ends that day and a replacement
with the marketplace's values starts the same day. Nothing is back-billed or credited
for invoiced periods: the plan says so, and a person may add an adjustment by hand.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any, Collection, Mapping, Sequence

from cwsync.domain import reconcile as r
from cwsync.domain.money import format_money, format_quantity
from cwsync.domain.planning import BEFORE_FIELDS
from cwsync.domain.records import AdditionRecord, AgreementRecord, CatalogItemRecord, utc_text
from cwsync.domain.operations import (CANCEL_ADDITION, CREATE_ADDITION, UPDATE_ADDITION, Operation, Plan,
                                      ownership_tag)
from cwsync.errors import SyncFailed
from cwsync.vocabulary import TaskType

TASK_TYPE = TaskType.RECONCILE
REPAIR_ORDER_PREFIX = "RC"
# Edits a repair writes back to what cwsync wrote; edited dates are kept as ConnectWise has them.
RESTORED_FIELDS = ("description", "invoiceDescription", "billCustomer", "taxableFlag")


@dataclass(frozen=True)
class RepairSettings:
    tag_format: str = "MP-{subscription_id}-{order_number}"
    bill_customer: str = "Billable"
    taxable: bool | None = None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.utc)


class _Repair:
    def __init__(self, task_id: str, findings: Sequence[r.LineFinding], *, target: Any,
                 agreements: Mapping[str, AgreementRecord], products: Mapping[str, Any], settings: RepairSettings,
                 today: date, catalog: Mapping[str, CatalogItemRecord] | None = None):
        self.task_id, self.findings, self.target = task_id, list(findings), None if target is None else str(target)
        self.agreements, self.products, self.settings, self.today = agreements, products, settings, today
        self.catalog = catalog or {}
        self.ops: list[Operation] = []
        self.notes: list[str] = []
        self.accepted: list[dict] = []
        self.subs = list({f.subscription.id: f.subscription for f in self.findings}.values())
        self.sub = self.subs[0] if self.subs else None  # the subscription being repaired now
        self.currency = next((s.currency for s in self.subs if s.currency), "")
        self.tags_used: dict[str, int] = {}

    def day(self, agreement_id: Any) -> date:
        return r.next_billed_day(self.agreements.get(str(agreement_id)), self.today)

    def money(self, amount: Decimal) -> str:
        return f"{format_money(amount, self.currency)} {self.currency}".strip()

    def tag(self, day: date) -> str:
        used = self.tags_used[self.sub.id] = self.tags_used.get(self.sub.id, 0) + 1
        suffix = f"-{used}" if len(self.sub.lines) > 1 or used > 1 else ""
        number = f"{REPAIR_ORDER_PREFIX}{day:%Y%m%d}"
        return ownership_tag(self.settings.tag_format, subscription_id=self.sub.id, order_number=number,
                             order_id=number, suffix=suffix)

    # --- operations -----------------------------------------------------------------------
    def cancel(self, agreement_id: Any, addition: AdditionRecord, why: str) -> None:
        day = self.day(agreement_id)
        billed = r.billed(addition)
        self.ops.append(Operation(
            f"cancel-addition:{addition.id}", CANCEL_ADDITION, _cw_id(agreement_id),
            {"id": addition.id, "serialNumber": addition.serial_number or None},
            {"cancelledDate": _midnight(day)},
            f"{why}: addition {addition.serial_number or '#' + str(addition.id)} "
            f"({format_quantity(addition.quantity)} × {self.money(addition.unit_price or Decimal(0))}) "
            f"ends on {day.isoformat()}; periods invoiced before then are not changed",
            money_effect=-billed, before=_before(addition)))

    def create(self, line: r.SubscriptionLine, why: str) -> None:
        if self.target is None:
            raise SyncFailed(f"Subscription {self.sub.id} has no ConnectWise agreement to bill it on; choose one")
        product = self.products.get(line.mpn.casefold())
        if product is None:
            raise SyncFailed(f"Product {line.mpn} is not linked to a ConnectWise catalog item")
        day = self.day(self.target)
        tag = self.tag(day)
        item = self.catalog.get(line.mpn.casefold())
        taxable = next((flag for flag in (self.settings.taxable, item and item.taxable) if flag is not None), True)
        fields = {"product": {"id": _cw_id(product)}, "quantity": line.quantity, "unitPrice": line.unit_price,
                  "billCustomer": self.settings.bill_customer, "taxableFlag": bool(taxable),
                  "effectiveDate": _midnight(day), "serialNumber": tag, "description": line.name,
                  "invoiceDescription": f"{line.name} (subscription {self.sub.id})"[:6000]}
        if line.unit_cost is not None:
            fields["unitCost"] = line.unit_cost
        start = (f"from {day.isoformat()} (the first day not invoiced yet)" if day > self.today
                 else f"from {day.isoformat()}")
        self.ops.append(Operation(
            f"create-addition:{tag}", CREATE_ADDITION, _cw_id(self.target),
            {"serialNumber": tag, "product": {"id": _cw_id(product)}}, fields,
            f"{why}: {line.name} × {format_quantity(line.quantity)} at {self.money(line.unit_price)} {start}",
            money_effect=line.quantity * line.unit_price))

    def update(self, key: str, agreement_id: Any, addition: AdditionRecord, fields: dict, why: str, *,
               serial: str | None, effect: Decimal = Decimal(0)) -> None:
        self.ops.append(Operation(
            f"{key}:{addition.id}", UPDATE_ADDITION, _cw_id(agreement_id),
            {"id": addition.id, **({"serialNumber": serial} if serial else {})}, fields, why,
            money_effect=effect, before=_before(addition)))

    # --- per finding -----------------------------------------------------------------------
    def repair(self, f: r.LineFinding) -> None:
        self.sub = f.subscription
        first = len(self.ops)
        self._repair(f)
        if len(self.subs) > 1:  # one confirmation for several subscriptions: each row names its own
            for op in self.ops[first:]:
                op.explanation = f"{self.sub.name} ({self.sub.id}): {op.explanation}"

    def _repair(self, f: r.LineFinding) -> None:
        kinds = {d.kind for d in f.differences}
        for agreement_id, addition in f.ended:
            self.cancel(agreement_id, addition, "The subscription no longer bills this")
        line = f.line
        if line is None or not kinds:
            return
        if f.primary is None:
            if line.quantity > 0:
                self.create(line, "Not billed" if r.NOT_BILLED in kinds else
                            "Its addition is on an agreement that no longer invoices")
            return
        primary, agreement_id = f.primary, f.primary_agreement
        serial = primary.serial_number or None
        if f.adopt:
            tag = self.tag(self.day(agreement_id))
            self.update("adopt-addition", agreement_id, primary, {"serialNumber": tag},
                        f"Adopt the hand-made addition #{primary.id} "
                        f"({format_quantity(primary.quantity)} × "
                        f"{self.money(primary.unit_price or Decimal(0))} = {self.money(r.billed(primary))} a period): "
                        f"tag it {tag} "
                        "instead of creating a second addition", serial=None)
            serial = tag
        if f.elsewhere is not None:
            if r.invoices(f.elsewhere):
                self.cancel(agreement_id, primary, f"Move to agreement #{self.target}")
            self.create(line, f"Bill on agreement #{self.target} instead of #{agreement_id}")
        else:
            self.fix_values(f, primary, agreement_id, serial, kinds)
        for extra_agreement, extra in f.extras:
            self.cancel(extra_agreement, extra, "Billed twice")

    def fix_values(self, f: r.LineFinding, primary: AdditionRecord, agreement_id: Any, serial: str | None,
                   kinds: set[str]) -> None:
        line = f.line
        wrong = {}
        if r.QUANTITY_DIFFERS in kinds:
            wrong["quantity"] = line.quantity
        if r.UNIT_PRICE_DIFFERS in kinds:
            wrong["unitPrice"] = line.unit_price
        if r.UNIT_COST_DIFFERS in kinds and line.unit_cost is not None:
            wrong["unitCost"] = line.unit_cost
        day = self.day(agreement_id)
        started = r._day(primary.effective_date)
        effect = line.quantity * line.unit_price - r.billed(primary)
        if wrong and started is not None and started < day:
            self.cancel(agreement_id, primary, "Replaced with the marketplace's quantity and price")
            self.create(line, "Replacement with the marketplace's quantity and price")
            return
        if wrong:
            changes = ", ".join(f"{k} {_show(primary.value(k))} → {_show(v)}" for k, v in wrong.items())
            self.update("patch-addition", agreement_id, primary, dict(wrong),
                        f"Set {changes} (the addition has not been invoiced yet; "
                        f"{self.money(effect) if effect < 0 else '+' + self.money(effect)} a period)",
                        serial=serial, effect=effect)
        restore = {name: wrote for name, (wrote, _now) in f.edits.items() if name in RESTORED_FIELDS}
        kept = {name: now for name, (_wrote, now) in f.edits.items() if name not in RESTORED_FIELDS}
        if restore:
            changes = ", ".join(f"{k} {_show(f.edits[k][1])} → {_show(v)}" for k, v in restore.items())
            self.update("restore-addition", agreement_id, primary, restore,
                        f"Write back what cwsync wrote: {changes}", serial=serial)
        if kept:
            self.accepted.append({"additionId": str(primary.id), "agreementId": str(agreement_id),
                                  "fields": {k: _show(v) for k, v in kept.items()}})
            self.notes.append("Kept as edited in ConnectWise (dates are never moved by a repair): "
                              + ", ".join(f"{k} {_show(v)}" for k, v in kept.items()))

    def plan(self) -> Plan:
        for finding in self.findings:
            self.repair(finding)
        count = sum(len(f.differences) for f in self.findings)
        if len(self.subs) > 1:
            shown = ", ".join(s.id for s in self.subs[:5]) + (", …" if len(self.subs) > 5 else "")
            name = f"{len(self.subs)} subscriptions ({shown})"
        else:
            name = f"{self.sub.name} ({self.sub.id})" if self.sub else "subscription"
        summary = (f"Reconcile {name}: {count} difference(s), {len(self.ops)} change(s) in "
                   "ConnectWise; periods already invoiced are not changed" if self.sub else "Nothing to reconcile")
        if self.notes:
            summary += ". " + ". ".join(self.notes)
        nothing = not self.ops and not self.accepted
        plan = Plan(self.task_id, TASK_TYPE, self.currency, _cw_id(self.target) if self.target else None,
                    summary if not nothing else f"Nothing to change: {name} is in step with ConnectWise",
                    self.ops, nothing_to_change=nothing,
                    decrease=sum((op.money_effect for op in self.ops), Decimal(0)) < 0)
        return plan


def repair_plan(task_id: str, findings: Sequence[r.LineFinding], *, target: Any,
                agreements: Mapping[str, AgreementRecord],
                products: Mapping[str, Any], settings: RepairSettings, today: date,
                catalog: Mapping[str, CatalogItemRecord] | None = None) -> dict:
    """The repair plan (its `to_dict()` form) for the findings of one or more subscriptions that bill on
    `target` (ended ones on whichever agreement still bills them); `acceptEdits` lists
    ConnectWise edits kept as they are (cwsync's record of what it wrote is updated to them)."""
    repair = _Repair(task_id, findings, target=target, agreements=agreements, products=products,
                     settings=settings, today=today, catalog=catalog)
    plan = repair.plan().to_dict()
    plan["acceptEdits"] = repair.accepted
    if repair.accepted and not plan["operations"]:
        plan["nothingToChange"] = False
    return plan


# A repair task's item holds its differences and plan: bounded, so a big agreement never outgrows
# DynamoDB's item size (it gets several confirmations of this many subscriptions each).
SUBSCRIPTIONS_PER_TASK = 50


def repair_groups(findings: Sequence[r.LineFinding], busy: Collection[str] = frozenset()) -> list[list[r.LineFinding]]:
    """The findings with differences, one group per customer and agreement (what one person
    confirms at once): billed subscriptions by the agreement they belong on (and billing period
    and currency, which that agreement bills in); ended ones join the group of the agreement
    still billing them, else a group of their own. Subscriptions in `busy` are left out."""
    by_sub: dict[str, list[r.LineFinding]] = {}
    for finding in findings:
        if finding.differences and finding.subscription.id not in busy:
            by_sub.setdefault(finding.subscription.id, []).append(finding)
    groups: dict[tuple, list[r.LineFinding]] = {}
    ended = []
    for sub_id, sub_findings in sorted(by_sub.items()):
        sub, target = sub_findings[0].subscription, sub_findings[0].target_agreement
        if not sub.billed:
            ended.append(sub_findings)
            continue
        key = (sub.customer_id, _str(target), sub.period.type, sub.period.duration, sub.currency)
        groups.setdefault(key, []).extend(sub_findings)
    for sub_findings in ended:
        sub, target = sub_findings[0].subscription, _str(sub_findings[0].target_agreement)
        key = next((k for k in groups if k[:2] == (sub.customer_id, target) and len(k) > 2),
                   (sub.customer_id, target))
        groups.setdefault(key, []).extend(sub_findings)
    out = []
    for _, group in sorted(groups.items(), key=lambda item: tuple(str(v) for v in item[0])):
        subs = list(dict.fromkeys(f.subscription.id for f in group))
        for start in range(0, len(subs), SUBSCRIPTIONS_PER_TASK):
            part = set(subs[start:start + SUBSCRIPTIONS_PER_TASK])
            out.append([f for f in group if f.subscription.id in part])
    return out


def _before(addition: AdditionRecord) -> dict:
    """What the approver sees of the addition as ConnectWise has it today (in ConnectWise's field names)."""
    shown = addition.to_fields()
    return {k: shown[k] for k in BEFORE_FIELDS if shown.get(k) is not None}


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _cw_id(value: Any) -> Any:
    text = str(value).strip()
    return int(text) if text.isdigit() else value


def _show(value: Any) -> str:
    if isinstance(value, Decimal):
        return format_quantity(value) if value == value.to_integral_value() else f"{value.normalize():f}"
    if isinstance(value, datetime):
        return utc_text(value)
    return str(value)
