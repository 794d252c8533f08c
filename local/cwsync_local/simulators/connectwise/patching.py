"""PATCH bodies: a JSON list of `{"op": "replace"|"add"|"remove", "path": "quantity", "value": ...}`.

The service takes paths with or without the leading slash, treats `replace` of a field it
left out (because it was null) as setting it, and wants a reference object replaced whole
(`company`), not through a sub-path (`company/id`).
"""
from __future__ import annotations

import copy
from typing import Any

import jsonpatch

from .errors import field_error, invalid_object
from .resources import Resource

SUPPORTED = ("replace", "add", "remove")


def apply_patch(resource: Resource, record: dict, operations: Any) -> dict:
    if not isinstance(operations, list) or not operations:
        raise invalid_object("patchOperation", [field_error(
            "InvalidField", "The body must be a non-empty JSON list of patch operations.", "patchOperation", "body")])
    errors, normalised = [], []
    for position, operation in enumerate(operations):
        problem, ready = _normalise(resource, record, operation)
        if problem:
            errors.append(field_error("InvalidField", f"Operation {position}: {problem}", "patchOperation",
                                      str(operation.get("path", "")) if isinstance(operation, dict) else "body"))
        elif ready is not None:
            normalised.append(ready)
    if errors:
        raise invalid_object("patchOperation", errors)
    try:
        return jsonpatch.apply_patch(copy.deepcopy(record), normalised)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
        raise invalid_object("patchOperation", [field_error("InvalidField", str(error), "patchOperation", "path")]) from None


def _normalise(resource: Resource, record: dict, operation: Any) -> tuple[str | None, dict | None]:
    if not isinstance(operation, dict):
        return "each operation must be an object with op, path and value", None
    op = str(operation.get("op", "")).lower()
    path = operation.get("path")
    if op not in SUPPORTED:
        return f"op must be one of {', '.join(SUPPORTED)}, got {operation.get('op')!r}", None
    if not isinstance(path, str) or not path.strip("/"):
        return "path is required", None
    if op != "remove" and "value" not in operation:
        return f"'{op}' needs a value", None
    parts = path.strip("/").split("/")
    if len(parts) > 1 and parts[0] in resource.references:
        return f"replace the reference object '{parts[0]}' whole instead of '{path}'", None
    pointer = "/" + "/".join(parts)
    if op == "replace" and len(parts) == 1 and parts[0] not in record:
        op = "add"  # the field was null, so the service left it out; replacing it sets it
    if op == "remove" and len(parts) == 1 and parts[0] not in record:
        return None, None  # removing a field that is already null changes nothing
    ready = {"op": op, "path": pointer}
    if op != "remove":
        ready["value"] = operation["value"]
    return None, ready
