"""List queries: conditions, childConditions, customFieldConditions, orderBy, fields, paging.

Query parameter names are matched case-insensitively (`pagesize`, `childconditions`), as the
service's parameter binding does. `pageSize` above 1000 is clamped to 1000, as the service
does; below 1, or a `page` below 1, is refused with 400.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

from . import validation
from .conditions import ConditionError, Predicate, info_path, normalise, parse
from .errors import ApiError, bad_request, field_error
from .resources import Resource

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000
FIND_RESOURCE = "ApiFindCondition"  # how the service names the object of a bad query


@dataclass
class Page:
    records: list[dict]
    link: str | None


def lowered(args: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in args.items()}


def known_path(schema_name: str) -> Callable[[str], bool]:
    return lambda path: path == "id" or validation.property_schema(schema_name, path) is not None


def compile_filter(resource: Resource, params: dict[str, str]) -> Predicate | None:
    """One predicate for conditions, childConditions and customFieldConditions (all must hold)."""
    predicates = []
    for name, label in (("conditions", "conditions"), ("childconditions", "childConditions")):
        text = params.get(name, "").strip()
        if text:
            predicates.append(_parse(text, known_path(resource.schema), label))
    text = params.get("customfieldconditions", "").strip()
    if text:
        # Evaluated against each custom field of the record: any one must match.
        custom = _parse(text, known_path("CustomFieldValue"), "customFieldConditions")
        predicates.append(lambda record: any(custom(item) for item in record.get("customFields") or ()
                                             if isinstance(item, dict)))
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    return lambda record: all(predicate(record) for predicate in predicates)


def _parse(text: str, known: Callable[[str], bool], label: str) -> Predicate:
    try:
        return parse(text, known)
    except ConditionError as error:
        raise ApiError(400, "InvalidObject", f"{label} is invalid: {error}",
                       [field_error("InvalidField", str(error), FIND_RESOURCE, label)]) from None


def order(resource: Resource, records: list[dict], order_by: str) -> list[dict]:
    """Sort by `orderBy` ("name asc, id desc"); nulls first as the service's SQL sorts them."""
    keys = []
    for item in order_by.split(","):
        words = item.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise bad_request(FIND_RESOURCE, "orderBy", f"orderBy item '{item.strip()}' must be 'field [asc|desc]'.")
        path = words[0] if known_path(resource.schema)(words[0]) else info_path(words[0])
        if path is None:
            raise bad_request(FIND_RESOURCE, "orderBy", f"{words[0]} is not a recognized name.")
        keys.append((path.split("/"), len(words) == 2 and words[1].lower() == "desc"))
    ordered = list(records)
    for parts, descending in reversed(keys):
        ordered.sort(key=lambda record: _sort_key(record, parts), reverse=descending)
    return ordered


def _sort_key(record: dict, parts: list[str]) -> tuple:
    value: Any = record
    for part in parts:
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return (0, 0, "")
    value = normalise(value) if isinstance(value, str) else value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, 0, value)
    return (1, 1, str(value) if not isinstance(value, str) else value)


def project(record: dict, fields: list[list[str]]) -> dict:
    """A partial object with only the requested fields (nested `company/name` kept nested)."""
    result: dict = {}
    for parts in fields:
        source: Any = record
        for part in parts:
            source = source.get(part) if isinstance(source, dict) else None
            if source is None:
                break
        if source is None:
            continue
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = source
    return result


def parse_fields(params: dict[str, str]) -> list[list[str]] | None:
    text = params.get("fields", "").strip()
    if not text:
        return None
    return [item.strip().split("/") for item in text.split(",") if item.strip()]


def _int_param(params: dict[str, str], name: str, label: str, default: int | None) -> int | None:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(FIND_RESOURCE, label, f"{label} must be an integer, got '{raw}'.") from None


def page_size(params: dict[str, str]) -> int:
    size = _int_param(params, "pagesize", "pageSize", DEFAULT_PAGE_SIZE)
    if size < 1:
        raise bad_request(FIND_RESOURCE, "pageSize", "pageSize must be at least 1.")
    return min(size, MAX_PAGE_SIZE)


def numbered_page(records: list[dict], params: dict[str, str], url: str, query: list[tuple[str, str]]) -> Page:
    size = page_size(params)
    number = _int_param(params, "page", "page", 1)
    if number < 1:
        raise bad_request(FIND_RESOURCE, "page", "page must be at least 1.")
    last = max(1, -(-len(records) // size))
    chosen = records[(number - 1) * size: number * size]
    links = []
    if number > 1:
        links += [_link(url, query, "first", pageSize=size, page=1),
                  _link(url, query, "prev", pageSize=size, page=number - 1)]
    if number < last:
        links += [_link(url, query, "next", pageSize=size, page=number + 1),
                  _link(url, query, "last", pageSize=size, page=last)]
    return Page(chosen, ", ".join(links) or None)


def forward_only_page(records: list[dict], params: dict[str, str], url: str, query: list[tuple[str, str]]) -> Page:
    """`pagination-type: forward-only`: ids above `pageId`, by id; `next` carries the last id."""
    size = page_size(params)
    after = _int_param(params, "pageid", "pageId", 0)
    remaining = sorted((record for record in records if record.get("id", 0) > after), key=lambda r: r["id"])
    chosen = remaining[:size]
    link = None
    if len(remaining) > size:
        link = _link(url, query, "next", pageSize=size, pageId=chosen[-1]["id"])
    return Page(chosen, link)


def _link(url: str, query: list[tuple[str, str]], rel: str, **replace: int) -> str:
    """One `<url>; rel="..."` item: the request's own parameters, then `pageSize`, then the page.

    The service always ends the URL with the page (`...?conditions=...&pageSize=1000&page=2`),
    whatever order the request had; clients such as pyconnectwise read the page number with
    a `page=(\\d+)>; rel=` pattern and see no next page otherwise.
    """
    dropped = {name.lower() for name in replace}
    kept = [(key, value) for key, value in query if key.lower() not in dropped | {"page", "pageid"}]
    return f'<{url}?{urlencode(kept + [(k, str(v)) for k, v in replace.items()])}>; rel="{rel}"'
