"""LinkCustomer: which ConnectWise company the marketplace customer is (remembered once known)."""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.errors import SyncFailed
from cwsync.notifications import SYNC_AGAIN
from cwsync.services.steps.common import (asked_again, decided_by, decision_of, link_context, load_task_item,
                                          needs_approval, option_label, order_of, progress)
from cwsync.vocabulary import ApprovalKind, LinkKind, LinkSource, StepOutcome


def link_customer(deps, task_id: str, decision: Mapping[str, Any] | None = None) -> dict:
    """Remembered link → skip; an id or exact name → link; else ask which company."""
    from cwsync.domain.matching import match_customer

    task = load_task_item(deps, task_id)
    order = order_of(deps, task)
    customer_id = order.customer_id

    if decision:
        company_id, approval = decision_of(deps, task, decision, ApprovalKind.CUSTOMER)
        name = option_label(approval, company_id) or company_name(deps, company_id)
        deps.store.put_customer_link(customer_id, company_id, name, **decided_by(decision),
                                     approvalId=(approval or {}).get("approvalId"), **link_context(task_id, order),
                                     **({"customerName": task["customerName"]} if task.get("customerName") else {}))
        progress(deps, task_id, f"Customer {customer_id} linked to ConnectWise company {name} (chosen by the approver)",
                 companyId=company_id, companyName=name)
        return {"outcome": StepOutcome.LINKED, "companyId": company_id, "source": LinkSource.APPROVAL}

    link = deps.store.get_customer_link(customer_id)
    if link:
        company_id, name = str(link["companyId"]), link.get("companyName")
        known = {"customerName": link["customerName"]} if link.get("customerName") else {}
        progress(deps, task_id, f"Customer {link.get('customerName') or customer_id} is linked to ConnectWise "
                                f"company {name or company_id} (remembered)", companyId=company_id, companyName=name,
                 **known)
        return {"outcome": StepOutcome.LINKED, "companyId": company_id, "source": LinkSource.REMEMBERED,
                "skipped": True}

    customer = deps.marketplace.customer(customer_id)
    customer_name = customer.name or f"customer {customer_id}"
    match = match_customer(customer, deps.connectwise.companies(), id_field=deps.settings.customer_id_field)
    undone = deps.store.link_undone(LinkKind.CUSTOMER, customer_id)
    if undone:
        match = asked_again(match, undone, "the company")
    if match.chosen:
        name = next((o.label for o in match.options if o.id == match.chosen), match.chosen)
        deps.store.put_customer_link(customer_id, match.chosen, name, linkedBy=LinkSource.MATCH, automatic=True,
                                     evidence=match.explanation, basis=match.basis, customerName=customer_name,
                                     **link_context(task_id, order))
        progress(deps, task_id, f"Customer {customer_name} linked to ConnectWise company {name}: {match.explanation}",
                 companyId=match.chosen, companyName=name, customerName=customer_name)
        return {"outcome": StepOutcome.LINKED, "companyId": match.chosen, "source": LinkSource.MATCH}

    if not any(o.eligible for o in match.options):
        deps.store.set_task_attributes(str(task_id), customerName=customer_name)  # the dashboard names it
        raise SyncFailed(f"No ConnectWise company matches the marketplace customer {customer_name} "
                         f"({customer_id}): {match.explanation}. Add the company in ConnectWise (identifier "
                         f"{customer_id}), then {SYNC_AGAIN}.")
    deps.store.set_task_attributes(str(task_id), customerName=customer_name)
    return needs_approval(ApprovalKind.CUSTOMER,
                          f"Choose the ConnectWise company for {customer_name} (order {order.number})", match)


def company_name(deps, company_id: str) -> str:
    try:
        return deps.connectwise.company(company_id).name or company_id
    except Exception:  # the name is for people; the id will do when ConnectWise cannot say it
        return company_id
