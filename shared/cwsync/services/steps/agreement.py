"""SelectAgreement: the ConnectWise agreement the order's subscription bills on (remembered)."""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.domain.models import Order
from cwsync.domain.records import AgreementRecord
from cwsync.errors import NotFound, SyncFailed
from cwsync.services.steps.common import (asked_again, customer_name, decided_by, decision_of, link_context,
                                          load_task_item, needs_approval, order_of, progress, task_type_of)
from cwsync.vocabulary import ApprovalKind, LinkKind, LinkSource, OptionId, StepOutcome, TaskType


def select_agreement(deps, task_id: str, decision: Mapping[str, Any] | None = None) -> dict:
    """Same company, Active, same billing cycle, same currency; remembered per subscription.

    A remembered agreement costs one request: that agreement alone (what the agreement
    rules read), checked with the same rules; only when it no longer qualifies (or for a
    person's decision) are all of the company's agreements read, to offer them.

    A reconcile task repairs one or more subscriptions (`subscriptionIds`) on the agreement
    the reconciliation found for them (`targetAgreementId`, checked like a remembered one);
    the choice is remembered for each. A repair that only ends additions of subscriptions
    that have ended needs no agreement and skips the step.
    """
    from cwsync.domain.agreements import select_agreement as choose

    task = load_task_item(deps, task_id)
    order = order_of(deps, task)
    reconcile = task_type_of(task) == TaskType.RECONCILE
    if reconcile and task.get("needsAgreement") is False:
        progress(deps, task_id, "No agreement to choose: the repair only ends the additions of subscriptions that "
                                "have ended, on the agreements that hold them")
        return {"outcome": StepOutcome.LINKED, "agreementId": None, "source": LinkSource.REMEMBERED, "skipped": True}
    company_id = task.get("companyId") or (deps.store.get_customer_link(order.customer_id) or {}).get("companyId")
    if not company_id:
        raise SyncFailed(f"Customer {order.customer_id} is not linked to a ConnectWise company yet")
    subscriptions = [str(s) for s in task.get("subscriptionIds") or []] if reconcile else []
    subscriptions = subscriptions or ([order.subscription_id] if order.subscription_id else [])
    known = {s: (deps.store.get_subscription_link(s) or {}).get("agreementId") for s in subscriptions}
    remembered = known[subscriptions[0]] if subscriptions else None
    if reconcile and task.get("targetAgreementId"):
        remembered = str(task["targetAgreementId"])

    def match_among(agreements):
        return choose(agreements, company_id=company_id, period=order.billing_period, currency=order.currency,
                      remembered_id=remembered, today=deps.now().date())

    match = None
    if remembered and not decision:
        only = _remembered_agreement(deps, remembered)
        if only is not None:
            match = match_among([only])
            if not match.chosen:
                match = None  # no longer eligible: offer every agreement of the company
    if match is None:
        match = match_among(deps.connectwise.company_agreements(company_id))

    if decision:
        choice, approval = decision_of(deps, task, decision, ApprovalKind.AGREEMENT)
        if choice == OptionId.CHECK_AGAIN:
            progress(deps, task_id, "The approver asked to read the company's agreements again")
            return _agreement_outcome(deps, task, task_id, order, match, remembered, known)
        option = next((o for o in match.options if o.id == choice), None)
        if option is None or not option.eligible:
            why = option.reason if option else "it is not an agreement of this company"
            raise SyncFailed(f"Agreement {choice} cannot be used for order {order.number}: {why}")
        marks = {**decided_by(decision), "approvalId": (approval or {}).get("approvalId")}
        return _use_agreement(deps, task, order, subscriptions, option, source=LinkSource.APPROVAL,
                              why="chosen by the approver", marks=marks)

    return _agreement_outcome(deps, task, task_id, order, match, remembered, known)


def _agreement_outcome(deps, task: Mapping[str, Any], task_id: str, order: Order, match, remembered,
                       known: Mapping[str, Any]) -> dict:
    """Use the chosen agreement, or ask a person: to choose among eligible ones, or, when none
    is eligible, to add or correct one in ConnectWise and have cwsync check again."""
    from cwsync.domain.matching import Option

    # A person undid the link of a subscription this task would link now: a person chooses. A
    # subscription linked again since (a person's choice) is not asked about again.
    undone = next((u for s, agreement in known.items() if not agreement
                   for u in [deps.store.link_undone(LinkKind.SUBSCRIPTION, s)] if u), None)
    if undone:
        match = asked_again(match, undone, "the agreement")
    if match.chosen:
        option = next(o for o in match.options if o.id == match.chosen)
        unlinked = [s for s, agreement in known.items() if str(agreement) != match.chosen]
        source = LinkSource.REMEMBERED if str(remembered) == match.chosen and not unlinked else LinkSource.MATCH
        return _use_agreement(deps, task, order, unlinked, option, source=source, why=match.explanation,
                              skipped=source == LinkSource.REMEMBERED,
                              marks={"automatic": True, "evidence": match.explanation, "basis": match.basis})
    name = task.get("companyName") or customer_name(deps, task, order)
    if any(o.eligible for o in match.options):
        return needs_approval(ApprovalKind.AGREEMENT,
                              f"Choose the ConnectWise agreement for {name} (order {order.number})", match)
    again = Option(OptionId.CHECK_AGAIN, "Check again: I have added or corrected an agreement in ConnectWise", True,
                   "Reads the company's agreements again; an ineligible agreement is never written to")
    return needs_approval(
        ApprovalKind.AGREEMENT, f"No ConnectWise agreement of {name} can take order {order.number}: add or correct one",
        match, options=[o.to_dict() for o in match.options] + [again.to_dict()], recommended=None,
        explanation=f"{match.explanation}. Reject to stop this task, or fix the agreement in ConnectWise "
                    "and choose Check again.")


def _remembered_agreement(deps, agreement_id: Any) -> AgreementRecord | None:
    try:
        return deps.connectwise.agreement_for_rules(agreement_id)
    except (NotFound, ValueError):  # deleted, or not a ConnectWise id: choose again among the company's
        return None


def _use_agreement(deps, task: Mapping[str, Any], order: Order, subscriptions: list[str], option, *, source: str,
                   why: str, skipped: bool = False, marks: Mapping[str, Any] | None = None) -> dict:
    """Use the agreement; remember it for each subscription, marked how it was chosen (`marks`:
    `linkedBy`/`automatic` of a decision, or the rule's `evidence` and `basis`)."""
    task_id = str(task["taskId"])
    names = {k: task[k] for k in ("customerName", "companyName") if task.get(k)}
    for subscription in subscriptions if source != LinkSource.REMEMBERED else ():
        deps.store.put_subscription_link(subscription, option.id, **{"linkedBy": source, **(marks or {})},
                                         agreementName=option.label, **names, **link_context(task_id, order))
    progress(deps, task_id, f"Agreement {option.label}: {why}", agreementId=option.id, agreementName=option.label)
    result = {"outcome": StepOutcome.LINKED, "agreementId": option.id, "source": source}
    if skipped:
        result["skipped"] = True
    return result
