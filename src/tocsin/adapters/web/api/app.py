"""The REST API as one Starlette app mounted at ``/api``.

Every route in :data:`ENDPOINTS` is wrapped the same way: authenticate the bearer token (401/429),
read the incident number from the path (404), validate the query string and body (400/415/422),
call the handler, and turn the errors the services raise into problem details. Routes sharing a
path are served by one :class:`Route`, so a wrong method (``OPTIONS``, ``TRACE``, ...) gets a 405
whose ``Allow`` names every method the path takes. While the database is unavailable every route
answers 503 with ``Retry-After``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence

from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route

from tocsin.adapters.web.api.alerts import alert_routes
from tocsin.adapters.web.api.auth import authenticate
from tocsin.adapters.web.api.endpoints import ENDPOINTS, Call, Endpoint, json_response
from tocsin.adapters.web.api.headers import SecurityHeaders
from tocsin.adapters.web.api.monitors import MONITOR_ENDPOINTS
from tocsin.adapters.web.api.oncall import oncall_routes
from tocsin.adapters.web.api.openapi import ALL_ENDPOINTS, openapi_document
from tocsin.adapters.web.api.parsing import incident_number, parse_body, parse_query
from tocsin.adapters.web.api.people import PEOPLE_ENDPOINTS
from tocsin.adapters.web.api.problems import PROBLEMS, from_error, problem, unavailable
from tocsin.adapters.web.api.ratelimit import FailureLimiter
from tocsin.adapters.web.api.subscribers import SUBSCRIBER_ENDPOINTS
from tocsin.adapters.web.dashboard.templating import render
from tocsin.domain.errors import ConcurrentUpdate, DomainError
from tocsin.services.context import Context
from tocsin.storage.availability import database_unavailable


async def _inputs(
    request: Request, endpoint: Endpoint
) -> tuple[int, BaseModel | None, BaseModel | None] | Response:
    """The path's incident number, the query and the body, validated; or the problem to send."""
    number = 0
    if "number" in request.path_params:
        found = incident_number(request)
        if isinstance(found, Response):
            return found
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


async def http_problem(request: Request, exc: Exception) -> Response:
    """A 404 or 405 as problem details (the outer app uses it for routes under /api too)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        headers = dict(exc.headers or {})
        return problem(
            "method-not-allowed", f"{request.method} is not allowed here.", headers=headers
        )
    return problem("not-found", f"There is no API route at {request.url.path}; see /api/docs.")


async def _internal(request: Request, exc: Exception) -> Response:
    if database_unavailable(exc):
        return unavailable()
    return problem("internal", "Something failed on tocsin's side; it has been logged.")


Handle = Callable[[Request], Awaitable[Response]]


def by_path(routes: Sequence[Route]) -> list[Route]:
    """One route per path, dispatching on the method, in the order the paths first appear.

    Starlette answers a wrong method with the ``Allow`` of the first route whose path matches;
    with one route per path that header lists every method the path takes.
    """
    methods: dict[str, dict[str, Handle]] = {}
    names: dict[str, str | None] = {}
    for route in routes:
        names.setdefault(route.path, route.name)
        for method in route.methods or ():
            methods.setdefault(route.path, {})[method] = route.endpoint

    def dispatch(table: dict[str, Handle]) -> Handle:
        async def endpoint(request: Request) -> Response:
            return await table[request.method](request)

        return endpoint

    return [
        Route(path, dispatch(table), methods=list(table), name=names[path])
        for path, table in methods.items()
    ]


class _Mount(Mount):
    """``/api`` matching any path below it, control characters included (Starlette's ``.*``
    stops at a newline, which let ``/api/v1/incidents/1%0A/...`` escape to a plain-text 404)."""

    def __init__(self, path: str, app: Starlette, name: str) -> None:
        super().__init__(path, app=app, name=name)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


def api_mount(ctx: Context, limiter: FailureLimiter) -> Mount:
    """``/api``: the v1 routes, ``/api/openapi.json`` and ``/api/docs``."""
    routes = [_route(endpoint, ctx, limiter) for endpoint in ENDPOINTS]
    routes += oncall_routes(ctx, limiter)  # on-call schedules and overrides (docs/oncall.md)
    routes += [_route(e, ctx, limiter) for e in SUBSCRIBER_ENDPOINTS]  # docs/status-page.md
    routes += [_route(e, ctx, limiter) for e in PEOPLE_ENDPOINTS]  # docs/oncall.md
    routes += alert_routes(ctx, limiter)  # integrations and alert groups (docs/alerts.md)
    routes += [_route(e, ctx, limiter) for e in MONITOR_ENDPOINTS]  # docs/monitors.md
    routes += [
        Route("/openapi.json", openapi_json, name="openapi"),
        Route("/docs", docs_page, name="api_docs"),
    ]
    app = Starlette(
        routes=by_path(routes),
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: http_problem, Exception: _internal},
    )
    return _Mount("/api", app=app, name="api")
