"""Whether a person confirms a plan before it is written to ConnectWise."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from cwsync.errors import ConfigurationError
from cwsync.domain.money import format_money, to_decimal
from cwsync.domain.operations import Plan
from cwsync.vocabulary import APPROVAL_POLICIES, ApprovalPolicy

ALWAYS, NEVER = ApprovalPolicy.ALWAYS, ApprovalPolicy.NEVER
POLICIES = APPROVAL_POLICIES


def needs_confirmation(policy: str, plan: Plan | Mapping[str, Any],
                       threshold: Decimal | str | int | None = None) -> tuple[bool, str]:
    """(confirm?, why) for a plan or its `to_dict()` form.

    A plan with nothing to change is never sent for confirmation, whatever the policy:
    there is nothing to approve. `threshold` compares with the size of the plan's total
    (a large credit is as worth a look as a large charge); None means no threshold.
    """
    if policy not in POLICIES:
        raise ConfigurationError(f"Approval policy {policy!r}; expected one of {', '.join(POLICIES)}")
    if isinstance(plan, Plan):
        nothing, decrease, currency = plan.nothing_to_change, plan.decrease, plan.currency
        total = to_decimal(format_money(plan.total, currency))  # as the stored plan says it
    else:
        nothing, decrease = bool(plan.get("nothingToChange")), bool(plan.get("decrease"))
        total, currency = to_decimal(plan.get("total") or 0), plan.get("currency")

    if nothing:
        return False, "Nothing to change"
    if policy == ALWAYS:
        return True, "Policy 'always': every change is confirmed by a person"
    if policy == NEVER:
        return False, "Policy 'never': changes are applied without confirmation"
    if decrease:
        return True, "The plan lowers what the customer is billed"
    if threshold is not None and abs(total) > to_decimal(threshold):
        return True, (f"Total {format_money(total, currency)} {currency} is over the threshold "
                      f"{format_money(to_decimal(threshold), currency)} {currency}")
    limit = "" if threshold is None else f" (threshold {format_money(to_decimal(threshold), currency)})"
    return False, f"No decrease and total {format_money(total, currency)} {currency} within policy{limit}"
