"""Contract validation: JSON Schema built from the OpenAPI 3.0 contract's components.

Writes are checked with the contract's required fields, types, enums and max lengths and
refused the way the service does (400 InvalidObject, one `errors` entry per bad field).
Responses are checked with the same schemas minus `required`, because the service leaves
null fields out of what it returns (and `fields=` asks for partial objects).
"""
from __future__ import annotations

import copy
import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from .errors import field_error

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "connectwise-manage-3.0-subset.json"
_REF_PREFIX = "#/components/schemas/"

# Schemas the simulator serves beyond the contract's components (none at present: billing
# cycles, currencies and the reference lists are in the contract).
LOCAL_SCHEMAS: dict[str, dict] = {}

_format_checker = FormatChecker(formats=())


@_format_checker.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    # The service accepts ISO 8601 with or without the trailing Z.
    if isinstance(value, str):
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


_ANNOTATIONS = ("nullable", "description", "example", "readOnly", "writeOnly")


def _convert(node: Any, *, keep_required: bool) -> Any:
    """OpenAPI 3.0 schema → JSON Schema 2020-12 (nullable, $ref, the .NET `object`)."""
    if isinstance(node, list):
        return [_convert(item, keep_required=keep_required) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return {"$ref": "#/$defs/" + node["$ref"][len(_REF_PREFIX):]}
    result = {key: _convert(value, keep_required=keep_required) for key, value in node.items()
              if key not in _ANNOTATIONS}
    if isinstance(node.get("properties"), dict):
        # Property names are data, not annotations: a property called `description` stays.
        result["properties"] = {name: _convert(value, keep_required=keep_required)
                                for name, value in node["properties"].items()}
    if not keep_required:
        result.pop("required", None)
    if result.get("format") not in ("date-time",):
        result.pop("format", None)
    if node.get("type") == "object" and "properties" not in node and "additionalProperties" not in node:
        # The vendor's generator writes .NET `object` (custom field values) as a bare object.
        return {}
    if node.get("nullable"):
        if "type" in result:
            result["type"] = [result["type"], "null"]
        if "enum" in result:
            result["enum"] = [*result["enum"], None]
    return result


@lru_cache(maxsize=1)
def contract() -> dict:
    with CONTRACT.open(encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=None)
def _definitions(keep_required: bool) -> dict:
    components = {**contract()["components"]["schemas"], **LOCAL_SCHEMAS}
    return {name: _convert(schema, keep_required=keep_required) for name, schema in components.items()}


@lru_cache(maxsize=None)
def validator_for(schema: Any, *, keep_required: bool) -> Draft202012Validator:
    """A validator for a component name, or for a JSON-encoded OpenAPI schema."""
    root = {"$ref": f"#/$defs/{schema}"} if not schema.startswith("{") else _convert(
        json.loads(schema), keep_required=keep_required)
    return Draft202012Validator({**root, "$defs": _definitions(keep_required)}, format_checker=_format_checker)


def schema_properties(schema_name: str) -> dict:
    """The properties of a component (resolved one level), for conditions/orderBy/fields names."""
    return _definitions(True)[schema_name].get("properties", {})


def property_schema(schema_name: str, path: str) -> dict | None:
    """The schema at a `a/b` path of a component, or None when the path is not a property."""
    definitions = _definitions(True)
    node: dict = definitions[schema_name]
    for part in path.split("/"):
        node = _resolve(node, definitions)
        if node.get("type") == "array" or (isinstance(node.get("type"), list) and "array" in node["type"]):
            node = _resolve(node.get("items", {}), definitions)
        properties = node.get("properties")
        if properties is None or part not in properties:
            return None
        node = properties[part]
    return _resolve(node, definitions)


def _resolve(node: dict, definitions: dict) -> dict:
    while "$ref" in node:
        node = definitions[node["$ref"].rsplit("/", 1)[1]]
    return node


def write_errors(schema_name: str, resource: str, body: dict) -> list[dict]:
    """One ConnectWise error entry per bad field of a create/replace body, sorted by field."""
    found: dict[str, dict] = {}
    for error in validator_for(schema_name, keep_required=True).iter_errors(body):
        for field, entry in _describe(error, resource, body):
            found.setdefault(field, entry)
    return [found[field] for field in sorted(found)]


def _describe(error, resource: str, body: dict):
    path = "/".join(str(part) for part in error.absolute_path)
    if error.validator == "required":
        for name in error.validator_value:
            if not isinstance(error.instance, dict) or name not in error.instance:
                field = f"{path}/{name}" if path else name
                yield field, field_error("NullValue", f"{field} may not be null.", resource, field)
        return
    field = path or "body"
    if error.validator == "type" and error.instance is None:
        yield field, field_error("NullValue", f"{field} may not be null.", resource, field)
    elif error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, str) else error.validator_value[0]
        yield field, field_error("InvalidField", f"{field} must be of type {expected}.", resource, field)
    elif error.validator == "enum":
        allowed = ", ".join(str(value) for value in error.validator_value if value is not None)
        yield field, field_error("InvalidField", f"{field} must be one of: {allowed}.", resource, field)
    elif error.validator == "maxLength":
        yield field, field_error("InvalidField", f"{field} must be at most {error.validator_value} characters.",
                                 resource, field)
    elif error.validator == "format":
        yield field, field_error("InvalidField", f"{field} is not a valid date: {error.instance!r}.", resource, field)
    else:
        yield field, field_error("InvalidField", f"{field}: {error.message}", resource, field)


def response_errors(schema: dict | str, body: Any, *, keep_required: bool = False) -> list[str]:
    """Problems of a response body against an OpenAPI response schema (or component name)."""
    key = schema if isinstance(schema, str) else json.dumps(schema, sort_keys=True)
    validator = validator_for(key, keep_required=keep_required)
    return [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
            for error in validator.iter_errors(copy.deepcopy(body))]


def unknown_fields(schema_name: str, record: Any) -> list[str]:
    """`a/b` paths of keys, at any depth, that the component's schema does not name."""
    definitions = _definitions(True)
    found: list[str] = []

    def walk(node: dict, value: Any, path: str) -> None:
        node = _resolve(node, definitions)
        if isinstance(value, list):
            for index, item in enumerate(value):
                walk(node.get("items", {}), item, f"{path}/{index}" if path else str(index))
            return
        properties = node.get("properties")
        if not isinstance(value, dict) or properties is None:
            return  # scalars, and objects with free-form keys (`_info`, custom field values)
        for key, item in value.items():
            where = f"{path}/{key}" if path else key
            if key in properties:
                walk(properties[key], item, where)
            elif not node.get("additionalProperties"):
                found.append(where)

    walk(definitions[schema_name], record, "")
    return found


def record_problems(schema_name: str, record: Any) -> list[str]:
    """Why the service could not have returned `record`: one `field: problem` line per bad field."""
    if not isinstance(record, dict):
        return ["(record): must be a JSON object"]
    problems = [error["message"] for error in write_errors(schema_name, "seed", record)]
    problems += [f"{path}: not a field of {schema_name}" for path in unknown_fields(schema_name, record)]
    return problems
