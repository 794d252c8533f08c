"""Which ConnectWise agreement a subscription's additions go on."""
from __future__ import annotations

import re
from datetime import date
from typing import Iterable

from cwsync.errors import InvalidOrder
from cwsync.domain.matching import Match, Option
from cwsync.domain.models import BillingPeriod
from cwsync.domain.records import AgreementRecord
from cwsync.vocabulary import MatchBasis

_CYCLES = {
    ("month", 1): "Monthly",
    ("month", 3): "Quarterly",
    ("month", 6): "SemiAnnual",
    ("year", 1): "Yearly",
    ("month", 12): "Yearly",
}


def billing_cycle_name(period: BillingPeriod) -> str:
    """The ConnectWise billing cycle that bills like the subscription; InvalidOrder if none does."""
    if period.type == "statement_day":
        # Statement-day subscriptions bill once a month on a fixed day.
        return "Monthly"
    name = _CYCLES.get((period.type, period.duration))
    if name is None:
        raise InvalidOrder(
            f"A {period} billing period has no matching ConnectWise billing cycle "
            "(supported: month×1 Monthly, month×3 Quarterly, month×6 SemiAnnual, year×1 Yearly)")
    return name


def _same_cycle(a: str, b: str) -> bool:
    # Cycle names are editable in ConnectWise: "Semi-Annual" and "SemiAnnual" are the same cycle.
    def key(name: str) -> str:
        return re.sub(r"[^0-9a-z]", "", name.casefold())
    return key(a) == key(b)


def _problems(agreement: AgreementRecord, cycle: str | None, currency: str, today: date | None = None) -> list[str]:
    problems = []
    if agreement.cancelled:
        problems.append("Agreement is Cancelled")
    elif agreement.status != "Active":
        problems.append(f"Agreement is {agreement.status or 'without a status'}")
    ended = agreement.end_date
    if ended is not None and today is not None and ended < today:
        problems.append(f"Agreement ended on {ended}")
    agreement_cycle = agreement.billing_cycle
    if cycle and not (agreement_cycle and _same_cycle(agreement_cycle, cycle)):
        problems.append(f"Billing cycle is {agreement_cycle or 'not set'}, the subscription bills {cycle}")
    agreement_currency = agreement.currency_code
    if not agreement_currency:
        problems.append(f"ConnectWise agreement {agreement.id} has no currency code, the order is in {currency}; "
                        "set the agreement's currency in ConnectWise and check again")
    elif agreement_currency.upper() != currency.upper():
        problems.append(f"Currency is {agreement_currency}, the order is in {currency}")
    return problems


def _label(agreement: AgreementRecord) -> str:
    cycle = agreement.billing_cycle or "no billing cycle"
    currency = agreement.currency_code or "no currency"
    return f"{agreement.name} (#{agreement.id}, {cycle}, {currency})"


def select_agreement(agreements: Iterable[AgreementRecord], *, company_id: str | int,
                     period: BillingPeriod | None, currency: str,
                     remembered_id: str | int | None = None, today: date | None = None) -> Match:
    """Choose the agreement, or list every agreement of the company for a person to decide.

    Eligible = the company's, Active, not cancelled, not past its end date (when `today` is
    given), same billing cycle, same currency.
    Chosen: the remembered agreement while it is eligible, else the only eligible one.
    A remembered agreement that became ineligible is not silently replaced: a person
    confirms the move (the only eligible agreement is then the recommended option).
    `period=None` (a cancellation without billing details) skips the cycle check.
    """
    cycle = billing_cycle_name(period) if period is not None else None
    remembered = str(remembered_id) if remembered_id not in (None, "") else None
    own = [a for a in agreements if str(a.company_id) == str(company_id)]

    options = []
    for agreement in own:
        problems = _problems(agreement, cycle, currency, today)
        agreement_id = str(agreement.id)
        if problems:
            reason = "; ".join(problems)
        else:
            agreement_cycle = agreement.billing_cycle
            reason = " ".join(filter(None, ["Active", agreement_cycle, f"agreement in {currency}"]))
            if agreement_id == remembered:
                reason = f"Remembered for this subscription; {reason[0].lower()}{reason[1:]}"
        options.append(Option(agreement_id, _label(agreement), not problems, reason))
    # Ranked: eligible first, the remembered one first among equals, then by id.
    options.sort(key=lambda o: (not o.eligible, o.id != remembered, _id_order(o.id)))
    eligible = [o for o in options if o.eligible]
    wanted = f"{cycle + ' ' if cycle else ''}agreement in {currency}"

    if remembered:
        kept = next((o for o in options if o.id == remembered), None)
        if kept and kept.eligible:
            return Match(kept.id, options, f"{kept.label} is remembered for this subscription and still eligible",
                         basis=MatchBasis.REMEMBERED)
        why = f"it is no longer eligible: {kept.reason}" if kept else "it is not an agreement of this company any more"
        return Match(None, options, f"The remembered agreement #{remembered} cannot be used ({why}); "
                                    f"choose an Active {wanted}")
    if len(eligible) == 1:
        return Match(eligible[0].id, options, f"{eligible[0].label} is the only Active {wanted} of the company",
                     basis=MatchBasis.ONLY_ELIGIBLE)
    if not eligible:
        detail = f"{len(options)} agreement(s), none eligible" if options else "no agreements"
        return Match(None, options, f"The company has {detail}; add an Active {wanted} in ConnectWise")
    return Match(None, options, f"{len(eligible)} agreements are eligible ({wanted}); choose one")


def _id_order(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (1 << 62, value)
