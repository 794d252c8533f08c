"""A second independent oracle for ConnectWise shapes: the `ai-connor/connectwise` Go client.

The Go client is generated from a newer ConnectWise OpenAPI document (API 2025.1) than
pyconnectwise's models, by another generator and other people. `tests/contracts/cw_go_models.json`
holds, for each record type the simulator serves and every struct inside one (references,
custom field values), its JSON fields with their type, whether `null` is allowed and whether the
field is required; its header names the repository, commit and files it was read from
(`tests/contracts/extract_go_models.py` writes it).

`problems(collection, record)` says where `record` is not one the Go client would read as that
type: a key, at any depth, that is not a field of the struct there; a value of the wrong JSON
type; `null` where the field is not nullable; a required field missing. Where the Go model is
older or newer than what the service sends, GO_ALLOWED says so, one line per field.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

GO_MODELS_FILE = Path(__file__).parent / "contracts" / "cw_go_models.json"
DOCUMENT = json.loads(GO_MODELS_FILE.read_text(encoding="utf-8"))
PROVENANCE: dict = DOCUMENT["_provenance"]
COLLECTIONS: dict[str, str] = DOCUMENT["collections"]
MODELS: dict[str, dict[str, dict]] = DOCUMENT["models"]

# (struct, field) -> why the service's answer differs from the Go model here.
GO_ALLOWED: dict[tuple[str, str], str] = {
    ("CustomFieldValue", "value"): "Go renders the document's .NET `object` as a map; the service sends the "
                                   "value itself (text, number, true/false) or null",
}

_JSON_TYPES = {"integer": (int,), "number": (int, float), "string": (str,), "boolean": (bool,),
               "date-time": (str,), "map": (dict,), "object": (dict,), "array": (list,)}


def _type_problem(shape: dict, value: Any) -> str | None:
    kind = shape["type"]
    if kind == "any":
        return None
    if isinstance(value, bool) and kind in ("integer", "number"):
        return f"is {value!r}, not a {kind}"
    if not isinstance(value, _JSON_TYPES[kind]):
        return f"is {type(value).__name__}, not {kind}"
    if kind == "date-time":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return f"{value!r} is not a date-time"
    if kind == "map" and not all(isinstance(item, str) for item in value.values()):
        return "is not a map of strings"
    return None


def _walk(model: str, value: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path or '(record)'}: is {type(value).__name__}, not a {model}"]
    fields = MODELS[model]
    found = [f"{path + '/' if path else ''}{name}: required by {model}, missing"
             for name, shape in fields.items() if shape["required"] and name not in value]
    for key, item in value.items():
        where = f"{path}/{key}" if path else key
        if key not in fields:
            found.append(f"{where}: not a field of {model}")
            continue
        if (model, key) in GO_ALLOWED:
            continue
        found += _value(fields[key], item, where, model)
    return found


def _value(shape: dict, item: Any, where: str, model: str) -> list[str]:
    if item is None:
        return [] if shape["nullable"] else [f"{where}: null, but {model} does not allow null here"]
    problem = _type_problem(shape, item)
    if problem:
        return [f"{where}: {problem}"]
    if shape["type"] == "array":
        return [p for index, inner in enumerate(item) for p in _value(shape["items"], inner, f"{where}/{index}", model)]
    if shape.get("model"):
        return _walk(shape["model"], item, where)
    return []


def problems(collection: str, record: Any) -> list[str]:
    """Why the Go client would not read `record` as a record of `collection` (empty: it would)."""
    return _walk(COLLECTIONS[collection], record, "")
