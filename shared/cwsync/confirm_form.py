"""The confirm page's form: what an approver may edit on each planned write, the checks an
edit must pass (all of them at once, each named in plain words next to its field), and the
amounts the page shows (setup vs recurring per billing period, and what changes compared
with today's agreement) computed from the plan with the edits applied.

The server is authoritative: the page's script only previews the same sums.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from cwsync.domain.operations import ADJUSTMENT_DESCRIPTION_MAX
from cwsync.vocabulary import EDITABLE_FIELDS, NUMERIC_FIELDS, Action, BillCustomer, PriceOrigin

DATE_FIELDS = frozenset({"effectiveDate", "cancelledDate"})
FLAG_FIELDS = frozenset({"taxableFlag"})
BILL_CUSTOMER = tuple(BillCustomer)
BILL_CUSTOMER_LABELS = {BillCustomer.BILLABLE: "Billable", BillCustomer.DO_NOT_BILL: "Do not bill",
                        BillCustomer.NO_CHARGE: "No charge"}
PRICE_SOURCE_LABELS = {PriceOrigin.MARKETPLACE: "Marketplace order", PriceOrigin.AGREEMENT: "Current ConnectWise addition",
                       PriceOrigin.CATALOG: "ConnectWise catalog"}
FIELD_LABELS = {"description": "Description", "quantity": "Quantity", "unitPrice": "Unit price",
                "unitCost": "Unit cost", "priceSource": "Price source", "effectiveDate": "Effective date",
                "cancelledDate": "Cancel date", "billCustomer": "Bill customer", "taxableFlag": "Taxable",
                "amount": "Amount", "identifier": "Identifier", "customerDescription": "Customer description",
                "price": "Price", "cost": "Cost"}
# ConnectWise's limits (contract files / docs): an addition's description has none stated, so
# the addition's invoiceDescription limit (6000) applies; catalog item description 60, identifier 75.
TEXT_LIMITS = {(Action.CREATE_ADDITION, "description"): 6000, (Action.UPDATE_ADDITION, "description"): 6000,
               (Action.CREATE_CATALOG_ITEM, "description"): 60, (Action.CREATE_CATALOG_ITEM, "identifier"): 75,
               (Action.CREATE_CATALOG_ITEM, "customerDescription"): 6000}


@dataclass(frozen=True)
class FieldProblem:
    key: str      # the operation key
    field: str    # the form field
    message: str  # a sentence naming the row and the field in plain words


def text_limit(operation: Mapping[str, Any], field: str) -> int:
    if operation.get("action") == Action.CREATE_ADJUSTMENT and field == "description":
        tag = str((operation.get("match") or {}).get("tag") or "")
        return ADJUSTMENT_DESCRIPTION_MAX - len(tag) - 1 if tag else ADJUSTMENT_DESCRIPTION_MAX
    return TEXT_LIMITS.get((str(operation.get("action")), field), 255)


def product_key(operation: Mapping[str, Any]) -> str | None:
    """The product an addition row bills, as MAX_QUANTITY_BY_PRODUCT names it: the marketplace
    MPN the plan keeps with the row; for rows planned without one, the catalog identifier."""
    if operation.get("mpn"):
        return str(operation["mpn"])
    product = (operation.get("fields") or {}).get("product")
    return str(product["identifier"]) if isinstance(product, Mapping) and product.get("identifier") else None


def day(value: Any) -> str:
    """'2026-02-15' from a plan datetime string (the date input's value)."""
    text = "" if value is None else str(value)
    return text[:10] if len(text) >= 10 and text[4:5] == "-" else text


def _as_plan_datetime(text: str) -> datetime:
    return datetime.strptime(text[:10], "%Y-%m-%d").replace(tzinfo=timezone.utc)


def row_name(number: int, fields: Mapping[str, Any]) -> str:
    described = str(fields.get("description") or "")
    if len(described) > 60:
        described = described[:57].rstrip() + "…"
    return f"row {number}" + (f" ({described})" if described else "")


def validate(plan: Mapping[str, Any], changes: Mapping[str, Any], limits: Any = None
             ) -> tuple[dict[str, dict[str, Any]], list[FieldProblem]]:
    """(edits that differ from the plan, typed as the plan holds them; every problem found).

    Raises ValueError only for shapes no page sends (an unknown operation or field).
    """
    from cwsync.domain.plausibility import Limits, edit_problems

    limits = limits or Limits()
    operations = {op.get("key"): op for op in plan.get("operations") or []}
    rows = {key: number for number, key in enumerate(operations, 1)}
    result: dict[str, dict[str, Any]] = {}
    problems: list[FieldProblem] = []
    for key, edits in changes.items():
        operation = operations.get(key)
        if operation is None:
            raise ValueError(f"The change names an operation {key!r} that is not in the plan.")
        if not isinstance(edits, Mapping):
            raise ValueError(f"The change for {key!r} should be an object of fields.")
        action = str(operation.get("action"))
        allowed = EDITABLE_FIELDS.get(action, ())
        fields = operation.get("fields") or {}
        where_row = row_name(rows[key], fields)
        accepted: dict[str, Any] = {}
        for name, value in edits.items():
            if name not in allowed:
                raise ValueError(f"{name!r} cannot be changed on a {action} operation.")
            text = "" if value is None else str(value).strip()
            where = f"{FIELD_LABELS.get(name, name)} of {where_row}"

            def problem(message: str) -> None:
                problems.append(FieldProblem(key, name, message))

            if name == "priceSource":
                options = (operation.get("prices") or {}).get("options") or {}
                if text and text != (operation.get("prices") or {}).get("chosen"):
                    if text not in options:
                        problem(f"{where}: choose one of the listed sources")
                    else:
                        accepted["priceSource"] = text
                continue
            current = fields.get(name)
            if name in FLAG_FIELDS:
                if text.lower() not in ("true", "false"):
                    problem(f"{where} should be ticked or not")
                    continue
                flag = text.lower() == "true"
                if flag != bool(current):
                    accepted[name] = flag
                continue
            if name in DATE_FIELDS:
                if not text or text == day(current):
                    continue
                try:
                    when = _as_plan_datetime(text)
                except ValueError:
                    problem(f"{where} should be a date like 2026-02-15")
                    continue
                accepted[name] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
                continue
            if text == ("" if current is None else str(current)):
                continue
            if name == "billCustomer":
                if text not in BILL_CUSTOMER:
                    problem(f"{where} should be one of: " + ", ".join(BILL_CUSTOMER_LABELS.values()))
                else:
                    accepted[name] = text
                continue
            if name in NUMERIC_FIELDS:
                found = edit_problems(action, name, text, currency=plan.get("currency"), current=current,
                                      mpn=product_key(operation), where=where, limits=limits)
                if found:
                    problems.extend(FieldProblem(key, name, p.reason) for p in found)
                    continue
                accepted[name] = f"{Decimal(text):f}"
                continue
            limit = text_limit(operation, name)
            if not text and name in ("description", "identifier"):
                problem(f"{where} cannot be empty")
            elif len(text) > limit:
                problem(f"{where} is {len(text)} characters long; ConnectWise keeps at most {limit}")
            else:
                accepted[name] = text
        _resolve_price_source(operation, accepted)
        _check_dates(operation, accepted, where_row, limits, problems)
        if accepted:
            result[key] = accepted
    return result, problems


def _resolve_price_source(operation: Mapping[str, Any], accepted: dict[str, Any]) -> None:
    """A chosen source sets unit price and cost, except a value the approver typed differently."""
    source = accepted.pop("priceSource", None)
    if source is None:
        return
    option = ((operation.get("prices") or {}).get("options") or {}).get(source) or {}
    for name in ("unitPrice", "unitCost"):
        if name not in accepted and option.get(name) is not None:
            if str(option[name]) != str((operation.get("fields") or {}).get(name)):
                accepted[name] = str(option[name])


def _check_dates(operation: Mapping[str, Any], accepted: Mapping[str, Any], where_row: str, limits,
                 problems: list[FieldProblem]) -> None:
    fields = operation.get("fields") or {}
    key = str(operation.get("key"))
    effective = accepted.get("effectiveDate") or fields.get("effectiveDate")
    cancelled = accepted.get("cancelledDate") or fields.get("cancelledDate")
    if effective and cancelled and day(cancelled) < day(effective):
        problems.append(FieldProblem(key, "cancelledDate", f"Cancel date of {where_row} is before its effective "
                                                          f"date {day(effective)}"))
    planned = fields.get("effectiveDate")
    window = getattr(limits, "effective_date_window_days", None)
    if "effectiveDate" in accepted and planned and window:
        moved = abs(_as_plan_datetime(accepted["effectiveDate"]) - _as_plan_datetime(str(planned)))
        if moved > timedelta(days=window):
            problems.append(FieldProblem(key, "effectiveDate",
                                         f"Effective date of {where_row} is more than {window} days from the "
                                         f"planned {day(planned)} (setting EFFECTIVE_DATE_WINDOW_DAYS)"))


# --- what the page shows -----------------------------------------------------------------------

def _number(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def amounts(plan: Mapping[str, Any], edits: Mapping[str, Mapping[str, Any]] | None = None) -> dict:
    """Recurring (per billing period) and one-time (setup) money, before and after, with edits."""
    recurring_after = recurring_removed = one_time = Decimal(0)
    for op in plan.get("operations") or []:
        fields = {**(op.get("fields") or {}), **_typed((edits or {}).get(op.get("key")) or {}, op)}
        action = op.get("action")
        if action == Action.CREATE_ADDITION and fields.get("billCustomer", BillCustomer.BILLABLE) == BillCustomer.BILLABLE:
            recurring_after += _number(fields.get("quantity")) * _number(fields.get("unitPrice"))
        elif action == Action.CANCEL_ADDITION:
            before = op.get("before") or {}
            recurring_removed += _number(before.get("quantity")) * _number(before.get("unitPrice"))
        elif action == Action.UPDATE_ADDITION and patched(op):
            before = op["before"]  # a patched quantity or price: today's ends, the patched one bills from now
            recurring_removed += _number(before.get("quantity")) * _number(before.get("unitPrice"))
            recurring_after += _number(fields.get("quantity", before.get("quantity"))) * \
                _number(fields.get("unitPrice", before.get("unitPrice")))
        elif action == Action.CREATE_ADJUSTMENT:
            one_time += _number(fields.get("amount"))
    return {"recurringAdded": recurring_after, "recurringRemoved": recurring_removed,
            "recurringChange": recurring_after - recurring_removed, "oneTime": one_time}


def patched(operation: Mapping[str, Any]) -> dict | None:
    """{"quantity", "unitPrice"} billed today by an addition the operation patches the quantity or
    price of (a billable one), else None."""
    before = operation.get("before") or {}
    fields = operation.get("fields") or {}
    if operation.get("action") != Action.UPDATE_ADDITION or not {"quantity", "unitPrice"} & set(fields) \
            or before.get("quantity") is None or before.get("unitPrice") is None \
            or before.get("billCustomer", BillCustomer.BILLABLE) != BillCustomer.BILLABLE:
        return None
    return {"quantity": str(before["quantity"]), "unitPrice": str(before["unitPrice"])}


def _typed(edits: Mapping[str, Any], operation: Mapping[str, Any]) -> dict:
    """Raw form values as numbers where they parse, with a chosen price source applied."""
    values = {k: v for k, v in edits.items() if k != "priceSource"}
    source = edits.get("priceSource")
    option = ((operation.get("prices") or {}).get("options") or {}).get(source) if source else None
    if option and source != (operation.get("prices") or {}).get("chosen"):
        for name in ("unitPrice", "unitCost"):
            typed = str(values.get(name, "")).strip()
            if not typed or typed == str((operation.get("fields") or {}).get(name)):
                values[name] = option.get(name)
    return values


def operation_rows(plan: Mapping[str, Any], edits: Mapping[str, Mapping[str, Any]] | None = None,
                   problems: list[FieldProblem] | None = None, action_labels: Mapping[str, str] | None = None
                   ) -> list[dict]:
    """One entry per planned write, with an input per editable field (edited values kept)."""
    errors: dict[tuple[str, str], list[str]] = {}
    for found in problems or []:
        errors.setdefault((found.key, found.field), []).append(found.message)
    rows = []
    for number, op in enumerate(plan.get("operations") or [], 1):
        key, action = str(op.get("key")), str(op.get("action"))
        fields = op.get("fields") or {}
        typed = (edits or {}).get(key) or {}
        prices = op.get("prices") or {}
        inputs = []
        for name in EDITABLE_FIELDS.get(action, ()):
            if name == "priceSource":
                if len(prices.get("options") or {}) < 1:
                    continue
            elif name not in fields and not (action == Action.CREATE_ADDITION and name == "cancelledDate"):
                continue
            value = typed.get(name, prices.get("chosen") if name == "priceSource" else fields.get(name))
            entry = {"name": name, "label": FIELD_LABELS.get(name, name), "id": f"f{number}-{name}",
                     "form": f"changes.{key}.{name}", "errors": errors.get((key, name), [])}
            if name == "priceSource":
                entry.update(kind="radio", value=str(value or ""), options=[
                    {"value": source, "label": PRICE_SOURCE_LABELS.get(source, source),
                     "unitPrice": amounts_.get("unitPrice"), "unitCost": amounts_.get("unitCost")}
                    for source, amounts_ in (prices.get("options") or {}).items()])
            elif name in FLAG_FIELDS:
                entry.update(kind="checkbox", value=str(value).lower() in ("true", "1", "yes"))
            elif name in DATE_FIELDS:
                entry.update(kind="date", value=day(value))
            elif name == "billCustomer":
                entry.update(kind="select", value=str(value or BillCustomer.BILLABLE),
                             options=[{"value": v, "label": BILL_CUSTOMER_LABELS[v]} for v in BILL_CUSTOMER])
            elif name in NUMERIC_FIELDS:
                entry.update(kind="number", value="" if value is None else str(value))
            else:
                entry.update(kind="text", value="" if value is None else str(value), maxlength=text_limit(op, name),
                             long=text_limit(op, name) > 255)
            inputs.append(entry)
        before = [{"label": FIELD_LABELS.get(k, k), "value": day(v) if k in DATE_FIELDS else
                   ("yes" if v is True else "no" if v is False else v)}
                  for k, v in (op.get("before") or {}).items() if k in FIELD_LABELS]
        rows.append({"number": number, "key": key, "action": action, "patched": patched(op),
                     "label": (action_labels or {}).get(action, action), "title": row_name(number, fields),
                     "explanation": op.get("explanation") or "", "inputs": inputs, "before": before,
                     "fixed": {"tag": fields.get("serialNumber") or (op.get("match") or {}).get("tag")},
                     "editable": bool(inputs)})
    return rows
