"""Alert routes of the REST API (mounted under ``/api`` with the rest; docs/alerts.md):

=========================================  =====  ==============================================
``GET /v1/integrations``                   admin  the integrations (never their secrets)
``POST /v1/integrations``                  admin  ``{"kind", "name"}``: 201 with the URL, once
``POST /v1/integrations/{name}/rotate``    admin  a new secret; the old URL stops working
``DELETE /v1/integrations/{name}``         admin  delete; its URL answers 404 from then on
``GET /v1/alert-groups``                   read   groups, most recently seen first
``GET /v1/alert-groups/{id}``              read   one group with its alerts
``POST /v1/alert-groups/{id}/ack``         write  acknowledge
``POST /v1/alert-groups/{id}/silence``     write  ``{"minutes"}``: silence it for a while
``POST /v1/alert-groups/{id}/declare``     write  declare an incident for it
``GET /v1/silences``                       read   silences not ended (``?all=true``: all)
``POST /v1/silences``                      write  ``{"matchers", "minutes", "comment"}``
``DELETE /v1/silences/{id}``               write  end a silence now
=========================================  =====  ==============================================
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tocsin.adapters.web.api.endpoints import Call, Endpoint, json_response
from tocsin.adapters.web.api.oncall import Handler, _route
from tocsin.adapters.web.api.parsing import parse_body, parse_query, path_id
from tocsin.adapters.web.api.problems import problem
from tocsin.adapters.web.api.ratelimit import FailureLimiter
from tocsin.services.access.principal import ADMIN, WRITE, Principal, has_scope
from tocsin.services.alerts import groups as group_service
from tocsin.services.alerts import integrations as service
from tocsin.services.alerts import silences
from tocsin.services.alerts.views import group_dict
from tocsin.services.context import Context

MAX_MINUTES = 30 * 24 * 60
STATUSES = ("firing", "acknowledged", "silenced", "resolved")


class IntegrationBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["alertmanager", "grafana", "webhook", "heartbeat"]
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    period_seconds: int | None = Field(
        None, ge=60, le=30 * 24 * 3600, description="heartbeats only: a call is due this often"
    )
    grace_seconds: int | None = Field(
        None, ge=0, le=24 * 3600, description="heartbeats only: how late a call may be"
    )


class SilenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    minutes: int = Field(60, ge=1, le=MAX_MINUTES)


class MatcherSilenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    matchers: str = Field(
        min_length=1, max_length=2000, description='e.g. team="payments",severity=~"crit.*"'
    )
    minutes: int = Field(60, ge=1, le=MAX_MINUTES)
    comment: str = Field("", max_length=500)


class SilenceQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    all: bool = False


class GroupQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["firing", "acknowledged", "silenced", "resolved", "all"] = "all"
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=100_000)


def _needs(principal: Principal, scope: str) -> Response | None:
    if has_scope(principal, scope):
        return None
    return problem(
        "forbidden", f'The "{principal.scope}" scope cannot do this; it needs "{scope}".'
    )


async def integrations(request: Request, ctx: Context, principal: Principal) -> Response:
    if refused := _needs(principal, ADMIN):
        return refused
    rows = await service.list_integrations(ctx)
    return json_response({"items": [service.integration_dict(row) for row in rows]})


async def create_integration(request: Request, ctx: Context, principal: Principal) -> Response:
    if refused := _needs(principal, ADMIN):
        return refused
    body = await parse_body(request, IntegrationBody)
    if isinstance(body, Response):
        return body
    period, grace = (
        None if seconds is None else timedelta(seconds=seconds)
        for seconds in (body.period_seconds, body.grace_seconds)
    )
    made = await service.create_integration(
        ctx, body.kind, body.name, principal.actor.key, period=period, grace=grace
    )
    return json_response(made.to_dict(), 201)


async def rotate_integration(request: Request, ctx: Context, principal: Principal) -> Response:
    if refused := _needs(principal, ADMIN):
        return refused
    made = await service.rotate_integration(ctx, str(request.path_params["name"]))
    return json_response(made.to_dict())


async def delete_integration(request: Request, ctx: Context, principal: Principal) -> Response:
    if refused := _needs(principal, ADMIN):
        return refused
    name = str(request.path_params["name"])
    await service.delete_integration(ctx, name)
    return json_response({"message": f'Deleted integration "{name}".'})


async def groups(request: Request, ctx: Context, principal: Principal) -> Response:
    query = parse_query(request, GroupQuery)
    if isinstance(query, Response):
        return query
    statuses = STATUSES if query.status == "all" else (query.status,)
    found = await group_service.list_groups(
        ctx, statuses=statuses, limit=query.limit, offset=query.offset
    )
    return json_response({"items": [group_dict(kept) for kept in found]})


def _group_handler(act: str) -> Handler:
    async def handle(request: Request, ctx: Context, principal: Principal) -> Response:
        found = path_id(request, "group_id", "an alert group id")
        if isinstance(found, Response):
            return found
        if act == "get":
            return json_response(group_dict(await group_service.get_group(ctx, found), alerts=True))
        if refused := _needs(principal, WRITE):
            return refused
        if act == "ack":
            kept = await group_service.ack_group(ctx, principal.actor, found)
        elif act == "declare":
            kept = await group_service.declare_group(ctx, principal.actor, found)
        else:
            body = await parse_body(request, SilenceBody, optional=True)
            if isinstance(body, Response):
                return body
            span = timedelta(minutes=body.minutes)
            kept = await group_service.silence_group(ctx, principal.actor, found, span)
        return json_response(group_dict(kept))

    handle.__name__ = f"group_{act}"
    return handle


async def list_silences(request: Request, ctx: Context, principal: Principal) -> Response:
    query = parse_query(request, SilenceQuery)
    if isinstance(query, Response):
        return query
    found = await silences.list_silences(ctx, expired=query.all)
    return json_response({"items": [silences.silence_dict(row) for row in found]})


async def create_silence(request: Request, ctx: Context, principal: Principal) -> Response:
    if refused := _needs(principal, WRITE):
        return refused
    body = await parse_body(request, MatcherSilenceBody)
    if isinstance(body, Response):
        return body
    span = timedelta(minutes=body.minutes)
    made = await silences.create_silence(ctx, principal.actor, body.matchers, span, body.comment)
    return json_response(silences.silence_dict(made), 201)


async def end_silence(request: Request, ctx: Context, principal: Principal) -> Response:
    found = path_id(request, "silence_id", "a silence id")
    if isinstance(found, Response):
        return found
    if refused := _needs(principal, WRITE):
        return refused
    ended = await silences.expire_silence(ctx, principal.actor, found)
    return json_response(silences.silence_dict(ended))


def alert_routes(ctx: Context, limiter: FailureLimiter) -> list[Route]:
    """The integration and alert group routes, for the ``/api`` mount."""
    named = "/v1/integrations/{name}"
    one = "/v1/alert-groups/{group_id}"  # documented as {id}
    table: list[tuple[str, Handler, str]] = [
        ("/v1/integrations", integrations, "GET"),
        ("/v1/integrations", create_integration, "POST"),
        (f"{named}/rotate", rotate_integration, "POST"),
        (named, delete_integration, "DELETE"),
        ("/v1/alert-groups", groups, "GET"),
        (one, _group_handler("get"), "GET"),
        (f"{one}/ack", _group_handler("ack"), "POST"),
        (f"{one}/silence", _group_handler("silence"), "POST"),
        (f"{one}/declare", _group_handler("declare"), "POST"),
        ("/v1/silences", list_silences, "GET"),
        ("/v1/silences", create_silence, "POST"),
        ("/v1/silences/{silence_id}", end_silence, "DELETE"),  # documented as {id}
    ]
    return [
        _route(path, handler, ctx, limiter, method, prefix="alerts")
        for path, handler, method in table
    ]


# --- the description for /api/openapi.json (added to OTHER_ENDPOINTS) ---------------------------
async def _served_here(call: Call) -> Response:
    """Never called: the rows below only describe the routes above."""
    raise NotImplementedError(call.request.url.path)


_S: dict[str, Any] = {"type": "string"}
_T: dict[str, Any] = {"type": "string", "format": "date-time"}
_NT: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
_I: dict[str, Any] = {"type": "integer"}
_LABELS: dict[str, Any] = {"type": "object", "additionalProperties": _S}
_INTEGRATION = {
    "id": _S,
    "kind": _S,
    "name": _S,
    "created_at": _T,
    "created_by": _S,
    "last_received_at": _NT,
    "period_seconds": _I,
    "grace_seconds": _I,
}
_GROUP = {
    "id": _I,
    "status": {"enum": list(STATUSES)},
    "silenced_reason": {"type": ["string", "null"]},
    "title": _S,
    "alerts": _I,
    "firing": _I,
    "incident": {"type": ["string", "null"]},
    "action": _S,
    "labels": _LABELS,
    "group_key": _S,
    "first_seen": _T,
    "last_seen": _T,
    "fired_at": _NT,
}


def _schema(required: list[str], props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


def _items(name: str) -> dict[str, Any]:
    item = {"$ref": f"#/components/schemas/{name}"}
    return _schema(["items"], {"items": {"type": "array", "items": item}})


ALERT_SCHEMAS: dict[str, Any] = {
    "Integration": _schema(["id", "kind", "name"], _INTEGRATION),
    "IntegrationCreated": _schema(["id", "kind", "name", "url"],
                                  {**_INTEGRATION, "url": _S, "signing_secret": _S}),
    "IntegrationList": _items("Integration"),
    "AlertGroup": _schema(["id", "status", "title", "alerts", "incident"], _GROUP),
    "AlertGroupDetail": _schema(["id", "status", "title", "alerts", "incident", "alert_list"],
                                {**_GROUP, "alert_list": {"type": "array",
                                                          "items": {"type": "object"}}}),
    "AlertGroupList": _items("AlertGroup"),
    "Silence": _schema(["id", "matchers", "group", "starts_at", "ends_at"],
                       {"id": _I, "matchers": _S, "group": {"type": ["integer", "null"]},
                        "starts_at": _T, "ends_at": _T, "comment": _S, "created_by": _S}),
    "SilenceList": _items("Silence"),
}  # fmt: skip

_E = _served_here
_NAMED, _ONE = "/v1/integrations/{name}", "/v1/alert-groups/{id}"
ALERT_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/v1/integrations", "listIntegrations",
             "The alert integrations (admins; never their secrets).",
             _E, "admin", returns="IntegrationList", tag="alerts", errors=(403,)),
    Endpoint("POST", "/v1/integrations", "createIntegration",
             "Create an alert integration; its URL (with the secret) is shown only here.",
             _E, "admin", IntegrationBody, status=201, returns="IntegrationCreated",
             tag="alerts", errors=(403,)),
    Endpoint("POST", f"{_NAMED}/rotate", "rotateIntegration",
             "Give the integration a new secret; its old URL stops working at once.",
             _E, "admin", returns="IntegrationCreated", tag="alerts", errors=(403, 404)),
    Endpoint("DELETE", _NAMED, "deleteIntegration", "Delete an alert integration.",
             _E, "admin", returns="Message", tag="alerts", errors=(403, 404)),
    Endpoint("GET", "/v1/alert-groups", "listAlertGroups",
             "Alert groups, most recently seen first.",
             _E, query=GroupQuery, returns="AlertGroupList", tag="alerts", errors=()),
    Endpoint("GET", _ONE, "getAlertGroup", "An alert group with its alerts.",
             _E, returns="AlertGroupDetail", tag="alerts"),
    Endpoint("POST", f"{_ONE}/ack", "ackAlertGroup", "Acknowledge an alert group.",
             _E, "write", returns="AlertGroup", tag="alerts", errors=(403, 404, 409)),
    Endpoint("POST", f"{_ONE}/silence", "silenceAlertGroup",
             "Silence an alert group for a while (1 minute to 30 days; 60 by default).",
             _E, "write", SilenceBody, returns="AlertGroup", tag="alerts",
             errors=(403, 404, 409)),
    Endpoint("POST", f"{_ONE}/declare", "declareAlertGroup",
             "Declare an incident for an alert group.",
             _E, "write", returns="AlertGroup", tag="alerts", errors=(403, 404, 409)),
    Endpoint("GET", "/v1/silences", "listSilences",
             "Silences not ended yet, newest first (all=true: the ended ones too).",
             _E, query=SilenceQuery, returns="SilenceList", tag="alerts", errors=()),
    Endpoint("POST", "/v1/silences", "createSilence",
             "Silence every alert whose labels match, for 1 minute to 30 days.",
             _E, "write", MatcherSilenceBody, status=201, returns="Silence", tag="alerts",
             errors=(403, 409)),
    Endpoint("DELETE", "/v1/silences/{id}", "endSilence", "End a silence now.",
             _E, "write", returns="Silence", tag="alerts", errors=(403, 404)),
)  # fmt: skip
