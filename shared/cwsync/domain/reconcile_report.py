"""The reconciliation report: differences and totals in the shape `cwsync reconcile --json` prints."""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Sequence

from cwsync.domain import reconcile as r
from cwsync.domain.money import format_money


def report(findings: Iterable[r.LineFinding], *, unreadable: Sequence[dict] = ()) -> dict:
    """`{"differences": [...], "totals": {...}, "problems": [...]}`.

    Totals: subscriptions checked, in step (no difference), differences by kind, and the money
    not billed / billed too much per month in each currency (each difference's impact per
    period divided by the period's months).
    """
    differences: list[r.Difference] = []
    subscriptions: dict[str, bool] = {}
    for finding in findings:
        sub = finding.subscription.id
        subscriptions[sub] = subscriptions.get(sub, True) and not finding.differences
        differences.extend(finding.differences)
    by_kind = {kind: 0 for kind in r.KINDS}
    not_billed: dict[str, Decimal] = {}
    over_billed: dict[str, Decimal] = {}
    for difference in differences:
        by_kind[difference.kind] += 1
        monthly = difference.impact_per_month
        if monthly > 0:
            not_billed[difference.currency] = not_billed.get(difference.currency, Decimal(0)) + monthly
        elif monthly < 0:
            over_billed[difference.currency] = over_billed.get(difference.currency, Decimal(0)) - monthly
    totals = {
        "subscriptionsChecked": len(subscriptions),
        "inStep": sum(1 for ok in subscriptions.values() if ok),
        "withDifferences": sum(1 for ok in subscriptions.values() if not ok),
        "differences": len(differences),
        "byKind": by_kind,
        "notBilledPerMonth": {c: format_money(a, c) for c, a in sorted(not_billed.items())},
        "overBilledPerMonth": {c: format_money(a, c) for c, a in sorted(over_billed.items())},
    }
    ordered = sorted(differences, key=lambda d: (d.customer, d.subscription_id or "", d.mpn or "", d.kind,
                                                 str(d.addition_id or ""), d.field or ""))
    return {"differences": [d.to_dict() for d in ordered], "totals": totals, "problems": list(unreadable)}


def not_billed_above(totals: dict, threshold: Decimal) -> dict[str, Decimal]:
    """Currencies whose money not billed per month is above the threshold."""
    return {currency: Decimal(amount) for currency, amount in (totals.get("notBilledPerMonth") or {}).items()
            if Decimal(amount) > threshold}
