"""Apply a plan's operations to ConnectWise so that no crash or retry ever duplicates or skips one.

For each operation, in plan order:
1. `store.get_applied(task_id, key)` → already done by an earlier run: skip it.
2. Look for the result in ConnectWise by its ownership tag (addition `serialNumber`, the
   tag leading an adjustment's description — kept in `match`, apart from the editable text —
   catalog `identifier`; a cancellation is done when the addition
   has a `cancelledDate`) → found: the write happened before a crash; record it, skip it.
3. Write. A `TransientError` from a write may hide a committed write ("commit then fail"),
   so the tag is looked up again before each further attempt (at most `write_attempts`).
4. `store.record_applied(task_id, key, change)`.

A crash anywhere leaves either no write (step 3 runs again) or a write that step 2 finds.

With `known` (`cwsync.services.apply_known`: the task's first apply attempt, moments after its
plan read ConnectWise), step 2 asks nothing the plan's read already answered: a tag of the
plan is on no record yet, and the additions it cancels or updates are as read. A failed write
is always followed by its lookup.

Operations may refer to objects an earlier operation of the same plan creates:
`"product": {"ref": "<op key>"}` takes that operation's id, and `"product": {"identifier": "X"}`
(no id) takes the catalog item created or found for identifier X, else looks it up.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Mapping

from cwsync.adapters.store import to_plain
from cwsync.dates import parse_datetime
from cwsync.retries import WRITE_ATTEMPTS
from cwsync.domain.operations import adjustment_description
from cwsync.domain.records import AdditionRecord, AdjustmentRecord, CatalogItemRecord
from cwsync.services.apply_known import KnownAnswers
from cwsync.errors import ExternalApiError, NotFound, SyncFailed, TransientError
from cwsync.vocabulary import NUMERIC_FIELDS, Action, ChangeStatus

log = logging.getLogger(__name__)

CREATED, ALREADY_PRESENT, SKIPPED, UPDATED = (ChangeStatus.CREATED, ChangeStatus.ALREADY_PRESENT, ChangeStatus.SKIPPED,
                                              ChangeStatus.UPDATED)
# The ConnectWise addition field that refers to a catalog item (planned by identifier, written by id).
PRODUCT_FIELD = "product"
DEFAULT_WRITE_ATTEMPTS = WRITE_ATTEMPTS  # the retry budget: cwsync.retries


@dataclass
class ApplyResult:
    task_id: str
    changes: list[dict] = field(default_factory=list)


class Applier:
    """`Applier(connectwise, store).apply(task_id, plan_dict)`; see the module docstring."""

    def __init__(self, connectwise: Any, store: Any, *, write_attempts: int = DEFAULT_WRITE_ATTEMPTS):
        if write_attempts < 1:
            raise ValueError("write_attempts must be at least 1")
        self.cw = connectwise
        self.store = store
        self.write_attempts = write_attempts
        self._handlers: dict[str, Callable[[dict], dict]] = {
            "create_catalog_item": self._create_catalog_item,
            "create_addition": self._create_addition,
            "cancel_addition": self._cancel_addition,
            "update_addition": self._update_addition,
            "create_adjustment": self._create_adjustment,
        }

    def apply(self, task_id: str, plan: Mapping[str, Any], known: KnownAnswers | None = None) -> ApplyResult:
        operations = list(plan.get("operations") or [])
        _check_operations(operations, self._handlers)
        result = ApplyResult(str(task_id))
        self._known = known  # None: every ownership lookup and read happens
        self._ids: dict[str, Any] = {}  # op key → id of what it created or found
        self._catalog: dict[str, Any] = {}  # catalog identifier → id
        for op in operations:
            key = op["key"]
            record = self.store.get_applied(task_id, key)
            if record:
                done = dict(record.get("result") or {}) if "result" in record else dict(record)
                change = {**_base(op), "id": to_plain(done.get("id")), "tag": done.get("tag"),
                          "summary": done.get("summary") or f"{op['action']} {key}", "status": SKIPPED}
            else:
                change = self._handlers[op["action"]](op)
                self.store.record_applied(task_id, key, change)
            self._remember(op, change)
            log.info("%s %s: %s", change["status"], key, change["summary"],
                     extra={"task_id": str(task_id), "op_key": key, "op_status": change["status"]})
            result.changes.append(change)
        return result

    # ---- operations -----------------------------------------------------------------

    def _create_catalog_item(self, op: dict) -> dict:
        body = dict(op.get("fields") or {})
        identifier = (op.get("match") or {}).get("identifier") or body.get("identifier")
        if not identifier:
            raise SyncFailed(f"Operation {op['key']} has no catalog identifier to recognise the item by.")
        body.setdefault("identifier", identifier)

        def find() -> CatalogItemRecord | None:
            return self.cw.find_catalog_item(identifier)

        item, status = self._create(op, find, lambda: self.cw.create_catalog_item(body))
        return {**_base(op), "id": item.id, "tag": identifier, "status": status,
                "summary": f"Catalog item {identifier}" + (f" ({body['description']})" if body.get("description") else "")}

    def _create_addition(self, op: dict) -> dict:
        agreement_id = _agreement(op)
        match = op.get("match") or {}
        body = self._resolve(dict(op.get("fields") or {}), op)
        serial = match.get("serialNumber") or body.get("serialNumber")
        if not serial:
            raise SyncFailed(f"Operation {op['key']} has no ownership tag (serialNumber): an addition without one "
                             "could be created twice, so it is not created.")
        body.setdefault("serialNumber", serial)
        product = self._resolve(dict(match), op).get("product") if "product" in match else None

        def find() -> AdditionRecord | None:
            for addition in self.cw.find_additions(agreement_id, serial):
                if product is None or _same_reference(addition.to_fields().get("product"), product):
                    return addition
            return None

        addition, status = self._create(op, find, lambda: self.cw.create_addition(agreement_id, body),
                                        new_tag=self._known is not None)
        quantity, price = body.get("quantity"), body.get("unitPrice")
        what = f"{quantity} × {price}" if quantity is not None and price is not None else "addition"
        return {**_base(op), "id": addition.id, "tag": serial, "status": status,
                "summary": f"Addition {serial} on agreement {agreement_id}: {what}"
                           + (f" ({body['description']})" if body.get("description") else "")}

    def _create_adjustment(self, op: dict) -> dict:
        """The tag (in `match`, which no approver edits) leads the description ConnectWise keeps."""
        agreement_id = _agreement(op)
        body = self._resolve(dict(op.get("fields") or {}), op)
        match = op.get("match") or {}
        tag = match.get("tag")
        if tag:
            body["description"] = adjustment_description(tag, body.get("description") or "")

            def find() -> AdjustmentRecord | None:
                found = self.cw.find_tagged_adjustments(agreement_id, tag)
                return found[0] if found else None
        else:  # a plan made before adjustments carried their own tag: found by its tagged description
            tag = match.get("description") or body.get("description")
            if not tag:
                raise SyncFailed(f"Operation {op['key']} has no ownership tag to recognise the adjustment by.")
            body.setdefault("description", tag)

            def find() -> AdjustmentRecord | None:
                found = self.cw.find_adjustments(agreement_id, tag)
                return found[0] if found else None

        adjustment, status = self._create(op, find, lambda: self.cw.create_adjustment(agreement_id, body),
                                          new_tag=self._known is not None)
        return {**_base(op), "id": adjustment.id, "tag": tag, "status": status,
                "summary": f"One-time adjustment {body.get('amount')} on agreement {agreement_id}: "
                           f"{body['description']}"}

    def _cancel_addition(self, op: dict) -> dict:
        agreement_id = _agreement(op)
        cancelled = (op.get("fields") or {}).get("cancelledDate")
        if not cancelled:
            raise SyncFailed(f"Operation {op['key']} has no cancelledDate.")
        addition = self._owned_addition(op, agreement_id, ("id", "serialNumber", "cancelledDate"))
        tag = addition.serial_number
        if not addition.live:
            return {**_base(op), "id": addition.id, "tag": tag, "status": ALREADY_PRESENT,
                    "summary": f"Addition {tag or addition.id} already ends on "
                               f"{addition.to_fields()['cancelledDate']}"}

        def done() -> bool:
            return not self.cw.addition(agreement_id, addition.id, ("id", "cancelledDate")).live

        self._write_checked(op, done, lambda: self.cw.cancel_addition(agreement_id, addition.id, cancelled),
                            gone=lambda: _gone(op, agreement_id, addition.id))
        return {**_base(op), "id": addition.id, "tag": tag, "status": UPDATED,
                "summary": f"Addition {tag or addition.id} on agreement {agreement_id} ends on {cancelled}"}

    def _update_addition(self, op: dict) -> dict:
        agreement_id = _agreement(op)
        wanted = self._resolve(dict(op.get("fields") or {}), op)
        if not wanted:
            raise SyncFailed(f"Operation {op['key']} has no fields to update.")
        addition = self._owned_addition(op, agreement_id, ("id", "serialNumber", *wanted))
        tag, now = addition.serial_number, addition.to_fields()
        differing = {name: value for name, value in wanted.items() if not _same_value(name, now.get(name), value)}
        if not differing:
            return {**_base(op), "id": addition.id, "tag": tag, "status": ALREADY_PRESENT,
                    "summary": f"Addition {tag or addition.id} already has {', '.join(sorted(wanted))}"}

        def done() -> bool:
            current = self.cw.addition(agreement_id, addition.id, ("id", *differing)).to_fields()
            return all(_same_value(name, current.get(name), value) for name, value in differing.items())

        self._write_checked(op, done, lambda: self.cw.update_addition(agreement_id, addition.id, differing),
                            gone=lambda: _gone(op, agreement_id, addition.id))
        return {**_base(op), "id": addition.id, "tag": tag, "status": UPDATED,
                "summary": f"Addition {tag or addition.id} on agreement {agreement_id}: "
                           + ", ".join(f"{name} → {_show(value)}" for name, value in differing.items())}

    # ---- idempotent write loops -------------------------------------------------------

    def _create(self, op: dict, find: Callable[[], dict | None], write: Callable[[], dict], *,
                new_tag: bool = False) -> tuple[dict, str]:
        """(object, status): what `find` sees, else what `write` made; a failed write is checked by `find` first.
        `new_tag`: no record can carry the tag yet (a first apply attempt), so `find` is not asked before writing."""
        existing = None if new_tag else find()
        if existing:
            return existing, ALREADY_PRESENT
        last: Exception | None = None
        for attempt in range(1, self.write_attempts + 1):
            try:
                return write(), CREATED
            except TransientError as error:
                last = error
                log.warning("%s: write attempt %d failed (%s); checking whether it was saved",
                            op["key"], attempt, error)
            except ExternalApiError as error:
                if not _conflict(error):
                    raise
                last = error  # someone (an earlier attempt) made it meanwhile: look again
            found = find()
            if found:
                return found, CREATED
            if isinstance(last, ExternalApiError) and not isinstance(last, TransientError):
                raise last
        # `find` ran after the last attempt and saw no record with the tag: that, and only that, is claimed.
        raise TransientError(f"ConnectWise did not confirm {op['action']} {op['key']} after "
                             f"{_attempts(self.write_attempts)}; a check after the last attempt found no record "
                             f"carrying its tag, so retrying the step cannot make a second one. Last error: {last}")

    def _write_checked(self, op: dict, done: Callable[[], bool], write: Callable[[], Any], *,
                       gone: Callable[[], Exception]) -> None:
        last: Exception | None = None
        for attempt in range(1, self.write_attempts + 1):
            try:
                write()
                return
            except NotFound:  # deleted since it was read (by the plan, moments ago, or just now)
                raise gone() from None
            except TransientError as error:
                last = error
                log.warning("%s: write attempt %d failed (%s); checking whether it was saved",
                            op["key"], attempt, error)
            if done():
                return
        raise TransientError(f"ConnectWise did not confirm {op['action']} {op['key']} after "
                             f"{_attempts(self.write_attempts)}; the step can be retried. Last error: {last}")

    # ---- references -------------------------------------------------------------------

    def _owned_addition(self, op: dict, agreement_id: Any, fields: tuple[str, ...]) -> AdditionRecord:
        """The addition an operation means: by id (checking its tag), else the one carrying the tag."""
        match = op.get("match") or {}
        addition_id, serial = match.get("id"), match.get("serialNumber")
        fields = tuple(dict.fromkeys(fields))
        if addition_id is not None:
            seen = self._known.addition(addition_id, fields) if self._known is not None else None
            try:
                addition = seen or self.cw.addition(agreement_id, addition_id, fields)
            except NotFound:
                raise _gone(op, agreement_id, addition_id) from None
            if serial and addition.serial_number != serial:
                raise SyncFailed(f"Addition {addition_id} on agreement {agreement_id} now carries tag "
                                 f"{addition.serial_number!r}, not {serial!r}: it was changed by hand, so "
                                 f"operation {op['key']} was not applied.")
            return addition
        if not serial:
            raise SyncFailed(f"Operation {op['key']} names no addition (id or serialNumber).")
        found = self.cw.find_additions(agreement_id, serial, fields)
        active = [item for item in found if item.live]
        if len(active) > 1:
            raise SyncFailed(f"{len(active)} active additions on agreement {agreement_id} carry tag {serial!r}; "
                             f"operation {op['key']} needs its addition id.")
        if active or found:
            return (active or found)[0]
        raise SyncFailed(f"No addition on agreement {agreement_id} carries tag {serial!r}; "
                         f"operation {op['key']} was not applied.")

    def _resolve(self, values: dict, op: dict) -> dict:
        """Replace `{"ref": key}` and id-less `{"identifier": X}` product references with `{"id": ...}`."""
        for name, value in list(values.items()):
            if not isinstance(value, Mapping) or value.get("id") is not None:
                continue
            if "ref" in value:
                ref = value["ref"]
                if self._ids.get(ref) is None:
                    raise SyncFailed(f"Operation {op['key']} refers to {ref!r}, which is not an earlier operation "
                                     "of this plan that produced an id.")
                values[name] = {"id": self._ids[ref]}
            elif name == PRODUCT_FIELD and value.get("identifier"):
                values[name] = {"id": self._catalog_id(value["identifier"], op)}
        return values

    def _catalog_id(self, identifier: str, op: dict) -> Any:
        if identifier not in self._catalog:
            item = self.cw.find_catalog_item(identifier)
            if not item:
                raise SyncFailed(f"Catalog item {identifier!r} does not exist in ConnectWise; "
                                 f"operation {op['key']} needs it.")
            self._catalog[identifier] = item.id
        return self._catalog[identifier]

    def _remember(self, op: dict, change: dict) -> None:
        if change.get("id") is not None:
            self._ids[op["key"]] = change["id"]
            if op["action"] == Action.CREATE_CATALOG_ITEM and change.get("tag"):
                self._catalog[change["tag"]] = change["id"]


# ---- helpers --------------------------------------------------------------------------

def _attempts(count: int) -> str:
    return f"{count} attempt" + ("" if count == 1 else "s")


def _base(op: Mapping) -> dict:
    return {"action": op["action"], "key": op["key"], "agreementId": op.get("agreementId")}


def _gone(op: Mapping, agreement_id: Any, addition_id: Any) -> SyncFailed:
    return SyncFailed(f"Addition {addition_id} on agreement {agreement_id} no longer exists; "
                      f"operation {op['key']} was not applied.")


def _agreement(op: Mapping) -> Any:
    agreement_id = op.get("agreementId")
    if agreement_id in (None, ""):
        raise SyncFailed(f"Operation {op['key']} names no agreement.")
    return agreement_id


def _check_operations(operations: list, handlers: Mapping[str, Any]) -> None:
    keys: set[str] = set()
    for index, op in enumerate(operations):
        if not isinstance(op, Mapping) or not op.get("key") or not op.get("action"):
            raise SyncFailed(f"Plan operation {index + 1} has no key or action.")
        if op["action"] not in handlers:
            raise SyncFailed(f"Plan operation {op['key']} has an unknown action {op['action']!r}.")
        if op["key"] in keys:
            raise SyncFailed(f"Plan operation key {op['key']!r} appears twice.")
        keys.add(op["key"])


def _conflict(error: ExternalApiError) -> bool:
    return error.status == 409 or any(isinstance(d, Mapping) and d.get("code") == "ObjectExists"
                                      for d in error.details)


def _same_reference(current: Any, wanted: Mapping) -> bool:
    if not isinstance(current, Mapping):
        return False
    if wanted.get("id") is not None:
        return str(current.get("id")) == str(wanted["id"])
    return all(str(current.get(k)) == str(v) for k, v in wanted.items())


def _same_value(name: str, current: Any, wanted: Any) -> bool:
    if isinstance(wanted, Mapping):
        return _same_reference(current, wanted)
    if name in NUMERIC_FIELDS and current is not None and wanted is not None:
        try:
            return Decimal(str(current)) == Decimal(str(wanted))
        except InvalidOperation:
            return False
    if isinstance(wanted, str) and isinstance(current, str) and name.endswith("Date"):
        return _instant(current) == _instant(wanted)
    return current == wanted


def _instant(text: str) -> Any:
    try:
        return parse_datetime(text)
    except ValueError:
        return text


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("id") or value.get("identifier") or value)
    return str(value)
