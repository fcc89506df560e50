"""Turn a request's JSON body and query string into validated models, or a problem response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from tocsin.adapters.web.api.problems import problem

M = TypeVar("M", bound=BaseModel)


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


def parse_query(request: Request, model: type[M]) -> M | Response:
    try:
        return model.model_validate(dict(request.query_params))
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
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return invalid(exc, "body")
