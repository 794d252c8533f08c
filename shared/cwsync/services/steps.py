"""The SyncTask steps: one function per state-machine step, `(deps, task_id, ...) -> small dict`.

Each step loads what it needs (task, order, links, ConnectWise records), asks the pure
domain what to do, records what it decided on the task (status `in_progress` with a
history entry a person can read) and in the remembered links, and returns the shape in
docs/INTERFACES.md. A step that needs a person returns
`{"outcome": "needs_approval", "approval": {...}}`; the state machine then runs
`request_approval` and calls the step again with the approver's `decision`
(`{"decision": "approve", "choice", "changes", "approvalId"}`).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any, Mapping

from cwsync.domain.models import Order, TaskStatus, TaskType
from cwsync.errors import ApprovalRejected, ConfigurationError, SyncFailed

ADD_TO_CONNECTWISE = "add-to-connectwise"
APPLY = "apply"
FINISHED = {TaskStatus.SYNCED, TaskStatus.NOTHING_TO_CHANGE, TaskStatus.FAILED, TaskStatus.EXPIRED,
            TaskStatus.REJECTED, TaskStatus.INVALID, TaskStatus.IGNORED}
TASK_TYPE_LABELS = {
    "sales": "Sales Order (new subscription)",
    "change": "Change Order (upgrade/downgrade)",
    "billing": "Billing Order (usage-based)",
    "cancellation": "Cancellation",
    "renewal": "Renewal",
}
# Task types whose plan creates additions, so each product needs a catalog item.
NEEDS_PRODUCTS = {TaskType.SALES, TaskType.CHANGE, TaskType.RENEWAL}


# --- shared helpers --------------------------------------------------------------------------

def _task(deps, task_id: str) -> dict:
    task = deps.store.get_task(str(task_id))
    if task is None:
        raise SyncFailed(f"Task {task_id} is not in the cwsync table; run the check again to re-create it")
    return task


def _order(deps, task: Mapping[str, Any]) -> Order:
    """The order as stored with the task (as it was when the task was made), else fetched."""
    detail = task.get("order")
    if not isinstance(detail, Mapping):
        detail = deps.marketplace.order(str(task.get("orderId") or task["taskId"]))
    return Order.from_api(_plain(detail))


def _plain(value: Any) -> Any:
    """DynamoDB Decimals back to JSON-like values (ints stay ints)."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else str(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _task_type(task: Mapping[str, Any]) -> TaskType:
    try:
        return TaskType(task.get("taskType"))
    except ValueError:
        raise SyncFailed(f"Task {task.get('taskId')} has no known task type ({task.get('taskType')!r})") from None


def _progress(deps, task_id: str, reason: str, **attrs: Any) -> dict:
    return deps.store.update_task(str(task_id), TaskStatus.IN_PROGRESS, reason, **attrs)


def _customer_name(deps, task: Mapping[str, Any], order: Order) -> str:
    if task.get("customerName"):
        return str(task["customerName"])
    try:
        name = deps.marketplace.customer(order.customer_id).get("name")
    except Exception:  # the name is for people; the id will do when the marketplace is unreachable
        name = None
    return str(name or f"customer {order.customer_id}")


def _product_text(line) -> str:
    from cwsync.domain.money import format_quantity

    mpn = line.new_mpn or line.mpn
    return f"{line.name} ({mpn}) × {format_quantity(line.quantity)}"


def task_summary(deps, task: Mapping[str, Any], order: Order) -> dict:
    """What the approval page and notifications say about the task."""
    task_type = str(task.get("taskType") or "")
    return {
        "taskId": str(task["taskId"]),
        "orderNumber": order.number,
        "taskType": task_type,
        "taskTypeLabel": TASK_TYPE_LABELS.get(task_type, task_type),
        "customerId": order.customer_id,
        "customerName": _customer_name(deps, task, order),
        "companyName": task.get("companyName"),
        "subscriptionId": order.subscription_id,
        "currency": order.currency,
        "products": [_product_text(line) for line in order.lines],
    }


def _needs_approval(kind: str, title: str, match, *, options: list[dict] | None = None,
                    recommended: str | None = None, subject: str | None = None, explanation: str | None = None) -> dict:
    approval = {
        "kind": kind,
        "title": title,
        "options": options if options is not None else [o.to_dict() for o in match.options],
        "recommended": recommended if recommended is not None else (match.recommended if match else None),
        "explanation": explanation if explanation is not None else (match.explanation if match else ""),
    }
    if subject is not None:
        approval["subject"] = subject
    return {"outcome": "needs_approval", "approval": approval}


def _decision(deps, task: Mapping[str, Any], decision: Mapping[str, Any], kind: str) -> tuple[str, dict | None]:
    """(chosen option id, the approval record) of an approval decision; checks it fits the approval."""
    if not isinstance(decision, Mapping):
        raise SyncFailed(f"The {kind} decision is not an object")
    if decision.get("decision") == "reject":
        raise ApprovalRejected(decision.get("reason") or "Rejected by the approver")
    choice = decision.get("choice")
    if choice in (None, ""):
        raise SyncFailed(f"The {kind} decision names no option")
    approval_id = decision.get("approvalId") or task.get("approvalId")
    approval = deps.store.get_approval(str(approval_id)) if approval_id else None
    if approval is not None and approval.get("kind") == kind:
        option = next((o for o in approval.get("options") or [] if str(o.get("id")) == str(choice)), None)
        if option is None:
            raise SyncFailed(f"The {kind} decision chose {choice!r}, which was not offered")
        if not option.get("eligible", True):
            raise SyncFailed(f"The {kind} decision chose {option.get('label')}, which cannot be used: "
                             f"{option.get('reason')}")
    else:
        approval = None
    return str(choice), approval


def _label(approval: Mapping[str, Any] | None, option_id: str) -> str | None:
    for option in (approval or {}).get("options") or []:
        if str(option.get("id")) == option_id:
            return option.get("label")
    return None


# --- LoadTask --------------------------------------------------------------------------------

def load_task(deps, task_id: str) -> dict:
    """Mark the task in progress; a task that already ended is left alone (`already_finished`)."""
    task = _task(deps, task_id)
    status = task.get("status")
    if status in {str(s) for s in FINISHED}:
        return {"outcome": "already_finished", "taskId": str(task_id), "status": status}
    task_type = _task_type(task)
    _progress(deps, task_id, f"Sync started ({TASK_TYPE_LABELS.get(str(task_type), task_type)})")
    return {"outcome": "loaded", "taskId": str(task_id), "taskType": str(task_type),
            "orderNumber": task.get("orderNumber")}


# --- LinkCustomer ----------------------------------------------------------------------------

def link_customer(deps, task_id: str, decision: Mapping[str, Any] | None = None) -> dict:
    """Remembered link → skip; an id or exact name → link; else ask which company."""
    from cwsync.domain.matching import match_customer

    task = _task(deps, task_id)
    order = _order(deps, task)
    customer_id = order.customer_id

    if decision:
        company_id, approval = _decision(deps, task, decision, "customer")
        name = _label(approval, company_id) or _company_name(deps, company_id)
        deps.store.put_customer_link(customer_id, company_id, name, linkedBy="approval",
                                     approvalId=(approval or {}).get("approvalId"),
                                     **({"customerName": task["customerName"]} if task.get("customerName") else {}))
        _progress(deps, task_id, f"Customer {customer_id} linked to ConnectWise company {name} (chosen by the approver)",
                  companyId=company_id, companyName=name)
        return {"outcome": "linked", "companyId": company_id, "source": "approval"}

    link = deps.store.get_customer_link(customer_id)
    if link:
        company_id, name = str(link["companyId"]), link.get("companyName")
        known = {"customerName": link["customerName"]} if link.get("customerName") else {}
        _progress(deps, task_id, f"Customer {link.get('customerName') or customer_id} is linked to ConnectWise "
                                 f"company {name or company_id} (remembered)", companyId=company_id, companyName=name,
                  **known)
        return {"outcome": "linked", "companyId": company_id, "source": "remembered", "skipped": True}

    customer = deps.marketplace.customer(customer_id)
    customer_name = str(customer.get("name") or f"customer {customer_id}")
    match = match_customer(customer, deps.connectwise.companies(), id_field=deps.settings.customer_id_field)
    if match.chosen:
        name = next((o.label for o in match.options if o.id == match.chosen), match.chosen)
        deps.store.put_customer_link(customer_id, match.chosen, name, linkedBy="match", evidence=match.explanation,
                                     customerName=customer_name)
        _progress(deps, task_id, f"Customer {customer_name} linked to ConnectWise company {name}: {match.explanation}",
                  companyId=match.chosen, companyName=name, customerName=customer_name)
        return {"outcome": "linked", "companyId": match.chosen, "source": "match"}

    if not any(o.eligible for o in match.options):
        raise SyncFailed(f"No ConnectWise company matches the marketplace customer {customer_name} "
                         f"({customer_id}): {match.explanation}. Add the company in ConnectWise (identifier "
                         f"{customer_id}) and run the sync again.")
    deps.store.set_task_attributes(str(task_id), customerName=customer_name)
    return _needs_approval("customer", f"Choose the ConnectWise company for {customer_name} (order {order.number})",
                           match)


def _company_name(deps, company_id: str) -> str:
    try:
        return str(deps.connectwise.get(f"/company/companies/{int(company_id)}").get("name") or company_id)
    except Exception:
        return company_id


# --- LinkProduct -----------------------------------------------------------------------------

def _product_mpns(order: Order, task_type: TaskType) -> list[tuple[str, Any]]:
    """(MPN, line) of every product the plan will create additions for, in order, once each."""
    if task_type not in NEEDS_PRODUCTS:
        return []
    seen: dict[str, Any] = {}
    for line in order.recurring_lines:
        mpn = line.new_mpn or line.mpn
        seen.setdefault(mpn, line)
    return list(seen.items())


def _catalog_settings(deps):
    from cwsync.domain.matching import CatalogSettings

    settings = deps.settings
    if not settings.catalog_subcategory_id or not settings.catalog_type_id:
        return None
    return CatalogSettings(subcategory_id=settings.catalog_subcategory_id, type_id=settings.catalog_type_id)


def link_product(deps, task_id: str, decision: Mapping[str, Any] | None = None) -> dict:
    """Link each product of the order to a catalog item (remembered), asking one product at a time.

    The product approval also offers "add the product to ConnectWise": choosing it stores
    a catalog item proposal on the task, and the plan then starts with a
    `create_catalog_item` operation; the link is remembered once the item exists.
    """
    from cwsync.domain.matching import Option, match_product, propose_catalog_item

    task = _task(deps, task_id)
    order = _order(deps, task)
    task_type = _task_type(task)
    products = _product_mpns(order, task_type)
    proposals = dict(task.get("catalogProposals") or {})

    if decision:
        choice, approval = _decision(deps, task, decision, "product")
        mpn = (approval or {}).get("subject") or task.get("pendingProduct")
        line = dict(products).get(mpn)
        if line is None:
            raise SyncFailed(f"The product decision is for {mpn!r}, which is not a product of order {order.number}")
        if choice == ADD_TO_CONNECTWISE:
            catalog = _catalog_settings(deps)
            if catalog is None:
                raise ConfigurationError("Adding a product to ConnectWise needs CATALOG_SUBCATEGORY_ID and "
                                         "CATALOG_TYPE_ID")
            proposals[mpn] = propose_catalog_item(line, order.charges, catalog)
            _progress(deps, task_id, f"Product {mpn} will be added to the ConnectWise catalog (chosen by the approver)",
                      catalogProposals=proposals)
        else:
            label = _label(approval, choice) or choice
            deps.store.put_product_link(mpn, choice, _identifier(label), linkedBy="approval",
                                        approvalId=(approval or {}).get("approvalId"))
            _progress(deps, task_id, f"Product {mpn} linked to catalog item {label} (chosen by the approver)")

    linked: dict[str, str] = {}
    skipped = True
    catalog: list[dict] | None = None
    for mpn, line in products:
        if mpn in proposals:
            skipped = False
            continue
        link = deps.store.get_product_link(mpn)
        if link:
            linked[mpn] = str(link["catalogItemId"])
            continue
        skipped = False
        if catalog is None:
            catalog = deps.connectwise.catalog_items()
        match = match_product(mpn, catalog, name=line.name)
        if match.chosen:
            label = next((o.label for o in match.options if o.id == match.chosen), match.chosen)
            item = next((i for i in catalog if str(i.get("id")) == str(match.chosen)), None)
            deps.store.put_product_link(mpn, match.chosen, _identifier(label), linkedBy="match",
                                        evidence=match.explanation, **_catalog_snapshot(deps, item))
            linked[mpn] = match.chosen
            _progress(deps, task_id, f"Product {mpn} linked to catalog item {label}: {match.explanation}")
            continue
        catalog_settings = _catalog_settings(deps)
        add = Option(ADD_TO_CONNECTWISE, f"Add {line.name} ({mpn}) to the ConnectWise catalog",
                     catalog_settings is not None,
                     "Creates a catalog item from the order's product and price"
                     if catalog_settings is not None else
                     "cwsync does not know where to put new products: set CATALOG_SUBCATEGORY_ID and CATALOG_TYPE_ID")
        options = [o.to_dict() for o in match.options] + [add.to_dict()]
        deps.store.set_task_attributes(str(task_id), pendingProduct=mpn)
        # A merely similar item is another product: listed, but adding the product is what is recommended.
        recommended = ADD_TO_CONNECTWISE if add.eligible else match.recommended
        return _needs_approval("product", f"Choose the ConnectWise product for {line.name} ({mpn}), "
                                          f"order {order.number}", match, options=options,
                               recommended=recommended, subject=mpn)
    return {"outcome": "linked", "products": linked, "newProducts": sorted(proposals),
            "skipped": skipped and not decision}


def _identifier(label: str | None) -> str | None:
    """The catalog identifier from an option label `IDENTIFIER: description`."""
    return label.split(":", 1)[0].strip() if label else None


# --- SelectAgreement -------------------------------------------------------------------------

def select_agreement(deps, task_id: str, decision: Mapping[str, Any] | None = None) -> dict:
    """Same company, Active, same billing cycle, same currency; remembered per subscription.

    A remembered agreement costs one request: that agreement alone (`AGREEMENT_FIELDS`),
    checked with the same rules; only when it no longer qualifies (or for a person's
    decision) are all of the company's agreements read, to offer them.
    """
    from cwsync.domain.agreements import select_agreement as choose

    task = _task(deps, task_id)
    order = _order(deps, task)
    company_id = task.get("companyId") or (deps.store.get_customer_link(order.customer_id) or {}).get("companyId")
    if not company_id:
        raise SyncFailed(f"Customer {order.customer_id} is not linked to a ConnectWise company yet")
    subscription = order.subscription_id
    remembered = (deps.store.get_subscription_link(subscription) or {}).get("agreementId") if subscription else None

    def match_among(agreements):
        return choose(agreements, company_id=company_id, period=order.billing_period, currency=order.currency,
                      remembered_id=remembered)

    match = None
    if remembered and not decision:
        only = _remembered_agreement(deps, remembered)
        if only is not None:
            match = match_among([only])
            if not match.chosen:
                match = None  # no longer eligible: offer every agreement of the company
    if match is None:
        match = match_among(deps.connectwise.agreements(company_id, fields=AGREEMENT_FIELDS))

    if decision:
        choice, approval = _decision(deps, task, decision, "agreement")
        if choice == CHECK_AGAIN:
            _progress(deps, task_id, "The approver asked to read the company's agreements again")
            return _agreement_outcome(deps, task, task_id, order, match, remembered)
        option = next((o for o in match.options if o.id == choice), None)
        if option is None or not option.eligible:
            why = option.reason if option else "it is not an agreement of this company"
            raise SyncFailed(f"Agreement {choice} cannot be used for order {order.number}: {why}")
        return _use_agreement(deps, task_id, subscription, option, source="approval",
                              why="chosen by the approver")

    return _agreement_outcome(deps, task, task_id, order, match, remembered)


# The option offered when no agreement of the company can take the order: fix ConnectWise, then read again.
CHECK_AGAIN = "check-again"


def _agreement_outcome(deps, task: Mapping[str, Any], task_id: str, order: Order, match, remembered) -> dict:
    """Use the chosen agreement, or ask a person: to choose among eligible ones, or, when none
    is eligible, to add or correct one in ConnectWise and have cwsync check again."""
    from cwsync.domain.matching import Option

    if match.chosen:
        option = next(o for o in match.options if o.id == match.chosen)
        source = "remembered" if str(remembered) == match.chosen else "match"
        return _use_agreement(deps, task_id, order.subscription_id, option, source=source, why=match.explanation,
                              skipped=source == "remembered")
    name = task.get("companyName") or _customer_name(deps, task, order)
    if any(o.eligible for o in match.options):
        return _needs_approval("agreement", f"Choose the ConnectWise agreement for {name} (order {order.number})",
                               match)
    again = Option(CHECK_AGAIN, "Check again: I have added or corrected an agreement in ConnectWise", True,
                   "Reads the company's agreements again; an ineligible agreement is never written to")
    return _needs_approval(
        "agreement", f"No ConnectWise agreement of {name} can take order {order.number}: add or correct one",
        match, options=[o.to_dict() for o in match.options] + [again.to_dict()], recommended=None,
        explanation=f"{match.explanation}. Reject to stop this task, or fix the agreement in ConnectWise "
                    "and choose Check again.")


# What the agreement rules (and the option labels) read; nothing else is fetched.
AGREEMENT_FIELDS = ("id", "name", "company/id", "agreementStatus", "cancelledFlag", "billingCycle/id",
                    "billingCycle/name", "currency/id", "currency/currencyCode")


def _remembered_agreement(deps, agreement_id: Any) -> dict | None:
    from cwsync.adapters.http import NotFound

    try:
        return deps.connectwise.agreement(_cw_id(agreement_id), AGREEMENT_FIELDS)
    except (NotFound, ValueError):  # deleted, or not a ConnectWise id: choose again among the company's
        return None


def _cw_id(value: Any) -> Any:
    """A ConnectWise id as the API has it (an int) when it is one."""
    text = str(value).strip()
    return int(text) if text.isdigit() else value


def _use_agreement(deps, task_id: str, subscription: str | None, option, *, source: str, why: str,
                   skipped: bool = False) -> dict:
    if subscription and source != "remembered":
        deps.store.put_subscription_link(subscription, option.id, linkedBy=source, agreementName=option.label)
    _progress(deps, task_id, f"Agreement {option.label}: {why}", agreementId=option.id, agreementName=option.label)
    result = {"outcome": "linked", "agreementId": option.id, "source": source}
    if skipped:
        result["skipped"] = True
    return result


# --- PlanChanges -----------------------------------------------------------------------------

# Task types whose plan reads the subscription's current additions (sales and billing plans do not).
NEEDS_ADDITIONS = {TaskType.CHANGE, TaskType.CANCELLATION, TaskType.RENEWAL}
# What the planner reads of an addition and of a catalog item.
ADDITION_FIELDS = ("id", "serialNumber", "product", "quantity", "unitPrice", "unitCost", "effectiveDate",
                   "cancelledDate", "billCustomer", "taxableFlag", "description", "agreementId")
CATALOG_FIELDS = ("id", "identifier", "description", "price", "cost", "taxableFlag", "inactiveFlag")
# Characters a subscription tag prefix may hold and still be sent as a `like` pattern whose
# matches include every tag with that prefix (others: every addition is read and filtered here).
_LIKE_SAFE = re.compile(r"[A-Za-z0-9 ._:/%*_-]*")


def plan_settings(settings):
    """The domain's PlanSettings from cwsync's settings (validated there too)."""
    from cwsync.domain.planning import PlanSettings

    return PlanSettings(price_source=settings.price_source, proration=settings.proration,
                        cost_field=settings.cost_field, price_field=settings.price_field,
                        tag_format=settings.tag_format, bill_customer=settings.bill_customer,
                        taxable=settings.taxable)


def _plan_context(deps, task: Mapping[str, Any], order: Order):
    """What the planner needs from ConnectWise, in as few requests as the task type allows.

    The agreement is the one `select_agreement` just checked (the plan only names its id), so
    it is not read again; the catalog items of every product come in one request; the
    subscription's additions are read only for task types that change existing ones, and
    only those carrying the subscription's tag prefix.
    """
    from cwsync.domain.planning import PlanContext

    agreement_id = task.get("agreementId")
    if not agreement_id:
        raise SyncFailed(f"Order {order.number} has no ConnectWise agreement selected yet")
    settings = plan_settings(deps.settings)
    task_type = _task_type(task)
    additions = _subscription_additions(deps, agreement_id, order, settings.tag_format) \
        if task_type in NEEDS_ADDITIONS else []
    return PlanContext(
        agreement={"id": _cw_id(agreement_id)},
        additions=additions,
        settings=settings,
        now=deps.now(),
        catalog_items=_linked_catalog_items(deps, order, task_type),
        catalog_proposals=_plain(task.get("catalogProposals") or {}),
    )


def _catalog_snapshot(deps, item: Mapping[str, Any] | None) -> dict:
    """What the planner reads of a catalog item, remembered on the product link with its time."""
    if not item:
        return {}
    return {"catalogItem": {k: item[k] for k in CATALOG_FIELDS if k in item},
            "snapshotAt": deps.now().isoformat()}


def _fresh_snapshot(deps, link: Mapping[str, Any]) -> dict | None:
    """The link's remembered catalog item while younger than CATALOG_SNAPSHOT_MAX_AGE_SECONDS."""
    snapshot, taken = link.get("catalogItem"), link.get("snapshotAt")
    if not snapshot or not taken:
        return None
    age = (deps.now() - datetime.fromisoformat(str(taken))).total_seconds()
    return _plain(snapshot) if 0 <= age < deps.settings.catalog_snapshot_max_age_seconds else None


def _linked_catalog_items(deps, order: Order, task_type: TaskType) -> dict[str, dict]:
    """{MPN: catalog item} of the order's linked products: remembered on the link while fresh,
    the rest read in one request and remembered again."""
    from cwsync.adapters.conditions import field

    links: dict[str, dict] = {}
    found: dict[str, dict] = {}
    for mpn, _line in _product_mpns(order, task_type):
        link = deps.store.get_product_link(mpn)
        if not link:
            continue
        snapshot = _fresh_snapshot(deps, link)
        if snapshot is not None:
            found[mpn] = snapshot
        else:
            links[mpn] = _plain(link)
    if not links:
        return found
    ids = sorted({_cw_id(link["catalogItemId"]) for link in links.values()}, key=str)
    items = {str(item.get("id")): item
             for item in deps.connectwise.catalog_items(field("id").in_(ids), fields=CATALOG_FIELDS)}
    missing = sorted(mpn for mpn, link in links.items() if str(link["catalogItemId"]) not in items)
    if missing:
        raise SyncFailed("The ConnectWise catalog item linked to " + ", ".join(
            f"{mpn} (#{links[mpn]['catalogItemId']})" for mpn in missing) + " no longer exists; link the product "
            "again (remove the product link) and sync the task again")
    for mpn, link in links.items():
        item = items[str(link["catalogItemId"])]
        kept = {k: v for k, v in link.items() if k not in ("mpn", "catalogItemId", "identifier", "linkedAt")}
        deps.store.put_product_link(mpn, link["catalogItemId"], link.get("identifier"),
                                    **{**kept, **_catalog_snapshot(deps, item)})
        found[mpn] = item
    return found


def _subscription_additions(deps, agreement_id: Any, order: Order, tag_format: str) -> list[dict]:
    """The agreement's additions that may carry a tag of the order's subscriptions, in one request."""
    from cwsync.adapters.conditions import any_of, field
    from cwsync.domain.operations import subscription_tag_prefix

    subscriptions = sorted({s for s in [order.subscription_id, *(l.subscription_id for l in order.lines)] if s})
    conditions = []
    for subscription in subscriptions:
        prefix = subscription_tag_prefix(tag_format, subscription)
        if not prefix or not _LIKE_SAFE.fullmatch(prefix):
            conditions = []
            break
        conditions.append(field("serialNumber").like(prefix + "*"))
        if prefix[-1:] in "-_:/ ":  # a tag typed by hand without the order part ("MP-SUB-1")
            conditions.append(field("serialNumber").eq(prefix[:-1]))
    return deps.connectwise.additions(_cw_id(agreement_id), any_of(*conditions), fields=ADDITION_FIELDS)


def plan_changes(deps, task_id: str, decision: Mapping[str, Any] | None = None) -> dict:
    """Plan the writes; ask for confirmation per APPROVAL_POLICY. With `decision`: the
    approver confirmed the stored plan (with their edits), which is what gets applied."""
    from cwsync.domain.planning import plan_task
    from cwsync.domain.policy import needs_confirmation

    task = _task(deps, task_id)
    if decision and task.get("plan"):
        _decision(deps, task, decision, "confirm")
        plan = apply_edits(_plain(task["plan"]), decision.get("changes") or {})
        edited = sum(len(v) for v in (decision.get("changes") or {}).values())
        _progress(deps, task_id, "Changes confirmed by the approver"
                                 + (f" with {edited} edit(s)" if edited else ""), plan=plan, confirmed=True)
        return {"outcome": "planned", "needsConfirmation": False, "confirmed": True,
                "operations": len(plan["operations"])}

    order = _order(deps, task)
    plan = plan_task(_task_type(task), order, _plan_context(deps, task, order)).to_dict()
    if plan.get("nothingToChange") or not plan.get("operations"):
        _progress(deps, task_id, nothing_to_change_reason(plan.get("summary")), plan=plan)
        return {"outcome": "nothing_to_change", "needsConfirmation": False, "summary": plan.get("summary")}

    needed, why = needs_confirmation(deps.settings.approval_policy, plan, deps.settings.approval_threshold)
    _progress(deps, task_id, f"Planned {len(plan['operations'])} change(s): {plan.get('summary')}", plan=plan)
    result = {"outcome": "planned", "needsConfirmation": needed, "operations": len(plan["operations"]),
              "reason": why}
    if needed:
        name = task.get("companyName") or _customer_name(deps, task, order)
        result["approval"] = {
            "kind": "confirm",
            "title": f"Confirm the ConnectWise changes for {name} (order {order.number})",
            "options": [{"id": APPLY, "label": "Apply these changes to ConnectWise", "eligible": True,
                         "reason": plan.get("summary") or ""}],
            "recommended": APPLY,
            "explanation": f"{why}. {plan.get('summary') or ''}".strip(),
        }
    return result


NOTHING_TO_CHANGE = "Nothing to change"


def nothing_to_change_reason(summary: str | None) -> str:
    """"Nothing to change: …" once, whether or not the plan's summary already says it."""
    text = (summary or "").strip()
    if not text:
        return f"{NOTHING_TO_CHANGE}: ConnectWise already matches the order"
    if text.casefold().startswith(NOTHING_TO_CHANGE.casefold()):
        return text
    return f"{NOTHING_TO_CHANGE}: {text}"


def apply_edits(plan: dict, changes: Mapping[str, Mapping[str, Any]]) -> dict:
    """The plan with the approver's field edits (already validated by the approvals API)."""
    if not changes:
        return plan
    for operation in plan.get("operations") or []:
        edits = changes.get(operation.get("key"))
        if not edits:
            continue
        fields = operation.setdefault("fields", {})
        notes = []
        for name, value in edits.items():
            notes.append(f"{name} {fields.get(name)} → {value}")
            fields[name] = str(value)
        operation["explanation"] = f"{operation.get('explanation') or ''} (changed by the approver: {', '.join(notes)})".strip()
        operation["edited"] = True
    return plan


# --- RequestApproval -------------------------------------------------------------------------

def request_approval(deps, task_id: str, approval: Mapping[str, Any], token: str) -> dict:
    """Store the approval with its task token, mark the task waiting, and send signed links.

    The token stays in DynamoDB: it is not logged, returned or put in any message.
    """
    from cwsync.approvals import KINDS, approval_url, new_approval_id
    from cwsync.adapters.store import format_time

    if not token:
        raise SyncFailed("request_approval was called without a task token")
    kind = approval.get("kind")
    if kind not in KINDS:
        raise SyncFailed(f"Unknown approval kind {kind!r}")
    task = _task(deps, task_id)
    order = _order(deps, task)
    now = deps.now()
    expires_at = now + timedelta(seconds=deps.settings.approval_timeout_seconds)
    expires = int(expires_at.timestamp())
    approval_id = new_approval_id()
    summary = task_summary(deps, task, order)
    record = {
        "approvalId": approval_id,
        "token": token,
        "taskId": str(task_id),
        "kind": kind,
        "title": approval.get("title") or kind,
        "explanation": approval.get("explanation") or "",
        "options": list(approval.get("options") or []),
        "recommended": approval.get("recommended"),
        "subject": approval.get("subject"),
        "task": summary,
        "plan": _plain(task.get("plan")) if kind == "confirm" else None,
        "status": "pending",
        "expiresAt": format_time(expires_at),
        "expires": expires,
    }
    deps.store.put_approval(record)
    deps.store.update_task(str(task_id), TaskStatus.WAITING_APPROVAL, f"Waiting for approval: {record['title']}",
                           approvalId=approval_id, approvalKind=kind, approvalExpiresAt=record["expiresAt"])
    base_url = deps.settings.need("approvals_base_url")
    link = approval_url(base_url, approval_id, expires, deps.signing_key)
    deps.notifier.publish(record["title"], approval_message(record), [("Open the approval page", link)])
    return {"outcome": "approval_requested", "approvalId": approval_id, "expiresAt": record["expiresAt"]}


def approval_message(record: Mapping[str, Any]) -> str:
    """The notification text for an approval, in a billing person's words."""
    from cwsync.approvals import format_time as when

    task = record.get("task") or {}
    lines = [record.get("title") or "", ""]
    lines.append(f"Order {task.get('orderNumber')} ({task.get('taskTypeLabel')}) for {task.get('customerName')} "
                 f"(marketplace customer {task.get('customerId')}).")
    if task.get("products"):
        lines.append("Products: " + "; ".join(task["products"]))
    if record.get("explanation"):
        lines += ["", f"Why you are asked: {record['explanation']}"]
    plan = record.get("plan") or {}
    if plan.get("operations"):
        lines += ["", "Planned changes in ConnectWise:"]
        lines += [f"  - {operation_text(op, plan.get('currency'))}" for op in plan["operations"]]
    elif record.get("options"):
        lines += ["", "Options:"]
        for number, option in enumerate(record["options"], 1):
            marks = " (recommended)" if option.get("id") == record.get("recommended") else ""
            reason = option.get("reason") or ""
            if not option.get("eligible", True):
                reason = f"cannot be chosen: {reason}"
            lines.append(f"  {number}. {option.get('label')}{marks}" + (f" — {reason}" if reason else ""))
    lines += ["", f"Open the link below to decide (nothing changes until you press a button). "
                  f"The link works until {when(record.get('expires'))}; after that the task is marked expired."]
    return "\n".join(lines)


def operation_text(operation: Mapping[str, Any], currency: str | None = None) -> str:
    from cwsync.approvals import ACTION_LABELS, format_date

    fields = operation.get("fields") or {}
    parts = [ACTION_LABELS.get(operation.get("action"), operation.get("action") or "")]
    if fields.get("description"):
        parts.append(str(fields["description"]))
    if fields.get("quantity") not in (None, ""):
        parts.append(f"quantity {fields['quantity']}")
    price = fields.get("unitPrice", fields.get("amount"))
    if price not in (None, ""):
        parts.append(f"{'unit price' if 'unitPrice' in fields else 'amount'} {price} {currency or ''}".rstrip())
    if fields.get("cancelledDate"):
        parts.append(f"cancelled from {format_date(fields['cancelledDate'])}")
    elif fields.get("effectiveDate"):
        parts.append(f"from {format_date(fields['effectiveDate'])}")
    if operation.get("action") == "cancel_addition" and operation.get("explanation"):
        parts.append(str(operation["explanation"]))
    return ": ".join(parts[:2]) + (", " + ", ".join(parts[2:]) if len(parts) > 2 else "")


# --- ApplyChanges ----------------------------------------------------------------------------

def apply_changes(deps, task_id: str) -> dict:
    """Write the (confirmed) plan to ConnectWise, idempotently; remember newly created products."""
    from cwsync.services.apply import Applier

    task = _task(deps, task_id)
    plan = _plain(task.get("plan") or {})
    if not plan.get("operations"):
        raise SyncFailed(f"Task {task_id} has no planned changes to apply")
    result = Applier(deps.connectwise, deps.store).apply(str(task_id), plan)
    changes = [dict(change) for change in result.changes]
    by_key = {change.get("key"): change for change in changes}
    for operation in plan["operations"]:
        if operation.get("action") == "create_catalog_item":
            _remember_created_product(deps, operation, by_key.get(operation["key"]) or {})
    written = sum(1 for change in changes if change.get("status") in ("created", "updated"))
    _progress(deps, task_id, f"Applied {len(plan['operations'])} change(s) to ConnectWise "
                             f"({written} written now, the rest found already done)",
              appliedChanges=[{k: c.get(k) for k in ("key", "status", "id", "summary")} for c in changes])
    return {"outcome": "applied", "operations": len(plan["operations"]), "written": written}


def _remember_created_product(deps, operation: Mapping[str, Any], change: Mapping[str, Any]) -> None:
    """A catalog item the sync created is linked like any other, so the next order skips the step."""
    fields = operation.get("fields") or {}
    identifier = (operation.get("match") or {}).get("identifier") or fields.get("identifier")
    mpn = fields.get("manufacturerPartNumber") or identifier
    item_id = change.get("id")
    if item_id is None and identifier:
        item_id = (deps.connectwise.find_catalog_item(identifier) or {}).get("id")
    if item_id is not None and mpn:
        deps.store.put_product_link(mpn, item_id, identifier, linkedBy="created")


# --- FinishTask ------------------------------------------------------------------------------

OUTCOMES = {
    "synced": TaskStatus.SYNCED,
    "nothing_to_change": TaskStatus.NOTHING_TO_CHANGE,
    "failed": TaskStatus.FAILED,
    "expired": TaskStatus.EXPIRED,
    "rejected": TaskStatus.REJECTED,
}
ADVICE = {
    "ConfigurationError": "Check the cwsync settings and secrets named above, then sync the task again.",
    "ExternalApiError": "ConnectWise or the marketplace refused the request; correct the record named above "
                        "and sync the task again.",
    "TransientError": "A temporary failure lasted through every retry; sync the task again later.",
    "InvalidOrder": "The marketplace order cannot be synced as it is; handle it by hand in ConnectWise.",
    "SyncFailed": "Fix what the message names, then sync the task again.",
}


def error_text(error: Mapping[str, Any] | None) -> tuple[str, str]:
    """(error name, message) from a state machine Catch `{"Error", "Cause"}`; no stack traces."""
    if not isinstance(error, Mapping):
        return "", ""
    name = str(error.get("Error") or "")
    cause = error.get("Cause")
    message = ""
    if isinstance(cause, str) and cause.strip():
        try:
            parsed = json.loads(cause)
        except ValueError:
            parsed = None
        if isinstance(parsed, Mapping):
            message = str(parsed.get("errorMessage") or "")
            name = str(parsed.get("errorType") or name)
        else:
            message = cause.strip()
    return name, message[:1000]


def finish_task(deps, task_id: str, outcome: str, error: Mapping[str, Any] | None = None) -> dict:
    """Record how the task ended, with a reason a person understands, and notify."""
    status = OUTCOMES.get(outcome)
    if status is None:
        raise SyncFailed(f"Unknown task outcome {outcome!r}")
    task = deps.store.get_task(str(task_id)) or {"taskId": str(task_id)}
    plan = _plain(task.get("plan") or {})
    name, message = error_text(error)
    who = task.get("companyName") or task.get("customerName") or f"customer {task.get('customerId') or '?'}"
    order = task.get("orderNumber") or task_id

    if status == TaskStatus.SYNCED:
        reason = f"Synced to ConnectWise: {plan.get('summary') or 'changes applied'}"
        subject = f"Synced: order {order} for {who}"
        body = [reason, "", "What changed in ConnectWise"
                + (f" (agreement {task.get('agreementName') or plan.get('agreementId')}):" if plan else ":")]
        body += [f"  - {operation_text(op, plan.get('currency'))}" for op in plan.get("operations") or []]
    elif status == TaskStatus.NOTHING_TO_CHANGE:
        reason = nothing_to_change_reason(plan.get("summary"))
        subject, body = None, []
    elif status == TaskStatus.EXPIRED:
        kind = task.get("approvalKind") or "approval"
        reason = f"Nobody answered the {kind} approval before it expired; nothing was changed in ConnectWise"
        subject = f"Expired: order {order} for {who}"
        body = [reason + ".", "Sync the task again when you are ready to decide."]
    elif status == TaskStatus.REJECTED:
        reason = f"Rejected by the approver: {message or 'no reason given'}"
        subject = f"Rejected: order {order} for {who}"
        body = [reason + ".", "Nothing was changed in ConnectWise."]
    else:
        reason = message or f"The sync stopped with {name or 'an unknown error'}"
        subject = f"Sync failed: order {order} for {who}"
        advice = ADVICE.get(name, "See the task history; sync the task again once the cause is fixed.")
        body = [f"The sync of order {order} failed: {reason}", "", f"What to do: {advice}"]

    from cwsync.adapters.store import TaskNotFound

    try:
        deps.store.update_task(str(task_id), status, reason, finishedAt=deps.now(),
                               **({"errorName": name} if name else {}))
        found = True
    except TaskNotFound:
        found = False
    if subject:
        deps.notifier.publish(subject, "\n".join(body))
    return {"outcome": str(status), "taskId": str(task_id), "reason": reason, "found": found,
            "notified": bool(subject)}
