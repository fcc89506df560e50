"""``/api/v1/monitors``: the uptime monitors with their state (docs/monitors.md).

Rows of the same shape as :data:`~tocsin.adapters.web.api.endpoints.ENDPOINTS` (served and
described the same way, by ``app.py`` and ``openapi.py``): list, one with its recent results,
pause, resume, and create and delete for the monitors stored beside the policy file's. The body
of a create is the keys of a ``[[monitor]]`` table as JSON; only their types are checked here,
their values by the policy file's own rules (:mod:`tocsin.services.monitors.manage`). A caller
that is not an admin creates a restricted monitor (public addresses only, docs/monitors.md
"Private addresses").
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from pydantic import Field, StrictBool, StrictInt, StrictStr
from starlette.responses import Response

from tocsin.adapters.web.api.endpoints import Call, Endpoint, json_response
from tocsin.adapters.web.api.parsing import invalid_fields
from tocsin.adapters.web.api.schemas import Body
from tocsin.domain.errors import PermissionDenied
from tocsin.domain.monitor_definition import MonitorInvalid
from tocsin.services.access.principal import WRITE, acting_context, has_scope, is_admin
from tocsin.services.monitors import manage, record, views

_Text = Annotated[StrictStr, Field(max_length=2000)]


class MonitorBody(Body):
    """One monitor: the keys of a ``[[monitor]]`` table (docs/policy.md, "Monitors")."""

    name: _Text
    kind: _Text
    url: _Text | None = None
    target: _Text | None = None
    method: _Text | None = None
    headers: Annotated[dict[StrictStr, _Text], Field(max_length=50)] | None = None
    interval_seconds: StrictInt | None = None
    timeout_seconds: StrictInt | None = None
    expect_status: Annotated[list[StrictInt], Field(max_length=50)] | None = None
    keyword: _Text | None = None
    absent_keyword: _Text | None = None
    max_response_ms: StrictInt | None = None
    tls_expiry_warn_days: StrictInt | None = None
    down_after: StrictInt | None = None
    up_after: StrictInt | None = None
    component: _Text | None = None
    component_status: _Text | None = None
    follow_redirects: StrictBool | None = None


def _writer(call: Call, what: str) -> None:
    if not has_scope(call.principal, WRITE):
        raise PermissionDenied(f'{what} needs the "{WRITE}" scope.')


async def list_monitors(call: Call) -> Response:
    return json_response({"items": await views.list_monitors(call.ctx)})


async def get_monitor(call: Call) -> Response:
    return json_response(
        await views.monitor_detail(call.ctx, str(call.request.path_params["name"]))
    )


def _pausing(paused: bool) -> Any:
    async def handle(call: Call) -> Response:
        name = str(call.request.path_params["name"])
        _writer(call, "Pausing and resuming monitors")
        await record.set_paused(call.ctx, name, paused)
        return json_response(await views.monitor_detail(call.ctx, name))

    handle.__name__ = "pause_monitor" if paused else "resume_monitor"
    return handle


async def add_monitor(call: Call) -> Response:
    _writer(call, "Creating monitors")
    body: MonitorBody = call.body
    restricted = not is_admin(call.ctx.policy, call.principal)
    ctx = acting_context(call.ctx, call.principal)
    definition = body.model_dump(exclude_none=True)
    try:
        monitor = await manage.add_monitor(ctx, definition, call.principal.actor, restricted)
    except MonitorInvalid as exc:
        return invalid_fields(exc.errors, "body")
    location = f"/api/v1/monitors/{quote(monitor.name, safe='')}"
    return json_response(await views.monitor_detail(ctx, monitor.name), 201, {"Location": location})


async def delete_monitor(call: Call) -> Response:
    _writer(call, "Deleting monitors")
    name = str(call.request.path_params["name"])
    ctx = acting_context(call.ctx, call.principal)
    await manage.delete_monitor(ctx, name, call.principal.actor)
    return json_response({"message": f"Deleted monitor {name}."})


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


_STR: dict[str, Any] = {"type": "string"}
_NSTR: dict[str, Any] = {"type": ["string", "null"]}
_WHEN: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
_MS: dict[str, Any] = {"type": ["integer", "null"]}
_MONITOR = _obj(
    ["name", "kind", "source", "status", "last_checked", "latency_ms"],
    name=_STR, kind={"enum": ["http", "tcp"]}, source={"enum": ["policy", "api"]}, target=_STR,
    interval_seconds={"type": "integer"},
    component=_NSTR, status={"enum": ["up", "down", "paused", "pending"]}, since=_WHEN,
    last_checked=_WHEN, latency_ms=_MS,
)  # fmt: skip
_RESULT = _obj(
    ["checked_at", "ok"],
    checked_at={"type": "string", "format": "date-time"}, ok={"type": "boolean"},
    latency_ms=_MS, error=_NSTR,
)  # fmt: skip
MONITOR_SCHEMAS: dict[str, Any] = {
    "Monitor": _MONITOR,
    "MonitorList": _obj(["items"], items={"type": "array", "items": _MONITOR}),
    "MonitorDetail": {
        "allOf": [_MONITOR, _obj(["results"], results={"type": "array", "items": _RESULT})]
    },
}

_ONE = "/v1/monitors/{name}"
MONITOR_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/v1/monitors", "listMonitors",
             "The uptime monitors (the policy file's and those created here), with their "
             "status and last check.",
             list_monitors, returns="MonitorList", tag="monitors", errors=()),
    Endpoint("POST", "/v1/monitors", "createMonitor",
             "Create a monitor from the keys of a [[monitor]] table; without admin rights it "
             "may only target public addresses (audited).",
             add_monitor, "write", MonitorBody, status=201, returns="MonitorDetail",
             tag="monitors", errors=(403, 409)),
    Endpoint("GET", _ONE, "getMonitor", "One monitor with its most recent check results.",
             get_monitor, returns="MonitorDetail", tag="monitors"),
    Endpoint("DELETE", _ONE, "deleteMonitor",
             "Delete a monitor created through the API or the CLI; one that is down resolves "
             "its alert (audited). A policy file's monitor is a 409.",
             delete_monitor, "write", returns="Message", tag="monitors",
             errors=(403, 404, 409)),
    Endpoint("POST", f"{_ONE}/pause", "pauseMonitor",
             "Stop checking a monitor; one that is down resolves its alert.",
             _pausing(True), "write", returns="MonitorDetail", tag="monitors",
             errors=(403, 404)),
    Endpoint("POST", f"{_ONE}/resume", "resumeMonitor",
             "Check a paused monitor again, from pending.",
             _pausing(False), "write", returns="MonitorDetail", tag="monitors",
             errors=(403, 404)),
)  # fmt: skip
