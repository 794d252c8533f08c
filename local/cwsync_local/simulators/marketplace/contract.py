"""Checking JSON against the OpenAPI contract files (structure only), for tests.

The contracts are OpenAPI 3.0: schemas live under components/schemas and refer to each
other with $ref. They are turned into JSON Schema once: `nullable` becomes a null type,
and in strict mode (the default) objects refuse properties the contract does not name
(after merging `allOf`), and answers refuse writeOnly properties — so a misspelt field
in the simulator or the seed fails a test instead of passing unnoticed.
"""
from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from jsonschema import Draft7Validator, FormatChecker

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
MARKETPLACE_CONTRACT = CONTRACTS / "marketplace-simpleapi-1.15.json"
CONNECTWISE_CONTRACT = CONTRACTS / "connectwise-manage-3.0-subset.json"
_REF = "#/components/schemas/"
# The contract names no error schema; this is the simulator's (see responses.py).
ERROR_SCHEMA = {"type": "object", "required": ["code", "message"], "additionalProperties": False,
                "properties": {"code": {"type": "string"}, "message": {"type": "string", "minLength": 1}}}


class ContractValidator:
    """Validates records and HTTP answers against one contract file."""

    def __init__(self, path: str | Path = MARKETPLACE_CONTRACT, *, strict: bool = True, answers: bool = True):
        self.document = json.loads(Path(path).read_text(encoding="utf-8"))
        raw = self.document["components"]["schemas"]
        self.schemas = {name: _convert(schema, raw, strict=strict, answers=answers) for name, schema in raw.items()}
        self._routes = _routes(self.document)
        self._validators: dict[str, Draft7Validator] = {}

    def errors(self, schema_name: str, instance: Any) -> list[str]:
        """Readable problems of `instance` as a `schema_name` ([] when it conforms)."""
        validator = self._validators.get(schema_name)
        if validator is None:
            root = {"$ref": f"{_REF}{schema_name}", "components": {"schemas": self.schemas}}
            validator = self._validators[schema_name] = Draft7Validator(root, format_checker=FormatChecker())
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))]

    def validate(self, schema_name: str, instance: Any, where: str = "") -> None:
        problems = self.errors(schema_name, instance)
        if problems:
            raise AssertionError(f"{where or schema_name} does not match the contract's {schema_name}:\n  "
                                 + "\n  ".join(problems[:20]))

    def response_schema(self, method: str, path: str) -> str | None:
        """The schema name of a successful answer to `method path` (a concrete path)."""
        for pattern, schemas in self._routes:
            if pattern.fullmatch(path):
                return schemas.get(method.lower())
        return None

    def answer_problems(self, method: str, path: str, status: int, body: Any, headers: dict) -> list[str]:
        """Everything wrong with one HTTP answer: schema, error body, X-Correlation-ID."""
        problems = [] if headers.get("X-Correlation-ID") else ["X-Correlation-ID header is missing"]
        if status >= 400:
            errors = Draft7Validator(ERROR_SCHEMA).iter_errors(body)
            problems += [f"error body: {e.message}" for e in errors]
            return problems
        schema = self.response_schema(method, path)
        if schema is None:
            return problems + [f"the contract has no {method} {path}"]
        return problems + self.errors(schema, body)


def _routes(document: dict) -> list[tuple[re.Pattern, dict[str, str]]]:
    routes = []
    for template, operations in document["paths"].items():
        pattern = re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))
        schemas = {}
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code in ("200", "201", "default"):
                content = operation["responses"].get(code, {}).get("content", {})
                ref = next((c.get("schema", {}).get("$ref") for c in content.values()), None)
                if ref:
                    schemas[method] = ref[len(_REF):]
                    break
        # Literal templates ("/orders/estimate") before ones with parameters.
        routes.append((template.count("{"), pattern, schemas))
    return [(pattern, schemas) for _, pattern, schemas in sorted(routes, key=lambda r: r[0])]


def _resolve(schema: dict, raw: dict) -> dict:
    while "$ref" in schema:
        schema = raw[schema["$ref"][len(_REF):]]
    return schema


def _convert(schema: Any, raw: dict, *, strict: bool, answers: bool) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema (draft 7), recursively."""
    if isinstance(schema, list):
        return [_convert(item, raw, strict=strict, answers=answers) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return {"$ref": schema["$ref"]}
    schema = copy.deepcopy(schema)
    if strict and "allOf" in schema:
        schema = _merge_all_of(schema, raw)
    if schema.pop("nullable", False) and "type" in schema:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    for key in ("discriminator", "xml", "externalDocs", "example", "readOnly", "writeOnly", "deprecated"):
        schema.pop(key, None)
    if "properties" in schema:
        properties = {}
        for name, sub in schema["properties"].items():
            if answers and isinstance(sub, dict) and sub.get("writeOnly"):
                continue  # never part of an answer
            properties[name] = _convert(sub, raw, strict=strict, answers=answers)
        # A required field the contract forgot to describe (Agreement.contact) is still allowed.
        properties.update({name: {} for name in schema.get("required", []) if name not in properties})
        schema["properties"] = properties
        if strict and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            schema[key] = _convert(schema[key], raw, strict=strict, answers=answers)
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            schema[key] = _convert(schema[key], raw, strict=strict, answers=answers)
    return schema


def _merge_all_of(schema: dict, raw: dict) -> dict:
    """One object schema holding all members' properties: needed before refusing extras."""
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    properties = dict(merged.get("properties", {}))
    required = list(merged.get("required", []))
    for member in schema["allOf"]:
        member = _resolve(member, raw)
        if "allOf" in member:
            member = _merge_all_of(member, raw)
        properties.update(member.get("properties", {}))
        required += [r for r in member.get("required", []) if r not in required]
    merged.update(type="object", properties=properties, required=required)
    return merged


@lru_cache(maxsize=4)
def validator(path: str | Path = MARKETPLACE_CONTRACT, strict: bool = True, answers: bool = True) -> ContractValidator:
    """A shared, cached validator (building one reads and converts the whole contract)."""
    return ContractValidator(path, strict=strict, answers=answers)


def response_hook(check: ContractValidator | None = None, *, seen: list | None = None) -> Callable:
    """A `requests` response hook that fails the call whose answer breaks the contract.

    `session.hooks["response"].append(response_hook())`; pass `seen` to collect
    (method, path, status) of every checked answer.
    """
    check = check or validator()

    def hook(response, *args, **kwargs):
        request = response.request
        path = request.path_url.split("?", 1)[0]
        try:
            body = response.json()
        except ValueError:
            body = None
        problems = check.answer_problems(request.method, path, response.status_code, body, response.headers)
        if seen is not None:
            seen.append((request.method, path, response.status_code))
        if problems:
            raise AssertionError(f"{request.method} {request.path_url} -> {response.status_code} breaks the "
                                 "contract:\n  " + "\n  ".join(problems[:20]))
        return response

    return hook
