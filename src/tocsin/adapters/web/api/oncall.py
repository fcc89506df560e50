"""On-call routes of the REST API (mounted under ``/api`` with the rest):

=======================================  =====  ============================================
``GET /v1/oncall``                       read   who is on call now and next, per schedule
``GET /v1/schedules/{name}.ics``         read   iCalendar feed of the coming shifts
                                                (``?weeks=8``, ``?person=slack:U0ALICE``)
``GET /v1/overrides``                    read   overrides running or to come
``POST /v1/overrides``                   write  ``{"person", "from", "to", "schedule"?, "reason"?}``
``DELETE /v1/overrides/{id}``            write  remove an override
``GET /v1/people``                       read   the people (stored edits applied), contacts masked
=======================================  =====  ============================================

Every route needs a token. Calendar apps cannot send headers, so the feed also takes the token as
``?token=...`` (use a read-scope token made for it: URLs end up in logs).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tocsin.adapters.web.api.auth import authenticate, client_ip, rate_limited
from tocsin.adapters.web.api.endpoints import json_response
from tocsin.adapters.web.api.parsing import parse_body, parse_query, path_id
from tocsin.adapters.web.api.problems import from_error, problem
from tocsin.adapters.web.api.ratelimit import FailureLimiter
from tocsin.adapters.web.api.schemas import OptionalShort, Reason, Short
from tocsin.domain.errors import DomainError
from tocsin.services import oncall as service
from tocsin.services.access.principal import WRITE, Principal, has_scope
from tocsin.services.access.tokens import authenticate_token
from tocsin.services.context import Context
from tocsin.services.people import people_view
from tocsin.services.person_edits import list_people

Handler = Callable[[Request, Context, Principal], Awaitable[Response]]


class OverrideBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    person: Short
    starts: Short = Field(alias="from")
    ends: Short = Field(alias="to")
    schedule: Short | None = None
    reason: Reason = ""


class CalendarQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    weeks: int = Field(8, ge=1, le=service.MAX_WEEKS)
    person: OptionalShort = ""


async def who(request: Request, ctx: Context, principal: Principal) -> Response:
    return json_response(service.who_view(await service.who(ctx)))


async def feed(request: Request, ctx: Context, principal: Principal) -> Response:
    query = parse_query(request, CalendarQuery)
    if isinstance(query, Response):
        return query
    name = str(request.path_params["name"])
    text = await service.calendar(ctx, name, query.weeks, query.person)
    headers = {"Content-Disposition": f'inline; filename="{name}.ics"', "Cache-Control": "no-store"}
    return Response(text, headers=headers, media_type="text/calendar; charset=utf-8")


async def overrides(request: Request, ctx: Context, principal: Principal) -> Response:
    return json_response(
        {"items": [service.override_view(o) for o in await service.list_overrides(ctx)]}
    )


async def people(request: Request, ctx: Context, principal: Principal) -> Response:
    return json_response(people_view(await list_people(ctx)))


async def create_override(request: Request, ctx: Context, principal: Principal) -> Response:
    if not has_scope(principal, WRITE):
        raise await service.refuse(ctx, principal.actor, service.OVERRIDE_COMMAND, principal.scope)
    body = await parse_body(request, OverrideBody)
    if isinstance(body, Response):
        return body
    made = await service.add_override(
        ctx,
        principal.actor,
        body.person,
        body.starts,
        body.ends,
        schedule=body.schedule,
        reason=body.reason,
    )
    location = {"Location": f"/api/v1/overrides/{made.id}"}
    return json_response(service.override_view(made), 201, location)


async def delete_override(request: Request, ctx: Context, principal: Principal) -> Response:
    if not has_scope(principal, WRITE):
        raise await service.refuse(ctx, principal.actor, service.REMOVE_COMMAND, principal.scope)
    found = path_id(request, "override_id", "an override id")
    if isinstance(found, Response):
        return found
    gone = await service.remove_override(ctx, principal.actor, found)
    return json_response(service.override_view(gone))


async def _from_query(request: Request, ctx: Context, limiter: FailureLimiter) -> Any:
    """The principal of a ``?token=`` (calendar subscriptions), or the problem to send."""
    key = client_ip(request)
    wait = await limiter.retry_after(key)
    if wait:
        return rate_limited(wait, f"Too many failed attempts; try again in {wait} seconds.")
    principal = await authenticate_token(ctx, request.query_params["token"].strip())
    if principal is None:
        await limiter.failed(key)
        return problem(
            "unauthorized", "That token is not valid: it is unknown, mistyped or revoked."
        )
    return principal


def _route(
    path: str,
    handler: Handler,
    ctx: Context,
    limiter: FailureLimiter,
    method: str = "GET",
    *,
    query_token: bool = False,
    prefix: str = "oncall",
) -> Route:
    async def handle(request: Request) -> Response:
        token = query_token and bool(request.query_params.get("token"))
        if token and "authorization" not in request.headers:
            principal = await _from_query(request, ctx, limiter)
        else:
            principal = await authenticate(request, ctx, limiter)
        if isinstance(principal, Response):
            return principal
        try:
            return await handler(request, ctx, principal)
        except DomainError as exc:
            return from_error(exc)

    return Route(path, handle, methods=[method], name=f"{prefix}_{handler.__name__}")


def oncall_routes(ctx: Context, limiter: FailureLimiter) -> list[Route]:
    """The on-call routes, for the ``/api`` mount."""
    return [
        _route("/v1/oncall", who, ctx, limiter),
        _route("/v1/schedules/{name:path}.ics", feed, ctx, limiter, query_token=True),
        _route("/v1/overrides", overrides, ctx, limiter),
        _route("/v1/overrides", create_override, ctx, limiter, "POST"),
        _route("/v1/overrides/{override_id}", delete_override, ctx, limiter, "DELETE"),
        _route("/v1/people", people, ctx, limiter),
    ]
