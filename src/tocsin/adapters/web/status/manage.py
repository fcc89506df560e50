"""REST calls for the status page, beside the REST API, with its bearer tokens and problems:

* ``GET /api/v1/status/components`` (read): components with stored and effective status;
* ``PUT /api/v1/status/components/{name}`` (admins): create or change one (status, description,
  position); ``DELETE`` removes it, or a policy component's stored override;
* ``PUT /api/v1/incidents/{number}/visibility`` ``{"public": true|false|null}``: the commander
  (or an admin) makes the incident public, private, or follow the severity policy again;
* ``PUT /api/v1/incidents/{number}/components`` ``{"components": ["API", ...]}``: whoever may
  post the incident's updates names the components it affects;
* ``/api/v1/maintenances``: scheduled maintenance (:mod:`.maintenance_calls`).

Every change, and every refusal, is audited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tocsin.adapters.views import incident_view
from tocsin.adapters.web.api.auth import authenticate
from tocsin.adapters.web.api.endpoints import json_response
from tocsin.adapters.web.api.parsing import incident_number, nul_fields, nul_problem, parse_body
from tocsin.adapters.web.api.problems import from_error
from tocsin.adapters.web.api.ratelimit import FailureLimiter
from tocsin.adapters.web.status import maintenance_calls
from tocsin.adapters.web.status.cache import StatusCache
from tocsin.domain.errors import ConcurrentUpdate, DomainError
from tocsin.domain.status_view import ComponentRecord
from tocsin.services import public_status_page, visibility
from tocsin.services.access.principal import Principal, acting_context, has_scope
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import deny

Name = Annotated[StrictStr, Field(min_length=1, max_length=public_status_page.MAX_NAME)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ComponentBody(_Body):
    description: (
        Annotated[StrictStr, Field(max_length=public_status_page.MAX_DESCRIPTION)] | None
    ) = None
    status: StrictStr | None = None
    position: Annotated[StrictInt, Field(ge=0, le=10_000)] | None = None


class VisibilityBody(_Body):
    public: StrictBool | None


class IncidentComponentsBody(_Body):
    components: Annotated[list[Name], Field(max_length=100)]


Handler = Callable[[Request, Context, Principal], Awaitable[Response]]


def component_item(record: ComponentRecord, effective: str, in_policy: bool) -> dict[str, Any]:
    return {
        "name": record.name,
        "description": record.description,
        "status": record.status,
        "effective_status": effective,
        "position": record.position,
        "source": "policy" if in_policy else "api",
    }


def _outcome(outcome: Outcome) -> Response:
    incident = incident_view(outcome.incident) if outcome.incident else None
    return json_response({"message": outcome.message, "incident": incident})


Endpoint = Callable[[Request], Awaitable[Response]]


def _guard(
    handler: Handler, ctx: Context, limiter: FailureLimiter, command: str, scope: str
) -> Endpoint:
    """Authenticate, check the token's scope (a refusal is audited), map domain errors."""

    async def guarded(request: Request) -> Response:
        principal = await authenticate(request, ctx, limiter)
        if isinstance(principal, Response):
            return principal
        if nul := nul_fields(dict(request.path_params)):
            return nul_problem(nul, "path")
        try:
            if not has_scope(principal, scope):
                reason = f'This call needs the "{scope}" scope; the caller has "{principal.scope}".'
                async with ctx.uow() as uow:
                    raise await deny(uow, principal.actor, command, None, reason, ctx.clock())
            return await handler(request, acting_context(ctx, principal), principal)
        except (DomainError, ConcurrentUpdate) as exc:
            return from_error(exc)

    return guarded


def _lister(cache: StatusCache) -> Handler:
    async def list_components(request: Request, c: Context, p: Principal) -> Response:
        records = await public_status_page.components(c)
        page = await cache.current()
        effective = {comp.name: comp.status for comp in page.components}
        names = {comp.name for comp in c.policy.components}
        items = [
            component_item(r, effective.get(r.name, r.status), r.name in names) for r in records
        ]
        return json_response({"items": items})

    return list_components


async def put_component(request: Request, c: Context, p: Principal) -> Response:
    body = await parse_body(request, ComponentBody, optional=True)
    if isinstance(body, Response):
        return body
    change = public_status_page.ComponentChange(body.description, body.status, body.position)
    record = await public_status_page.save_component(
        c, p.actor, str(request.path_params["name"]), change
    )
    names = {comp.name for comp in c.policy.components}
    return json_response(component_item(record, record.status, record.name in names))


async def delete_component(request: Request, c: Context, p: Principal) -> Response:
    message = await public_status_page.remove_component(
        c, p.actor, str(request.path_params["name"])
    )
    return json_response({"message": message})


async def put_visibility(request: Request, c: Context, p: Principal) -> Response:
    number, body = incident_number(request), await parse_body(request, VisibilityBody)
    if isinstance(number, Response) or isinstance(body, Response):
        return number if isinstance(number, Response) else body  # type: ignore[return-value]
    return _outcome(await visibility.set_visibility(c, p.actor, number, body.public))


async def put_components(request: Request, c: Context, p: Principal) -> Response:
    number, body = incident_number(request), await parse_body(request, IncidentComponentsBody)
    if isinstance(number, Response) or isinstance(body, Response):
        return number if isinstance(number, Response) else body  # type: ignore[return-value]
    return _outcome(await visibility.set_components(c, p.actor, number, body.components))


def routes(ctx: Context, limiter: FailureLimiter, cache: StatusCache) -> list[BaseRoute]:
    """The calls above; mount them before the ``/api`` mount so they are matched first."""
    table: list[tuple[str, str, Handler, str, str]] = [
        ("GET", "/api/v1/status/components", _lister(cache), "show", "read"),
        ("PUT", "/api/v1/status/components/{name:path}", put_component, "component", "write"),
        ("DELETE", "/api/v1/status/components/{name:path}", delete_component, "component", "write"),
        ("PUT", "/api/v1/incidents/{number}/visibility", put_visibility, "visibility", "write"),
        ("PUT", "/api/v1/incidents/{number}/components", put_components, "components", "write"),
        *maintenance_calls.TABLE,  # scheduled maintenance (docs/status-page.md)
    ]
    found: dict[str, dict[str, Endpoint]] = {}
    for method, path, handler, command, scope in table:
        found.setdefault(path, {})[method] = _guard(handler, ctx, limiter, command, scope)
    return [_route(path, by_method) for path, by_method in found.items()]


def _route(path: str, by_method: dict[str, Endpoint]) -> Route:
    async def endpoint(request: Request) -> Response:
        return await by_method[request.method](request)

    return Route(path, endpoint, methods=list(by_method))
