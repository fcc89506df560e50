"""The REST API as one Starlette app mounted at ``/api``.

Every route in :data:`ENDPOINTS` is wrapped the same way: authenticate the bearer token (401/429),
read the incident number from the path (404), validate the query string and body (400/415/422),
call the handler, and turn the errors the services raise into problem details.
"""

from __future__ import annotations

from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route

from tocsin.adapters.web.api.auth import authenticate
from tocsin.adapters.web.api.endpoints import ENDPOINTS, Call, Endpoint, json_response
from tocsin.adapters.web.api.headers import SecurityHeaders
from tocsin.adapters.web.api.oncall import oncall_routes
from tocsin.adapters.web.api.openapi import ALL_ENDPOINTS, openapi_document
from tocsin.adapters.web.api.parsing import parse_body, parse_query
from tocsin.adapters.web.api.problems import PROBLEMS, from_error, problem
from tocsin.adapters.web.api.ratelimit import FailureLimiter
from tocsin.adapters.web.dashboard.templating import render
from tocsin.domain.commands import parse_incident_ref
from tocsin.domain.errors import DomainError
from tocsin.services.context import Context
from tocsin.storage.incidents import ConcurrentUpdate


async def _inputs(
    request: Request, endpoint: Endpoint
) -> tuple[int, BaseModel | None, BaseModel | None] | Response:
    """The path's incident number, the query and the body, validated; or the problem to send."""
    number = 0
    if "number" in request.path_params:
        raw = str(request.path_params["number"])
        found = parse_incident_ref(raw)
        if found is None:
            return problem("not-found", f"{raw[:40]!r} is not an incident; use 12 or INC-12.")
        number = found
    query = parse_query(request, endpoint.query) if endpoint.query else None
    if isinstance(query, Response):
        return query
    if endpoint.body is None:
        return number, query, None
    optional = not endpoint.body.model_json_schema().get("required")
    body = await parse_body(request, endpoint.body, optional=optional)
    if isinstance(body, Response):
        return body
    return number, query, body


def _route(endpoint: Endpoint, ctx: Context, limiter: FailureLimiter) -> Route:
    async def handle(request: Request) -> Response:
        principal = await authenticate(request, ctx, limiter)
        if isinstance(principal, Response):
            return principal
        inputs = await _inputs(request, endpoint)
        if isinstance(inputs, Response):
            return inputs
        number, query, body = inputs
        try:
            return await endpoint.handler(Call(request, ctx, principal, number, body, query))
        except (DomainError, ConcurrentUpdate) as exc:
            return from_error(exc)

    return Route(endpoint.path, handle, methods=[endpoint.method], name=endpoint.name)


async def openapi_json(request: Request) -> Response:
    return json_response(openapi_document())


async def docs_page(request: Request) -> Response:
    """A plain page listing every route and problem type, for people (no script needed)."""
    problems = [(slug, *info) for slug, info in PROBLEMS.items()]
    html = render(
        "api_docs.html", endpoints=ALL_ENDPOINTS, problems=problems,
        user=None, admin=False, csrf="", flash=None,
    )  # fmt: skip
    return HTMLResponse(html)


async def _http_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        headers = dict(exc.headers or {})
        return problem(
            "method-not-allowed", f"{request.method} is not allowed here.", headers=headers
        )
    return problem("not-found", f"There is no API route at {request.url.path}; see /api/docs.")


async def _internal(request: Request, exc: Exception) -> Response:
    return problem("internal", "Something failed on tocsin's side; it has been logged.")


def api_mount(ctx: Context, limiter: FailureLimiter) -> Mount:
    """``/api``: the v1 routes, ``/api/openapi.json`` and ``/api/docs``."""
    routes = [_route(endpoint, ctx, limiter) for endpoint in ENDPOINTS]
    routes += oncall_routes(ctx, limiter)  # on-call schedules and overrides (issue 8)
    routes += [
        Route("/openapi.json", openapi_json, name="openapi"),
        Route("/docs", docs_page, name="api_docs"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: _http_problem, Exception: _internal},
    )
    return Mount("/api", app=app, name="api")
