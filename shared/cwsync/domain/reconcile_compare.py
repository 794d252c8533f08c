"""The comparison rules of a reconciliation, one customer at a time (see `cwsync.domain.reconcile`)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Sequence

from cwsync.domain import handmade, reconcile as r
from cwsync.domain.money import format_money, format_quantity
from cwsync.domain.records import AdditionRecord, AgreementRecord


def _product_key(addition: AdditionRecord) -> tuple[str | None, str | None]:
    ident = addition.product_identifier
    return (None if addition.product_id is None else str(addition.product_id),
            ident.casefold() if ident else None)


class Comparison:
    def __init__(self, subscriptions: Sequence[r.Subscription], ctx: r.CustomerContext):
        self.subs = list(subscriptions)
        self.ctx = ctx
        # Every addition of the customer's agreements with the day it is compared at.
        self.additions: list[tuple[str, AdditionRecord]] = [
            (str(agreement_id), addition) for agreement_id, items in ctx.additions.items() for addition in items]
        self.claimed: set[str] = set()  # addition ids already attributed to a line

    # --- helpers ------------------------------------------------------------------------
    def day(self, agreement_id: str):
        return r.next_billed_day(self.ctx.agreements.get(str(agreement_id)), self.ctx.today)

    def agreement(self, agreement_id: str) -> AgreementRecord:
        """The customer's agreement (one the additions were read from is always there)."""
        found = self.ctx.agreements.get(str(agreement_id))
        return found if found is not None else AgreementRecord(
            id=int(agreement_id) if str(agreement_id).isdigit() else agreement_id, name=f"Agreement {agreement_id}",
            company_id=None, status=None, cancelled=False, billing_cycle=None, currency_code=None)

    def invoices(self, agreement_id: str) -> bool:
        return r.invoices(self.ctx.agreements.get(str(agreement_id)))

    def live(self, agreement_id: str, addition: AdditionRecord) -> bool:
        return r.is_live(addition, self.day(agreement_id))

    def matches_product(self, addition: AdditionRecord, mpn: str) -> bool:
        item_id, ident = _product_key(addition)
        wanted = self.ctx.products.get(mpn.casefold())
        if wanted is not None and item_id is not None:
            return item_id == str(wanted)
        return ident == mpn.casefold()

    def tagged(self, subscription: r.Subscription) -> list[tuple[str, AdditionRecord]]:
        prefix = r.tag_prefix(self.ctx.tag_format, subscription.id)
        return [(a, add) for a, add in self.additions if r.carries_tag(add, prefix)]


    # --- the run --------------------------------------------------------------------------
    def run(self) -> list[r.LineFinding]:
        findings: list[r.LineFinding] = []
        pending_adopt: list[tuple[r.LineFinding, str]] = []
        for sub in sorted(self.subs, key=lambda s: s.id):
            tagged = self.tagged(sub)
            for _, addition in tagged:
                self.claimed.add(str(addition.id))
            target = self.ctx.targets.get(sub.id)
            if not sub.billed:
                finding = r.LineFinding(sub, None, target)
                if sub.ended:
                    finding.ended = [(a, add) for a, add in tagged if self.invoices(a) and self.live(a, add)]
                findings.append(finding)
                continue
            remaining = list(tagged)
            for line in sub.lines:
                finding = r.LineFinding(sub, line, target)
                mine = [(a, add) for a, add in remaining if self.matches_product(add, line.mpn)]
                remaining = [pair for pair in remaining if pair not in mine]
                self.place(finding, mine)
                if finding.primary is None and not finding.dead and target is not None:
                    pending_adopt.append((finding, str(target)))
                findings.append(finding)
            if sub.lines:
                # Tagged additions of products the subscription no longer has.
                extra = r.LineFinding(sub, None, target)
                extra.ended = [(a, add) for a, add in remaining if self.invoices(a) and self.live(a, add)]
                if extra.ended:
                    findings.append(extra)
        for finding, target in pending_adopt:
            self.adopt(finding, target)
        for finding in findings:
            finding.differences = self.differences(finding)
        return findings

    def place(self, finding: r.LineFinding, mine: list[tuple[str, AdditionRecord]]) -> None:
        live = [(a, add) for a, add in mine if self.invoices(a) and self.live(a, add)]
        finding.dead = [(a, add) for a, add in mine if not self.invoices(a) and self.live(a, add)]
        if not live:
            return
        target = None if finding.target_agreement is None else str(finding.target_agreement)
        live.sort(key=lambda pair: (pair[0] != target, _id(pair[1])))
        agreement_id, primary = live[0]
        finding.primary, finding.primary_agreement = primary, agreement_id
        finding.extras = live[1:]
        agreement = self.agreement(agreement_id)
        if (target is not None and agreement_id != target) or \
                r.eligibility_problems(agreement, finding.subscription, self.ctx.today):
            finding.elsewhere = agreement
        baseline = self.ctx.baselines.get(str(primary.id))
        if baseline:
            for name in r.EDITABLE_FIELDS:
                if name in baseline and not _same(name, baseline.get(name), primary.value(name)):
                    finding.edits[name] = (baseline.get(name), primary.value(name))

    def adopt(self, finding: r.LineFinding, target: str) -> None:
        """A live hand-made addition (the sync's rules, `handmade`) of the same product on the target
        agreement, the likeliest first."""
        line = finding.line
        literal = handmade.tag_literal(self.ctx.tag_format)
        candidates = [add for a, add in self.additions
                      if a == target and self.invoices(a) and self.live(a, add)
                      and str(add.id) not in self.claimed
                      and handmade.is_hand_made(add.serial_number, literal)
                      and self.matches_product(add, line.mpn)]
        if not candidates:
            return
        chosen = handmade.best_first(candidates, line.quantity, line.unit_price)[0]
        self.claimed.add(str(chosen.id))
        finding.primary, finding.primary_agreement = chosen, target
        finding.adopt = True

    # --- differences and their money --------------------------------------------------------
    def differences(self, f: r.LineFinding) -> list[r.Difference]:
        sub, line = f.subscription, f.line
        months = _months(sub)
        out: list[r.Difference] = []

        def add(kind, *, agreement=None, addition=None, field=None, mp=None, cw=None, impact=Decimal(0), why=""):
            out.append(r.Difference(kind, self.ctx.customer, sub.id, line.mpn if line else _mpn(addition),
                                    agreement, None if addition is None else addition.id, field, mp, cw,
                                    impact, sub.currency or self.currency_of(agreement), months, why))

        for agreement_id, addition in f.ended:
            amount = r.billed(addition)
            what = "has ended" if sub.ended else "no longer has this product"
            add(r.STILL_BILLED, agreement=agreement_id, addition=addition, field="status",
                mp=sub.status if sub.ended else "removed", cw="billed", impact=-amount,
                why=f"The subscription {what} but addition {_label(addition)} still bills "
                    f"{self.money(amount, sub, agreement_id)} a period")
        if line is None:
            return out
        expected = line.quantity * line.unit_price
        if f.primary is None:
            if f.dead:
                agreement_id, addition = f.dead[0]
                status = self.agreement(agreement_id).status or "Cancelled"
                add(r.CANCELLED_AGREEMENT, agreement=agreement_id, addition=addition, field="agreementStatus",
                    mp="Active", cw=status, impact=expected,
                    why=f"Addition {_label(addition)} is on agreement #{agreement_id}, which is {status} and does "
                        "not invoice: the subscription is not billed")
            elif line.quantity > 0:
                add(r.NOT_BILLED, agreement=f.target_agreement, field="quantity", mp=line.quantity, cw=None,
                    impact=expected, why=f"{line.name} × {format_quantity(line.quantity)} has no live addition in "
                                         f"ConnectWise: {self.money(expected, sub)} a period is not billed")
            return out
        primary = f.primary
        agreement_id = f.primary_agreement
        if f.adopt:
            add(r.ADOPT_CANDIDATE, agreement=agreement_id, addition=primary, field="serialNumber",
                mp=r.tag_prefix(self.ctx.tag_format, sub.id) + "…", cw=primary.serial_number or None,
                why=f"Addition #{primary.id} was made by hand for the same product on the agreement: cwsync "
                    "tags it instead of creating a second one")
        if f.elsewhere is not None:
            problems = r.eligibility_problems(f.elsewhere, sub, self.ctx.today)
            field = "billingCycle" if any("Billing cycle" in p for p in problems) else \
                "currency" if any("currency" in p.casefold() for p in problems) else "agreementId"
            mp = {"billingCycle": _cycle(sub), "currency": sub.currency}.get(field, _text(f.target_agreement))
            cw = {"billingCycle": f.elsewhere.billing_cycle,
                  "currency": f.elsewhere.currency_code}.get(field, agreement_id)
            add(r.WRONG_AGREEMENT, agreement=agreement_id, addition=primary, field=field, mp=mp, cw=cw,
                why=f"Addition {_label(primary)} is on agreement #{agreement_id}"
                    + (f" ({'; '.join(problems)})" if problems else
                       f"; the subscription belongs on agreement #{f.target_agreement}"))
        cw_qty, cw_price = primary.quantity, primary.unit_price or Decimal(0)
        if cw_qty != line.quantity:
            impact = (line.quantity - cw_qty) * cw_price
            add(r.QUANTITY_DIFFERS, agreement=agreement_id, addition=primary, field="quantity", mp=line.quantity,
                cw=cw_qty, impact=impact, why=f"The marketplace has {format_quantity(line.quantity)}, ConnectWise "
                                              f"bills {format_quantity(cw_qty)}")
        if cw_price != line.unit_price:
            impact = (line.unit_price - cw_price) * line.quantity
            add(r.UNIT_PRICE_DIFFERS, agreement=agreement_id, addition=primary, field="unitPrice",
                mp=line.unit_price, cw=cw_price, impact=impact,
                why=f"The marketplace price is {self.money(line.unit_price, sub)}, ConnectWise bills "
                    f"{self.money(cw_price, sub)}")
        if line.unit_cost is not None and primary.unit_cost is not None and primary.unit_cost != line.unit_cost:
            add(r.UNIT_COST_DIFFERS, agreement=agreement_id, addition=primary, field="unitCost",
                mp=line.unit_cost, cw=primary.unit_cost,
                why="The cost recorded in ConnectWise differs (margin reports only; the customer's bill is unchanged)")
        for extra_agreement, extra in f.extras:
            amount = r.billed(extra)
            add(r.BILLED_TWICE, agreement=extra_agreement, addition=extra, field="serialNumber",
                mp=primary.serial_number, cw=extra.serial_number, impact=-amount,
                why=f"Addition {_label(extra)} bills the same subscription line again: "
                    f"{self.money(amount, sub)} a period too much")
        for name, (wrote, now) in f.edits.items():
            impact = Decimal(0)
            if name == "billCustomer" and wrote == "Billable" and now != "Billable":
                impact = r.billed(primary)
            add(r.EDITED_IN_CONNECTWISE, agreement=agreement_id, addition=primary, field=name, mp=wrote, cw=now,
                impact=impact, why=f"{name} was changed in ConnectWise after cwsync wrote it")
        return out

    def currency_of(self, agreement_id: Any) -> str:
        agreement = self.ctx.agreements.get(str(agreement_id))
        return (agreement.currency_code if agreement is not None else None) or ""

    def money(self, amount: Decimal, sub: r.Subscription, agreement_id: Any = None) -> str:
        currency = sub.currency or self.currency_of(agreement_id)
        return f"{format_money(amount, currency)} {currency}".strip()


def _id(addition: AdditionRecord) -> tuple[int, str]:
    text = str(addition.id)
    return (int(text), "") if text.isdigit() else (1 << 62, text)


def _label(addition: AdditionRecord) -> str:
    return addition.serial_number or f"#{addition.id}"


def _mpn(addition: AdditionRecord | None) -> str | None:
    return addition.product_identifier if addition is not None else None


def _months(sub: r.Subscription) -> int:
    try:
        return max(sub.period.months, 1)
    except ValueError:
        return 1


def _cycle(sub: r.Subscription) -> str | None:
    from cwsync.domain.agreements import billing_cycle_name
    from cwsync.errors import InvalidOrder

    try:
        return billing_cycle_name(sub.period)
    except InvalidOrder:
        return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _same(name: str, wrote: Any, now: Any) -> bool:
    if name.endswith("Date"):
        return r._day(wrote) == r._day(now)
    if isinstance(wrote, bool) or isinstance(now, bool):
        return bool(wrote) == bool(now)
    if isinstance(wrote, (int, float, Decimal)) or isinstance(now, (int, float, Decimal)):
        try:
            return Decimal(str(wrote)) == Decimal(str(now))
        except Exception:  # one side is not a number: they differ
            return False
    return (wrote or None) == (now or None)
