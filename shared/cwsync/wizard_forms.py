"""The customer and product pages' own parts: the company search, and the forms that create a
company or a catalog item in ConnectWise (filled in, editable, checked with every problem at its
field). The rules are `cwsync.domain.new_records`; the step that writes checks them again.

Form names: `changes.company.<field>` and `changes.catalog.<field>`; a company found by search is
chosen with `choice=<company id>` (sent on as the `found-company` option with its id).
"""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.confirm_form import FieldProblem
from cwsync.domain.new_records import (CATALOG_LABELS, CATALOG_LIMITS, COMPANY_LABELS, COMPANY_LIMITS, References,
                                       catalog_item_body, company_body)
from cwsync.vocabulary import ApprovalKind, OptionId

FORMS = {ApprovalKind.CUSTOMER: ("company", OptionId.CREATE_COMPANY),
         ApprovalKind.PRODUCT: ("catalog", OptionId.ADD_TO_CONNECTWISE)}
COMPANY_FIELDS = ("identifier", "name", "addressLine1", "addressLine2", "city", "state", "zip", "country",
                  "phoneNumber", "website", "type", "status")
CATALOG_FIELDS = ("identifier", "description", "customerDescription", "price", "cost", "category", "subcategory",
                  "type", "taxableFlag")
SELECTS = {"country", "type", "status", "category", "subcategory"}
MAX_QUERY = 50


def search_view(connectwise: Any, text: str | None) -> dict | None:
    """What the page lists for a search: every matching company, inactive ones not choosable."""
    query = " ".join(str(text or "").split())[:MAX_QUERY]
    if not query:
        return None
    found = []
    for record in connectwise.search_companies(query):
        inactive = record.inactive
        found.append({"id": str(record.id), "label": record.label, "eligible": not inactive,
                      "reason": f"Its status in ConnectWise is {inactive}" if inactive else "Found by your search"})
    return {"query": query, "results": found}


def found_choice(approval: Mapping[str, Any], body: dict) -> dict:
    """A company id chosen from the search becomes the `found-company` option carrying that id."""
    choice = body.get("choice")
    offered = {str(o.get("id")) for o in approval.get("options") or []}
    if (approval.get("kind") == ApprovalKind.CUSTOMER and isinstance(choice, str) and choice not in offered
            and choice.isascii() and choice.isdigit() and OptionId.FOUND_COMPANY in offered):
        changes = dict(body.get("changes") or {})
        changes["company"] = {"id": choice}
        return {**body, "choice": OptionId.FOUND_COMPANY, "changes": changes}
    return body


def new_record_changes(approval: Mapping[str, Any], choice: str, changes: Mapping[str, Any], connectwise: Any,
                       limits: Any = None) -> dict:
    """The changes a customer or product decision sends on; InvalidEdits lists every problem.
    `connectwise`: the port, or a function returning it (built only when the choice needs it)."""
    from cwsync.approvals import BadRequest, InvalidEdits

    needs_connectwise = choice == OptionId.FOUND_COMPANY or (
        choice in (OptionId.CREATE_COMPANY, OptionId.ADD_TO_CONNECTWISE) and approval.get("proposal"))
    if not needs_connectwise:
        return {}
    if connectwise is None:
        raise BadRequest("This choice is checked in ConnectWise, which cannot be reached from here.")
    accepted, problems = check_new_record(approval, choice, changes,
                                          connectwise() if callable(connectwise) else connectwise, limits)
    if problems:
        raise InvalidEdits(problems, changes)
    return accepted


def check_new_record(approval: Mapping[str, Any], choice: str, changes: Mapping[str, Any], connectwise: Any,
                     limits: Any = None) -> tuple[dict, list[FieldProblem]]:
    """The changes to send on for a customer or product decision, and every problem with them.

    A company found by search must exist and be active; a new company or catalog item must follow
    the rules and its identifier must not be taken already in ConnectWise.
    """
    kind = approval.get("kind")
    if kind == ApprovalKind.CUSTOMER and choice == OptionId.FOUND_COMPANY:
        return _found_company(changes, connectwise)
    form, creating = FORMS.get(kind, (None, None))
    if form is None or choice != creating:
        return {}, []
    fields = {k: v for k, v in dict((changes or {}).get(form) or {}).items() if k in _fields(form)}
    fields = {**dict(approval.get("proposal") or {}), **fields}
    references = References.from_dict(approval.get("references"))
    if form == "company":
        body, problems = company_body(fields, references)
        taken = connectwise.find_company(body["identifier"]) if body.get("identifier") and not problems else None
        what = "company"
    else:
        currency = (approval.get("task") or {}).get("currency")
        digits = getattr(limits, "max_price_digits", 9)
        body, problems = catalog_item_body(fields, {}, references, currency=currency, max_digits=digits)
        taken = connectwise.find_catalog_item(body["identifier"]) if body.get("identifier") and not problems else None
        what = "catalog item"
    if taken:
        problems.append(_taken(what, taken))
    return {form: fields}, [FieldProblem(form, p.field, p.message) for p in problems]


def _taken(what: str, record: Mapping[str, Any]) -> Any:
    from cwsync.domain.new_records import Problem

    name = record.name if what == "company" else record.description  # a CompanyRecord or CatalogItemRecord
    identifier, record_id = record.identifier, record.id
    hint = "search for it and choose it" if what == "company" else "choose it in the list above"
    return Problem("identifier", f"Identifier {identifier} is already used by ConnectWise {what} "
                                 f"{name} (record {record_id}); give another one, or {hint}")


def _found_company(changes: Mapping[str, Any], connectwise: Any) -> tuple[dict, list[FieldProblem]]:
    from cwsync.errors import InvalidRecord, NotFound

    company_id = str(((changes or {}).get("company") or {}).get("id") or "")
    problem = None
    if not (company_id.isascii() and company_id.isdigit()):
        problem = "Choose a company from the search results"
    else:
        try:
            record = connectwise.company(int(company_id))
        except (NotFound, InvalidRecord):
            problem = f"ConnectWise has no usable company {company_id} (it may have been deleted); search again"
        else:
            if record.deleted or record.inactive:
                problem = f"{record.name} is {record.inactive or 'deleted'} in ConnectWise; choose an active company"
            else:
                return {"company": {"id": str(record.id), "name": record.name}}, []
    return {}, [FieldProblem("search", "query", problem)]


def _fields(form: str) -> tuple[str, ...]:
    return COMPANY_FIELDS if form == "company" else CATALOG_FIELDS


def form_view(approval: Mapping[str, Any], edits: Mapping[str, Any] | None = None,
              problems: list | None = None) -> dict | None:
    """The create-company or add-to-catalog form: each field with its label, value, limit, choices
    and problems (the values the approver sent when a submission was refused)."""
    form, creating = FORMS.get(approval.get("kind"), (None, None))
    proposal = approval.get("proposal")
    if form is None or not isinstance(proposal, Mapping):
        return None
    sent = dict((edits or {}).get(form) or {})
    references = References.from_dict(approval.get("references"))
    labels, limits = (COMPANY_LABELS, COMPANY_LIMITS) if form == "company" else (CATALOG_LABELS, CATALOG_LIMITS)
    rows = []
    for name in _fields(form):
        value = str(sent.get(name, proposal.get(name, "")) or "")
        row = {"name": name, "form": f"changes.{form}.{name}", "id": f"{form}-{name}", "label": labels[name],
               "value": value, "maxlength": limits.get(name), "kind": "text",
               "errors": [p.message for p in problems or [] if p.key == form and p.field == name]}
        if name in SELECTS:
            row["kind"] = "select"
            row["options"] = [{"value": str(c.id), "label": c.name, "parent": c.parent}
                              for c in references.of(name)]
            if name == "country":
                row["options"].insert(0, {"value": "", "label": "(none)", "parent": None})
        elif name == "taxableFlag":
            row["kind"] = "checkbox"
            row["value"] = value.strip().casefold() in ("true", "on", "1", "yes")
        elif name in ("price", "cost"):
            row["kind"] = "number"
        elif name == "customerDescription":
            row["long"] = True
        rows.append(row)
    return {"form": form, "option": str(creating), "fields": rows}


def chosen_label(approval: Mapping[str, Any], decision: Mapping[str, Any]) -> str:
    """What the approver chose, in words: the option's label, or the company found by search."""
    choice = str(decision.get("choice"))
    changes = decision.get("changes") or {}
    if choice == OptionId.FOUND_COMPANY and (changes.get("company") or {}).get("name"):
        return f"ConnectWise company {changes['company']['name']}"
    if choice == OptionId.CREATE_COMPANY and (changes.get("company") or {}).get("name"):
        return f"Create {changes['company']['name']} ({changes['company'].get('identifier')}) in ConnectWise"
    if choice == OptionId.ADD_TO_CONNECTWISE and (changes.get("catalog") or {}).get("identifier"):
        return f"Add {changes['catalog']['identifier']} to the ConnectWise catalog"
    return next((str(o.get("label")) for o in approval.get("options") or [] if str(o.get("id")) == choice), choice)
