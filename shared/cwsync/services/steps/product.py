"""LinkProduct: link each product of the order to a ConnectWise catalog item, one question at a time."""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.domain.models import Order
from cwsync.domain.records import CatalogItemRecord
from cwsync.errors import ConfigurationError, SyncFailed
from cwsync.services.steps.common import (asked_again, decided_by, decision_of, link_context, load_task_item,
                                          needs_approval, option_label, order_of, plain, progress, task_type_of)
from cwsync.vocabulary import ApprovalKind, LinkKind, LinkSource, OptionId, StepOutcome, TaskType

# Task types whose plan creates additions, so each product needs a catalog item.
NEEDS_PRODUCTS = {TaskType.SALES, TaskType.CHANGE, TaskType.RENEWAL, TaskType.RECONCILE}


def product_mpns(order: Order, task_type: TaskType) -> list[tuple[str, Any]]:
    """(MPN, line) of every product the plan will create additions for, in order, once each."""
    if task_type not in NEEDS_PRODUCTS:
        return []
    seen: dict[str, Any] = {}
    for line in order.recurring_lines:
        mpn = line.new_mpn or line.mpn
        seen.setdefault(mpn, line)
    return list(seen.items())


def catalog_settings(deps):
    from cwsync.domain.matching import CatalogSettings

    settings = deps.settings
    if not settings.catalog_subcategory_id or not settings.catalog_type_id:
        return None
    return CatalogSettings(subcategory_id=settings.catalog_subcategory_id, type_id=settings.catalog_type_id)


def catalog_snapshot(deps, item: CatalogItemRecord | None) -> dict:
    """What the planner reads of a catalog item, remembered on the product link with its time."""
    if item is None:
        return {}
    return {"catalogItem": item.to_snapshot(), "snapshotAt": deps.now().isoformat()}


def remembered_catalog_item(snapshot: Mapping[str, Any] | None) -> CatalogItemRecord | None:
    """The catalog item a product link remembers (`catalog_snapshot`), None when it holds none that reads."""
    from cwsync.adapters import cw_records
    from cwsync.errors import InvalidRecord

    if not snapshot:
        return None
    try:
        return cw_records.catalog_item(plain(snapshot))
    except InvalidRecord:  # unreadable: read the item from ConnectWise again
        return None


def link_product(deps, task_id: str, decision: Mapping[str, Any] | None = None) -> dict:
    """Link each product of the order to a catalog item (remembered), asking one product at a time.

    The product approval also offers "add the product to ConnectWise": choosing it stores
    a catalog item proposal on the task, and the plan then starts with a
    `create_catalog_item` operation; the link is remembered once the item exists.
    """
    from cwsync.domain.matching import match_product

    task = load_task_item(deps, task_id)
    order = order_of(deps, task)
    products = product_mpns(order, task_type_of(task))
    proposals = dict(task.get("catalogProposals") or {})

    if decision:
        choice, approval = decision_of(deps, task, decision, ApprovalKind.PRODUCT)
        mpn = (approval or {}).get("subject") or task.get("pendingProduct")
        line = dict(products).get(mpn)
        if line is None:
            raise SyncFailed(f"The product decision is for {mpn!r}, which is not a product of order {order.number}")
        if choice == OptionId.ADD_TO_CONNECTWISE:
            proposals[mpn] = _approved_item(deps, task_id, order, line, decision, approval)
            # How the created item's link is marked (apply remembers it once the item exists).
            marks = {**dict(task.get("catalogProposalBy") or {}),
                     mpn: {**decided_by(decision), "approvalId": (approval or {}).get("approvalId")}}
            progress(deps, task_id, f"Product {mpn} will be added to the ConnectWise catalog as "
                                    f"{proposals[mpn]['identifier']} (chosen by the approver)",
                     catalogProposals=proposals, catalogProposalBy=marks)
        else:
            label = option_label(approval, choice) or choice
            deps.store.put_product_link(mpn, choice, identifier_of(label), **decided_by(decision),
                                        approvalId=(approval or {}).get("approvalId"), productName=line.name,
                                        catalogName=label, **link_context(task_id, order))
            progress(deps, task_id, f"Product {mpn} linked to catalog item {label} (chosen by the approver)")

    linked: dict[str, str] = {}
    skipped = True
    catalog: list[CatalogItemRecord] | None = None
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
        undone = deps.store.link_undone(LinkKind.PRODUCT, mpn)
        if undone:
            match = asked_again(match, undone, "the catalog item")
        if match.chosen:
            label = next((o.label for o in match.options if o.id == match.chosen), match.chosen)
            item = next((i for i in catalog if str(i.id) == str(match.chosen)), None)
            deps.store.put_product_link(mpn, match.chosen, identifier_of(label), linkedBy=LinkSource.MATCH,
                                        automatic=True, evidence=match.explanation, basis=match.basis,
                                        productName=line.name, catalogName=label, **link_context(task_id, order),
                                        **catalog_snapshot(deps, item))
            linked[mpn] = match.chosen
            progress(deps, task_id, f"Product {mpn} linked to catalog item {label}: {match.explanation}")
            continue
        return _ask_for_product(deps, task_id, order, mpn, line, match, undone=bool(undone))
    return {"outcome": StepOutcome.LINKED, "products": linked, "newProducts": sorted(proposals),
            "skipped": skipped and not decision}


def _references(deps, task_id: str):
    """ConnectWise's categories, subcategories and product types, read once per attempt (kept on the task)."""
    from cwsync.domain.new_records import References, choices

    task = load_task_item(deps, task_id)
    kept = task.get("catalogReferences")
    if kept:
        return References.from_dict(plain(kept))
    raw = deps.connectwise.catalog_references()
    references = References({"category": choices(raw.get("category") or []),
                             "subcategory": choices(raw.get("subcategory") or [], parent="category"),
                             "type": choices(raw.get("type") or [])})
    deps.store.set_task_attributes(str(task_id), catalogReferences=references.to_dict())
    return references


def _proposal(deps, order: Order, line, references):
    """The catalog item proposed for a product: placed where the settings say, else ConnectWise's defaults."""
    from cwsync.domain.matching import CatalogSettings, propose_catalog_item

    settings = catalog_settings(deps)
    if settings is None:
        sub, kind = references.default("subcategory"), references.default("type")
        if sub is None or kind is None:
            return None
        settings = CatalogSettings(subcategory_id=sub.id, type_id=kind.id)
    return propose_catalog_item(line, order.charges, settings)


def _approved_item(deps, task_id: str, order: Order, line, decision: Mapping[str, Any], approval) -> dict:
    """The proposal with the approver's edits, checked again by the same rules as the page."""
    from cwsync.domain.new_records import References, catalog_item_body, propose_catalog_form

    references = References.from_dict(plain((approval or {}).get("references")))
    if not references.lists:
        references = _references(deps, task_id)
    base = _proposal(deps, order, line, references)
    if base is None:
        raise ConfigurationError("Adding a product to ConnectWise needs a subcategory and a product type: set "
                                 "CATALOG_SUBCATEGORY_ID and CATALOG_TYPE_ID, or add them in ConnectWise")
    edits = dict(((decision.get("changes") or {}).get("catalog")) or {})
    form = {**propose_catalog_form(base, references), **{k: v for k, v in edits.items() if v is not None}}
    body, problems = catalog_item_body(form, base, references, currency=order.currency)
    if problems:
        raise SyncFailed("The new catalog item cannot be used: " + "; ".join(p.message for p in problems))
    return body


def _ask_for_product(deps, task_id: str, order: Order, mpn: str, line, match, *, undone: bool = False) -> dict:
    """The product approval: the similar catalog items, and adding the product to ConnectWise with
    the new item's fields filled in from the order and ConnectWise's lists, editable on the page."""
    from cwsync.domain.matching import Option
    from cwsync.domain.new_records import propose_catalog_form

    references = _references(deps, task_id)
    proposal = _proposal(deps, order, line, references)
    add = Option(OptionId.ADD_TO_CONNECTWISE, f"Add {line.name} ({mpn}) to the ConnectWise catalog",
                 proposal is not None,
                 "Creates a catalog item from the order's product and price; its fields can be edited below"
                 if proposal is not None else
                 "cwsync does not know where to put new products: set CATALOG_SUBCATEGORY_ID and CATALOG_TYPE_ID")
    options = [o.to_dict() for o in match.options] + [add.to_dict()]
    deps.store.set_task_attributes(str(task_id), pendingProduct=mpn)
    # A merely similar item is another product: listed, but adding the product is what is recommended.
    # After a person undid the product's link nothing is recommended (`asked_again`): a person chooses.
    recommended = OptionId.ADD_TO_CONNECTWISE if add.eligible and not undone else match.recommended
    result = needs_approval(ApprovalKind.PRODUCT, f"Choose the ConnectWise product for {line.name} ({mpn}), "
                                                  f"order {order.number}", match, options=options,
                            recommended=recommended, subject=mpn)
    if proposal is not None:
        result["approval"]["proposal"] = propose_catalog_form(proposal, references)
        result["approval"]["references"] = references.to_dict()
    return result


def identifier_of(label: str | None) -> str | None:
    """The catalog identifier from an option label `IDENTIFIER: description`."""
    return label.split(":", 1)[0].strip() if label else None
