"""LinkCustomer: which ConnectWise company the marketplace customer is (remembered once known)."""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.errors import NotFound, SyncFailed
from cwsync.notifications import SYNC_AGAIN
from cwsync.services.steps.common import (asked_again, cw_id, decided_by, decision_of, link_context, load_task_item,
                                          needs_approval, option_label, order_of, plain, progress)
from cwsync.vocabulary import ApprovalKind, LinkKind, LinkSource, OptionId, StepOutcome


def link_customer(deps, task_id: str, decision: Mapping[str, Any] | None = None) -> dict:
    """Remembered link → skip; an id or exact name → link; else ask which company."""
    from cwsync.domain.matching import match_customer

    task = load_task_item(deps, task_id)
    order = order_of(deps, task)
    customer_id = order.customer_id

    if decision:
        company_id, approval = decision_of(deps, task, decision, ApprovalKind.CUSTOMER)
        if company_id in (OptionId.CREATE_COMPANY, OptionId.FOUND_COMPANY):
            return _link_new_choice(deps, task, order, company_id, decision, approval)
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

    deps.store.set_task_attributes(str(task_id), customerName=customer_name)  # the dashboard names it
    return _ask_for_company(deps, customer, customer_name, order.number, match)


def _ask_for_company(deps, customer, customer_name: str, order_number: str, match) -> dict:
    """The customer approval: the ranked candidates, a search over every company, and creating the
    company from the marketplace customer (its form filled in, with ConnectWise's reference lists)."""
    from cwsync.domain.matching import Option
    from cwsync.domain.new_records import References, choices, propose_company

    raw = deps.connectwise.company_references()
    references = References({"type": choices(raw.get("type") or []), "status": choices(raw.get("status") or []),
                             "country": choices(raw.get("country") or [])})
    extra = [Option(OptionId.CREATE_COMPANY, f"Create {customer_name} in ConnectWise", True,
                    "A new ConnectWise company from the marketplace customer's details, which you can edit below"),
             Option(OptionId.FOUND_COMPANY, "Another ConnectWise company, found by the search below", True,
                    "Search every ConnectWise company by name or identifier")]
    explanation = match.explanation if any(o.eligible for o in match.options) else (
        f"No ConnectWise company matches the marketplace customer: {match.explanation}. Search for it, or create it")
    result = needs_approval(ApprovalKind.CUSTOMER, f"Choose the ConnectWise company for {customer_name} "
                                                   f"(order {order_number})", match,
                            options=[o.to_dict() for o in match.options] + [o.to_dict() for o in extra],
                            explanation=explanation)
    result["approval"]["proposal"] = propose_company(customer, references)
    result["approval"]["references"] = references.to_dict()
    return result


def _link_new_choice(deps, task: Mapping[str, Any], order, choice: str, decision: Mapping[str, Any],
                     approval: Mapping[str, Any] | None) -> dict:
    """A company found by the page's search (checked again: it exists and is active), or one created
    from the approver's form: found first by its identifier, so a retry after ConnectWise created it
    but the answer was lost links that company and never creates a second."""
    task_id, customer_id = str(task["taskId"]), order.customer_id
    chosen = dict(((decision.get("changes") or {}).get("company")) or {})
    known = {"customerName": task["customerName"]} if task.get("customerName") else {}
    link = dict(**decided_by(decision), approvalId=(approval or {}).get("approvalId"), **known,
                **link_context(task_id, order))
    if choice == OptionId.FOUND_COMPANY:
        try:
            record = deps.connectwise.company(cw_id(chosen.get("id")))
        except (NotFound, ValueError, TypeError):
            raise SyncFailed(f"The company chosen by search ({chosen.get('id')}) is not in ConnectWise; "
                             f"{SYNC_AGAIN} and choose another") from None
        if record.deleted or record.inactive:
            raise SyncFailed(f"ConnectWise company {record.name} is {record.inactive or 'deleted'}; "
                             f"{SYNC_AGAIN} and choose an active company")
        deps.store.put_customer_link(customer_id, str(record.id), record.name, **link)
        progress(deps, task_id, f"Customer {customer_id} linked to ConnectWise company {record.name} (found by "
                                "search and chosen by the approver)", companyId=str(record.id), companyName=record.name)
        return {"outcome": StepOutcome.LINKED, "companyId": str(record.id), "source": LinkSource.APPROVAL}
    from cwsync.domain.new_records import References, company_body

    body, problems = company_body(chosen, References.from_dict(plain((approval or {}).get("references"))))
    if problems:  # the page checked the same rules; a decision sent around it still writes nothing
        raise SyncFailed("The new company cannot be created: " + "; ".join(p.message for p in problems))
    identifier = body["identifier"]
    found = deps.connectwise.find_company(identifier)
    created = found is None
    company = deps.connectwise.create_company(body) if created else found
    company_id, name = str(company.id), company.name or body["name"]
    deps.store.put_customer_link(customer_id, company_id, name, **{**link, "linkedBy": LinkSource.CREATED})
    how = "is new in ConnectWise" if created else "was already made for this task"
    progress(deps, task_id, f"ConnectWise company {name} ({identifier}, record {company_id}) {how}; linked to "
                            f"customer {customer_id}", companyId=company_id, companyName=name,
             createdCompany={"id": company_id, "identifier": identifier, "name": name})
    return {"outcome": StepOutcome.LINKED, "companyId": company_id, "source": LinkSource.CREATED}


def company_name(deps, company_id: str) -> str:
    try:
        return deps.connectwise.company(company_id).name or company_id
    except Exception:  # the name is for people; the id will do when ConnectWise cannot say it
        return company_id
