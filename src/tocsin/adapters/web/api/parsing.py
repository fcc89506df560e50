"""Turn a request's path parameters, JSON body and query string into validated values, or a
problem response."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from tocsin.adapters.web.api.problems import problem
from tocsin.adapters.web.api.schemas import MAX_INT
from tocsin.domain.commands import parse_incident_ref

M = TypeVar("M", bound=BaseModel)
_DIGITS = re.compile(r"[0-9]{1,10}")


def incident_number(request: Request) -> int | Response:
    """The ``{number}`` path parameter (``12`` or ``INC-12``), or a 404 problem."""
    raw = str(request.path_params["number"])
    found = parse_incident_ref(raw) if raw == raw.strip() else None
    if found is None:
        return problem("not-found", f"{raw[:40]!r} is not an incident; use 12 or INC-12.")
    return found


def path_id(request: Request, name: str, what: str) -> int | Response:
    """A numeric id from the path (1 to :data:`MAX_INT`, ASCII digits), or a 404 problem."""
    raw = str(request.path_params[name])
    if _DIGITS.fullmatch(raw) is None or not 1 <= int(raw) <= MAX_INT:
        return problem("not-found", f"{raw[:40]!r} is not {what}.")
    return int(raw)


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "(body)", "message": error["msg"]}
        for error in exc.errors(include_url=False)
    ]


def invalid(exc: ValidationError, where: str) -> Response:
    return _invalid(field_errors(exc), where)


def invalid_fields(errors: Mapping[str, str], where: str) -> Response:
    """422 for values the domain's validators refused (field name -> message)."""
    return _invalid([{"field": name, "message": text} for name, text in errors.items()], where)


def _invalid(errors: list[dict[str, str]], where: str) -> Response:
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem("invalid", f"The {where} is not valid: {detail}.", errors=errors)


NUL = "\x00"


def nul_fields(data: Any, where: str = "") -> list[str]:
    """Where ``data`` holds a string (a value or a key) with U+0000 in it: PostgreSQL cannot
    store that character, so no text may contain it (on SQLite too: one rule everywhere)."""
    if isinstance(data, str):
        return [where or "(body)"] if NUL in data else []
    if isinstance(data, list):
        return [f for i, item in enumerate(data) for f in nul_fields(item, f"{where}.{i}")]
    if not isinstance(data, dict):
        return []
    found: list[str] = []
    for key, value in data.items():
        field = f"{where}.{key}" if where else str(key)
        found += ([field] if NUL in str(key) else []) + nul_fields(value, field)
    return found


def nul_problem(fields: list[str], where: str) -> Response:
    errors = [{"field": f.lstrip("."), "message": "must not contain U+0000 (NUL)"} for f in fields]
    names = ", ".join(e["field"] for e in errors)
    return problem("invalid", f"The {where} is not valid: {names} holds U+0000.", errors=errors)


def parse_query(request: Request, model: type[M]) -> M | Response:
    values = dict(request.query_params)
    if nul := nul_fields(values):
        return nul_problem(nul, "query string")
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        return invalid(exc, "query string")


async def parse_body(request: Request, model: type[M], *, optional: bool = False) -> M | Response:
    """400 for a missing or malformed body, 415 for a non-JSON one, 422 for wrong fields."""
    raw = await request.body()
    if not raw.strip():
        if optional:
            return model()
        return problem("bad-request", "This call needs a JSON object as its body.")
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if media_type != "application/json" and not media_type.endswith("+json"):
        return problem(
            "unsupported-media-type", f"Send JSON (application/json), not {media_type!r}."
        )
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return problem("bad-request", f"The body is not valid JSON: {exc}.")
    if not isinstance(data, dict):
        return problem(
            "invalid",
            "The body must be a JSON object.",
            errors=[{"field": "(body)", "message": "expected an object"}],
        )
    if nul := nul_fields(data):
        return nul_problem(nul, "body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return invalid(exc, "body")
