"""The simulator's records: reads, validated writes and the fields the service computes.

Records are never changed in place: a write builds a new dict and swaps it into the
collection under the lock. A reader therefore takes a shallow copy of a collection under
the lock and filters, sorts and serialises it without holding the lock.
"""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any, Callable

from ..common import StateFile
from . import validation
from .errors import field_error, invalid_object, not_found
from .resources import BY_COLLECTION, COLLECTIONS, Reference, Resource

API_MEMBER = "ApiMember"  # the `updatedBy` the service shows for writes made with API keys
SEED_MEMBER = "Admin1"  # who "entered" seed records that carry no `_info` of their own


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Records:
    def __init__(self, state: StateFile, clock: Callable[[], str] = utc_now):
        self.state = state
        self.lock = state.lock
        self.clock = clock
        with self.lock:
            for name in COLLECTIONS:
                if not isinstance(state.data.get(name), list):
                    state.data[name] = []
            check_seed(state.data)
            self._next_id = {name: 1 + max((r.get("id", 0) for r in state.data[name] if isinstance(r.get("id"), int)),
                                           default=0) for name in COLLECTIONS}
            self._normalise_seed()

    # --- reads ---------------------------------------------------------------------------------

    def snapshot(self, resource: Resource, parent_id: int | None = None) -> list[dict]:
        with self.lock:
            records = self.state.data[resource.collection]
            if resource.parent is None:
                return list(records)
            self._require_parent(resource, parent_id)
            return [record for record in records if record.get(resource.parent_key) == parent_id]

    def get(self, resource: Resource, record_id: int, parent_id: int | None = None) -> dict:
        with self.lock:
            if resource.parent is not None:
                self._require_parent(resource, parent_id)
            index = self._index(resource, record_id, parent_id)
            return self.state.data[resource.collection][index]

    # --- writes --------------------------------------------------------------------------------

    def create(self, resource: Resource, body: Any, parent_id: int | None = None) -> dict:
        with self.lock:
            parent = self._require_parent(resource, parent_id) if resource.parent else None
            record = {"id": self._next_id[resource.collection], **self._prepare(resource, body, parent, existing=None)}
            self._next_id[resource.collection] += 1
            now = self.clock()
            record["_info"] = {"lastUpdated": now, "updatedBy": API_MEMBER, "dateEntered": now,
                               "enteredBy": API_MEMBER}
            self.state.data[resource.collection].append(record)
            self.state.save()
            return record

    def replace(self, resource: Resource, record_id: int, body: Any, parent_id: int | None = None) -> dict:
        with self.lock:
            parent = self._require_parent(resource, parent_id) if resource.parent else None
            index = self._index(resource, record_id, parent_id)
            existing = self.state.data[resource.collection][index]
            return self._store(resource, index, self._prepare(resource, body, parent, existing))

    def patch(self, resource: Resource, record_id: int, operations: Any, parent_id: int | None = None) -> dict:
        from .patching import apply_patch  # local import: patching imports nothing from here

        with self.lock:
            parent = self._require_parent(resource, parent_id) if resource.parent else None
            index = self._index(resource, record_id, parent_id)
            existing = self.state.data[resource.collection][index]
            patched = apply_patch(resource, existing, operations)
            return self._store(resource, index, self._prepare(resource, patched, parent, existing))

    def delete(self, resource: Resource, record_id: int, parent_id: int | None = None) -> None:
        with self.lock:
            if resource.parent:
                self._require_parent(resource, parent_id)
            index = self._index(resource, record_id, parent_id)
            del self.state.data[resource.collection][index]
            if resource.collection == "agreements":
                # An agreement's additions and adjustments go with it.
                for child in ("additions", "adjustments"):
                    self.state.data[child] = [r for r in self.state.data[child] if r.get("agreementId") != record_id]
            self.state.save()

    # --- helpers -------------------------------------------------------------------------------

    def _store(self, resource: Resource, index: int, record: dict) -> dict:
        existing = self.state.data[resource.collection][index]
        record = {"id": existing["id"], **record}
        record["_info"] = {**existing.get("_info", {}), "lastUpdated": self.clock(), "updatedBy": API_MEMBER}
        self.state.data[resource.collection][index] = record
        self.state.save()
        return record

    def _index(self, resource: Resource, record_id: int, parent_id: int | None) -> int:
        for index, record in enumerate(self.state.data[resource.collection]):
            if record.get("id") == record_id and (resource.parent is None or record.get(resource.parent_key) == parent_id):
                return index
        raise not_found(resource.label, record_id)

    def _require_parent(self, resource: Resource, parent_id: int | None) -> dict:
        parent = BY_COLLECTION[resource.parent]
        for record in self.state.data[parent.collection]:
            if record.get("id") == parent_id:
                return record
        raise not_found(parent.label, parent_id)

    def _prepare(self, resource: Resource, body: Any, parent: dict | None, existing: dict | None) -> dict:
        """Validate a write body and return the record to store (computed fields filled)."""
        if not isinstance(body, dict):
            raise invalid_object(resource.name, [field_error("InvalidField", "The request body must be a JSON object.",
                                                             resource.name, "body")])
        # Read-only fields are ignored on writes, as the service does: it computes them.
        record = {key: copy.deepcopy(value) for key, value in body.items() if key not in resource.read_only}
        errors = validation.write_errors(resource.schema, resource.name, record)
        if resource.collection == "companies" and existing is None:
            errors += self._new_company_errors(resource, record)
        bad_fields = {error["field"].split("/")[0] for error in errors}
        for field, reference in resource.references.items():
            if field in record and field not in bad_fields:
                errors.extend(self._resolve(resource, record, field, reference))
        if errors:
            raise invalid_object(resource.name, sorted(errors, key=lambda error: error["field"]))
        compute = _COMPUTED.get(resource.collection)
        if compute:
            compute(self, record, parent, existing)
        return record

    def _new_company_errors(self, resource: Resource, record: dict) -> list[dict]:
        """What the service refuses of a new company beyond the schema: no address field at all
        (one of addressLine1/2, city, state, zip, country is required), an identifier in use."""
        errors = []
        if not any(record.get(name) for name in ("addressLine1", "addressLine2", "city", "state", "zip", "country")):
            errors.append(field_error("InvalidField", "At least one address field is required -- addressLine1, "
                                      "addressLine2, city, state, zip and/or country.", resource.name, "addressLine1"))
        identifier = str(record.get("identifier") or "").casefold()
        if identifier and any(str(c.get("identifier") or "").casefold() == identifier
                              for c in self.state.data["companies"]):
            errors.append(field_error("ObjectExists", f"The identifier {record['identifier']} is already in use.",
                                      resource.name, "identifier"))
        return errors

    def _resolve(self, resource: Resource, record: dict, field: str, reference: Reference) -> list[dict]:
        """Expand a reference object from its collection; an unknown one is a field error."""
        value = record[field]
        if value is None:
            return []
        items = value if reference.many else [value]
        expanded, errors = [], []
        for item in items:
            target = self._find_reference(reference.collection, item)
            if target is None:
                wanted = item.get("id", item.get("identifier")) if isinstance(item, dict) else item
                errors.append(field_error("InvalidField", f"The {reference.label} {wanted!r} was not found.",
                                          resource.name, field))
            else:
                built = reference_of(target, reference)
                if isinstance(item, dict) and isinstance(item.get("_info"), dict):
                    built["_info"] = item["_info"]  # the link a seed's reference carries, as the service sends it
                expanded.append(built)
        if not errors:
            record[field] = expanded if reference.many else expanded[0]
        return errors

    def _find_reference(self, collection: str, item: Any) -> dict | None:
        if not isinstance(item, dict):
            return None
        records = self.state.data.get(collection, [])
        if item.get("id") is not None:
            return next((r for r in records if r.get("id") == item["id"]), None)
        # The service also resolves a reference by its identifier (or name) when no id is given.
        for key in ("identifier", "name"):
            if isinstance(item.get(key), str):
                wanted = item[key].casefold()
                return next((r for r in records if str(r.get(key, "")).casefold() == wanted), None)
        return None

    def _normalise_seed(self) -> None:
        """Give seed records ids, expanded references and computed fields, as if written via the API.

        Every object the service returns carries `_info` (`lastUpdated`, `updatedBy`, ...);
        seed records without one get it, stamped with the time the simulator loaded them.
        """
        now = self.clock()
        unresolved: list[str] = []
        for name in COLLECTIONS:
            resource = BY_COLLECTION[name]
            for index, record in enumerate(self.state.data[name]):
                record = dict(record)
                if not isinstance(record.get("id"), int):
                    record["id"] = self._next_id[name]
                    self._next_id[name] += 1
                for field, reference in resource.references.items():
                    if record.get(field) is not None:
                        for error in self._resolve(resource, record, field, reference):
                            unresolved.append(f"connectwise.{name} record {record['id']}: {error['message']}")
                if not isinstance(record.get("_info"), dict):
                    record["_info"] = {"lastUpdated": now, "updatedBy": SEED_MEMBER, "dateEntered": now,
                                       "enteredBy": SEED_MEMBER}
                compute = _COMPUTED.get(name)
                if compute:
                    parent = next((a for a in self.state.data["agreements"] if a.get("id") == record.get("agreementId")),
                                  None)
                    compute(self, record, parent, record)
                self.state.data[name][index] = record
        if unresolved:
            raise ValueError("the ConnectWise seed has references to records it does not hold:\n  "
                             + "\n  ".join(unresolved[:20]))


def check_seed(data: dict) -> None:
    """Refuse seed records the service could not return, naming collection, record id and field.

    Each record must match its resource's contract schema (required fields, types, enums,
    lengths) and name no field the schema does not know, at any depth (docs/SEED.md).
    """
    problems = []
    for name in COLLECTIONS:
        schema = BY_COLLECTION[name].schema
        for position, record in enumerate(data[name]):
            record_id = record.get("id", f"#{position + 1}") if isinstance(record, dict) else f"#{position + 1}"
            problems += [f"connectwise.{name} record {record_id}: {problem}"
                         for problem in validation.record_problems(schema, record)]
    if problems:
        raise ValueError("the ConnectWise seed has records the service could not return:\n  "
                         + "\n  ".join(problems[:20]) + (f"\n  ... and {len(problems) - 20} more"
                                                          if len(problems) > 20 else ""))


def reference_of(target: dict, reference: Reference) -> dict:
    """The reference object pointing at `target`, in the reference's own shape (never a copy of the record)."""
    result = {"id": target["id"]}
    for key in reference.copy:
        if key == "name" and "name" not in target and ("firstName" in target or "lastName" in target):
            # Contact references carry the person's full name.
            result["name"] = " ".join(part for part in (target.get("firstName"), target.get("lastName")) if part)
        elif target.get(key) is not None:
            result[key] = target[key]
    if reference.derive is not None:
        result.update(reference.derive(target))
    problems = validation.response_errors(reference.schema, result)
    if problems:
        raise ValueError(f"a {reference.label} reference built from record {target['id']} is not a "
                         f"{reference.schema}: {'; '.join(problems)}")
    return result


def _addition(records: Records, record: dict, agreement: dict | None, existing: dict | None) -> None:
    """The addition fields the service fills: defaults from the product, extended amounts."""
    product = records._find_reference("catalog", record.get("product")) or {}
    defaults = {"unitPrice": product.get("price"), "unitCost": product.get("cost"),
                "description": product.get("description"), "taxableFlag": product.get("taxableFlag"),
                "uom": (product.get("unitOfMeasure") or {}).get("name"), "lessIncluded": 0.0}
    if existing is None or existing is record:
        for key, value in defaults.items():
            if record.get(key) is None and value is not None:
                record[key] = value
    quantity = float(record.get("quantity") or 0)
    unit_price, unit_cost = float(record.get("unitPrice") or 0), float(record.get("unitCost") or 0)
    record["extPrice"] = round(quantity * unit_price, 2)
    record["extCost"] = round(quantity * unit_cost, 2)
    record["margin"] = round(record["extPrice"] - record["extCost"], 2)
    record["billedQuantity"] = (existing or {}).get("billedQuantity", 0.0)
    if agreement is not None:
        record["agreementId"] = agreement["id"]
        record.setdefault("agreementStatus", agreement.get("agreementStatus", "Active"))
    if existing is not None and existing.get("sequenceNumber") is not None:
        record["sequenceNumber"] = existing["sequenceNumber"]
    elif agreement is not None:
        own_id = record.get("id")
        earlier = [r for r in records.state.data["additions"] if r.get("agreementId") == agreement["id"]
                   and (own_id is None or r.get("id", 0) < own_id)]
        record["sequenceNumber"] = float(len(earlier) + 1)


def _adjustment(records: Records, record: dict, agreement: dict | None, existing: dict | None) -> None:
    if agreement is not None:
        record["agreementId"] = agreement["id"]


def _agreement(records: Records, record: dict, parent: dict | None, existing: dict | None) -> None:
    record.setdefault("agreementStatus", "Active")
    record.setdefault("cancelledFlag", False)


_COMPUTED = {"additions": _addition, "adjustments": _adjustment, "agreements": _agreement}
