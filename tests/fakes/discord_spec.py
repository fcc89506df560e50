"""Discord's OpenAPI description (``tests/fixtures/discord/spec/discord_openapi_v10.json``) as
a checker: which routes exist, and whether a JSON body fits the route's request schema.

:func:`check` implements the part of JSON Schema the spec uses (``$ref``, ``type`` lists,
``oneOf``/``anyOf``/``allOf``, ``const``, ``enum``, lengths, bounds, ``pattern``, ``items``,
``required``) and is stricter than the spec in one way: a field the schema does not name is an
error, so a misspelt field cannot pass unnoticed.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

from fakes import FIXTURES

SPEC_FILE = FIXTURES / "discord" / "spec" / "discord_openapi_v10.json"
_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


@functools.cache
def spec() -> dict[str, Any]:
    return dict(json.loads(SPEC_FILE.read_text()))


@functools.cache
def routes() -> list[tuple[str, re.Pattern[str], str]]:
    """``(method, regex, template)`` for every operation, literal segments before parameters."""
    found = []
    for template, operations in spec()["paths"].items():
        literal = [re.escape(part) for part in re.split(r"\{[^}]+\}", template)]
        pattern = re.compile("^" + "[^/]+".join(literal) + "$")
        for method in operations:
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((method.upper(), pattern, template))
    return sorted(found, key=lambda r: r[2].count("{"))


def match(method: str, path: str) -> str | None:
    """The spec's template for ``method path``, or None when Discord has no such route."""
    for candidate, pattern, template in routes():
        if candidate == method.upper() and pattern.match(path):
            return template
    return None


def request_schema(method: str, template: str) -> dict[str, Any] | None:
    operation = spec()["paths"][template][method.lower()]
    body = operation.get("requestBody") or {}
    schema = ((body.get("content") or {}).get("application/json") or {}).get("schema")
    return dict(schema) if schema else None


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        node: Any = spec()
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[kind]) and not (kind != "boolean" and isinstance(value, bool))


def _alternatives(schema: Mapping[str, Any], value: Any, where: str) -> list[str]:
    errors = []
    for word in ("oneOf", "anyOf"):
        if word in schema:
            results = [check(alt, value, where) for alt in schema[word]]
            if all(results):
                best = min(results, key=len)
                errors.append(f"{where}: fits none of the {word} choices ({'; '.join(best[:3])})")
    for sub in schema.get("allOf", []):
        errors += check(sub, value, where)
    return errors


def _scalar(schema: Mapping[str, Any], value: Any, where: str) -> list[str]:
    errors = []
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: must be {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str):
        if len(value) > schema.get("maxLength", len(value)):
            errors.append(f"{where}: longer than {schema['maxLength']}")
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{where}: shorter than {schema['minLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{where}: does not match {schema['pattern']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: above {schema['maximum']}")
    return errors


def _container(schema: Mapping[str, Any], value: Any, where: str) -> list[str]:
    errors = []
    if isinstance(value, list):
        if len(value) > schema.get("maxItems", len(value)):
            errors.append(f"{where}: more than {schema['maxItems']} items")
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{where}: fewer than {schema['minItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                errors += check(schema["items"], item, f"{where}[{i}]")
    if isinstance(value, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if properties is not None and key in properties:
                errors += check(properties[key], item, f"{where}.{key}")
            elif isinstance(extra, Mapping):
                errors += check(extra, item, f"{where}.{key}")
            elif properties is not None or extra is False:
                errors.append(f"{where}: unknown field {key!r}")
        errors += [f"{where}: missing {k!r}" for k in schema.get("required", []) if k not in value]
    return errors


def check(schema: Mapping[str, Any], value: Any, where: str = "$") -> list[str]:
    """Problems with ``value`` against ``schema`` (empty when it fits)."""
    schema = _resolve(schema)
    kinds = schema.get("type")
    if kinds is not None:
        allowed = kinds if isinstance(kinds, list) else [kinds]
        if not any(_type_ok(kind, value) for kind in allowed):
            return [f"{where}: {type(value).__name__} is not {'/'.join(allowed)}"]
    errors = _alternatives(schema, value, where)
    if errors:
        return errors
    return _scalar(schema, value, where) + _container(schema, value, where)


def check_request(method: str, template: str, body: Any) -> list[str]:
    """Problems with a request body for ``method template`` (a body where none is taken too)."""
    schema = request_schema(method, template)
    if schema is None:
        return [] if body is None else [f"{method} {template} takes no body"]
    if body is None:
        return [f"{method} {template} needs a JSON body"]
    return check(schema, body)


def check_interaction_response(body: Any) -> list[str]:
    """Problems with the answer to an interaction (the body of the callback endpoint)."""
    if body == {"type": 1}:
        return []  # PONG (the spec's callback body has no separate shape for it worth checking)
    return check_request(
        "POST", "/interactions/{interaction_id}/{interaction_token}/callback", body
    )
