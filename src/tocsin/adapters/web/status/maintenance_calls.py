"""REST calls for scheduled maintenance, served beside the status page's other calls
(:mod:`tocsin.adapters.web.status.manage` authenticates, checks the scope and maps errors):

=========================================  =====  ==============================================
``GET /api/v1/maintenances``               read   upcoming and current (``?all=true``: the last
                                                  90 days too, cancelled ones included)
``POST /api/v1/maintenances``              write  ``{"title", "start", "end", "components"?,
                                                  "description"?}``
``GET /api/v1/maintenances/{id}``          read   one maintenance
``PATCH /api/v1/maintenances/{id}``        write  any of the fields above
``POST /api/v1/maintenances/{id}/cancel``  write  call it off
=========================================  =====  ==============================================

A field the domain refuses (an end before the start, an unknown component, a window wholly in
the past) is a 422 problem whose ``errors`` name it; nothing is saved.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictStr
from starlette.requests import Request
from starlette.responses import Response

from tocsin.adapters.web.api.endpoints import json_response
from tocsin.adapters.web.api.parsing import invalid_fields, parse_body, parse_query, path_id
from tocsin.domain import maintenance as rules
from tocsin.domain.maintenance import MaintenanceInvalid
from tocsin.services import maintenance as service
from tocsin.services.access.principal import Principal
from tocsin.services.context import Context

Title = Annotated[StrictStr, Field(min_length=1, max_length=rules.MAX_TITLE, pattern=r"\S")]
When = Annotated[StrictStr, Field(min_length=1, max_length=64)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=100)]
Names = Annotated[list[Name], Field(max_length=rules.MAX_COMPONENTS)]
Description = Annotated[StrictStr, Field(max_length=rules.MAX_DESCRIPTION)]


class MaintenanceBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Title
    start: When
    end: When
    components: Names = []
    description: Description = ""


class MaintenancePatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Title | None = None
    start: When | None = None
    end: When | None = None
    components: Names | None = None
    description: Description | None = None


class MaintenanceQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    all: bool = False


Handler = Callable[[Request, Context, Principal], Awaitable[Response]]


def _refused(exc: MaintenanceInvalid) -> Response:
    return invalid_fields({exc.field: exc.what}, "body")


def _id(request: Request) -> int | Response:
    return path_id(request, "maintenance_id", "a maintenance id")


async def list_maintenances(request: Request, c: Context, p: Principal) -> Response:
    query = parse_query(request, MaintenanceQuery)
    if isinstance(query, Response):
        return query
    found = await (service.recent(c) if query.all else service.upcoming_and_current(c))
    return json_response({"items": [service.maintenance_view(m) for m in found]})


async def create_maintenance(request: Request, c: Context, p: Principal) -> Response:
    body = await parse_body(request, MaintenanceBody)
    if isinstance(body, Response):
        return body
    try:
        made = await service.create(
            c, p.actor, body.title, body.start, body.end, body.components, body.description
        )
    except MaintenanceInvalid as exc:
        return _refused(exc)
    location = {"Location": f"/api/v1/maintenances/{made.id}"}
    return json_response(service.maintenance_view(made), 201, location)


async def get_maintenance(request: Request, c: Context, p: Principal) -> Response:
    found = _id(request)
    if isinstance(found, Response):
        return found
    return json_response(service.maintenance_view(await service.get(c, found)))


async def patch_maintenance(request: Request, c: Context, p: Principal) -> Response:
    found, body = _id(request), await parse_body(request, MaintenancePatch, optional=True)
    if isinstance(found, Response) or isinstance(body, Response):
        return found if isinstance(found, Response) else body  # type: ignore[return-value]
    change = service.MaintenanceChange(
        body.title, body.start, body.end, body.components, body.description
    )
    try:
        changed = await service.edit(c, p.actor, found, change)
    except MaintenanceInvalid as exc:
        return _refused(exc)
    return json_response(service.maintenance_view(changed))


async def cancel_maintenance(request: Request, c: Context, p: Principal) -> Response:
    found = _id(request)
    if isinstance(found, Response):
        return found
    return json_response(service.maintenance_view(await service.cancel(c, p.actor, found)))


_ONE = "/api/v1/maintenances/{maintenance_id}"
TABLE: list[tuple[str, str, Handler, str, str]] = [
    ("GET", "/api/v1/maintenances", list_maintenances, "show", "read"),
    ("POST", "/api/v1/maintenances", create_maintenance, service.CREATE, "write"),
    ("GET", _ONE, get_maintenance, "show", "read"),
    ("PATCH", _ONE, patch_maintenance, service.EDIT, "write"),
    ("POST", _ONE + "/cancel", cancel_maintenance, service.CANCEL, "write"),
]
"""(method, path, handler, audited command, scope), for :func:`manage.routes`."""
