"""PlanChanges: plan the ConnectWise writes and ask for confirmation per APPROVAL_POLICY."""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.dates import parse_datetime
from cwsync.domain.models import Order
from cwsync.domain.records import CatalogItemRecord
from cwsync.errors import SyncFailed
from cwsync.notifications import SYNC_AGAIN, nothing_to_change_reason
from cwsync.services.steps.common import (customer_name, cw_id, load_task_item, order_of, plain, progress,
                                          task_type_of)
from cwsync.services.steps.product import catalog_snapshot, product_mpns, remembered_catalog_item
from cwsync.vocabulary import ApprovalKind, OptionId, StepOutcome, TaskType

# Task types whose plan reads the subscription's current additions (sales and billing plans do not).
NEEDS_ADDITIONS = {TaskType.CHANGE, TaskType.CANCELLATION, TaskType.RENEWAL}


def plan_changes(deps, task_id: str, decision: Mapping[str, Any] | None = None) -> dict:
    """Plan the writes; ask for confirmation per APPROVAL_POLICY. With `decision`: the
    approver confirmed the stored plan (with their edits), which is what gets applied."""
    from cwsync.domain.planning import plan_task
    from cwsync.domain.policy import needs_confirmation

    task = load_task_item(deps, task_id)
    if decision and task.get("plan"):
        from cwsync.services.steps.confirm import confirm_plan

        return confirm_plan(deps, task_id, task, decision)
    if (task.get("plan") or {}).get("operations") and task.get("applyStartedAt"):
        # Part of this plan may be in ConnectWise already (a stop between its writes): planning again from
        # what ConnectWise holds now would plan the rest wrongly, so the stored plan is completed as it is.
        progress(deps, task_id, "Completing the plan that was partly applied before the sync stopped")
        return {"outcome": StepOutcome.PLANNED, "needsConfirmation": False, "resumed": True,
                "operations": len(task["plan"]["operations"])}

    order = order_of(deps, task)
    if task_type_of(task) == TaskType.RECONCILE:
        from cwsync.services.reconcile import reconcile_plan, remember_written

        context = None  # a repair's tags are not the order's own: every lookup happens when it is applied
        plan = reconcile_plan(deps, task)  # read from both systems now: the repair as things stand
        if not plan.get("operations"):
            remember_written(deps, plan, [])  # edits kept as they are become what cwsync compares with
    else:
        read_at = deps.now()
        context = plan_context(deps, task, order)
        plan = plan_task(task_type_of(task), order, context).to_dict()
    if plan.get("nothingToChange") or not plan.get("operations"):
        progress(deps, task_id, nothing_to_change_reason(plan.get("summary")), plan=plan)
        return {"outcome": StepOutcome.NOTHING_TO_CHANGE, "needsConfirmation": False, "summary": plan.get("summary")}

    needed, why = needs_confirmation(deps.settings.approval_policy, plan, deps.settings.approval_threshold)
    if not needed and context is not None:  # applied next, while its read still holds
        from cwsync.adapters.connectwise import PLAN_ADDITION_FIELDS
        from cwsync.services.apply_known import READ_KEY, plan_read

        plan[READ_KEY] = plan_read(context.additions, plan["operations"], read_at, PLAN_ADDITION_FIELDS)
    progress(deps, task_id, f"Planned {len(plan['operations'])} change(s): {plan.get('summary')}", plan=plan)
    result = {"outcome": StepOutcome.PLANNED, "needsConfirmation": needed, "operations": len(plan["operations"]),
              "reason": why}
    if needed:
        name = task.get("companyName") or customer_name(deps, task, order)
        result["approval"] = {
            "kind": ApprovalKind.CONFIRM,
            "title": f"Confirm the ConnectWise changes for {name} (order {order.number})",
            "options": [{"id": OptionId.APPLY, "label": "Apply these changes to ConnectWise", "eligible": True,
                         "reason": plan.get("summary") or ""}],
            "recommended": OptionId.APPLY,
            "explanation": f"{why}. {plan.get('summary') or ''}".strip(),
        }
    return result


def plan_settings(settings):
    """The domain's PlanSettings from cwsync's settings (validated there too)."""
    from cwsync.domain.planning import PlanSettings

    return PlanSettings(price_source=settings.price_source, proration=settings.proration,
                        cost_field=settings.cost_field, price_field=settings.price_field,
                        tag_format=settings.tag_format, bill_customer=settings.bill_customer,
                        taxable=settings.taxable)


def plan_context(deps, task: Mapping[str, Any], order: Order):
    """What the planner needs from ConnectWise, in as few requests as the task type allows.

    The agreement is the one `select_agreement` just checked (the plan only names its id), so
    it is not read again; the catalog items of every product come in one request; the
    subscription's additions are read only for task types that change existing ones, and
    only those carrying the subscription's tag prefix.
    """
    from cwsync.domain.operations import subscription_tag_prefix
    from cwsync.domain.planning import PlanContext

    agreement_id = task.get("agreementId")
    if not agreement_id:
        raise SyncFailed(f"Order {order.number} has no ConnectWise agreement selected yet")
    settings = plan_settings(deps.settings)
    task_type = task_type_of(task)
    additions = []
    catalog_items = _linked_catalog_items(deps, order, task_type)
    if task_type in NEEDS_ADDITIONS:
        subscriptions = sorted({s for s in [order.subscription_id, *(l.subscription_id for l in order.lines)] if s})
        prefixes = [subscription_tag_prefix(settings.tag_format, s) for s in subscriptions]
        # The current product of each line too, so additions of it typed by hand (no tag) are found.
        catalog_items = {**_current_products(deps, order, catalog_items), **catalog_items}
        product_ids = sorted({item.id for item in catalog_items.values()}, key=str)
        additions = deps.connectwise.subscription_additions(cw_id(agreement_id), prefixes, product_ids)
    return PlanContext(
        agreement={"id": cw_id(agreement_id)},
        additions=additions,
        settings=settings,
        now=deps.now(),
        catalog_items=catalog_items,
        catalog_proposals=plain(task.get("catalogProposals") or {}),
    )


def _current_products(deps, order: Order, known: Mapping[str, Any]) -> dict[str, CatalogItemRecord]:
    """{MPN: item (its id)} of the lines' current products not in `known`: by product link, else an exact
    catalog match."""
    from cwsync.domain.matching import match_product

    found: dict[str, CatalogItemRecord] = {}
    catalog = None
    for line in order.lines:
        if line.mpn in known or line.mpn in found:
            continue
        link = deps.store.get_product_link(line.mpn)
        if link:
            found[line.mpn] = CatalogItemRecord(id=cw_id(plain(link["catalogItemId"])))
            continue
        catalog = deps.connectwise.catalog_items() if catalog is None else catalog
        chosen = match_product(line.mpn, catalog, name=line.name).chosen
        if chosen is not None:
            found[line.mpn] = CatalogItemRecord(id=cw_id(chosen))
    return found


def _fresh_snapshot(deps, link: Mapping[str, Any]) -> CatalogItemRecord | None:
    """The link's remembered catalog item while younger than CATALOG_SNAPSHOT_MAX_AGE_SECONDS."""
    snapshot, taken = link.get("catalogItem"), link.get("snapshotAt")
    if not snapshot or not taken:
        return None
    age = (deps.now() - parse_datetime(str(taken))).total_seconds()
    return remembered_catalog_item(snapshot) if 0 <= age < deps.settings.catalog_snapshot_max_age_seconds else None


def _linked_catalog_items(deps, order: Order, task_type: TaskType) -> dict[str, CatalogItemRecord]:
    """{MPN: catalog item} of the order's linked products: remembered on the link while fresh,
    the rest read in one request and remembered again."""
    links: dict[str, dict] = {}
    found: dict[str, CatalogItemRecord] = {}
    for mpn, _line in product_mpns(order, task_type):
        link = deps.store.get_product_link(mpn)
        if not link:
            continue
        snapshot = _fresh_snapshot(deps, link)
        if snapshot is not None:
            found[mpn] = snapshot
        else:
            links[mpn] = plain(link)
    if not links:
        return found
    ids = sorted({cw_id(link["catalogItemId"]) for link in links.values()}, key=str)
    items = {str(item.id): item for item in deps.connectwise.catalog_items_by_id(ids)}
    missing = sorted(mpn for mpn, link in links.items() if str(link["catalogItemId"]) not in items)
    if missing:
        raise SyncFailed("The ConnectWise catalog item linked to " + ", ".join(
            f"{mpn} (#{links[mpn]['catalogItemId']})" for mpn in missing) + " no longer exists in ConnectWise: "
            "restore it there, or undo the product's link on the dashboard's Links page (the next order then "
            "asks which catalog item it is), then " + SYNC_AGAIN)
    for mpn, link in links.items():
        item = items[str(link["catalogItemId"])]
        # Only the snapshot is refreshed, on the link as it was read: an Undo meanwhile is not undone.
        deps.store.refresh_product_snapshot(mpn, linked_at=link.get("linkedAt"), **catalog_snapshot(deps, item))
        found[mpn] = item
    return found
