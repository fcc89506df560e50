"""``/api/v1/monitors``: the policy's uptime monitors with their state (docs/monitors.md).

Rows of the same shape as :data:`~tocsin.adapters.web.api.endpoints.ENDPOINTS` (served and
described the same way, by ``app.py`` and ``openapi.py``): list, one with its recent results,
pause, resume. Monitors are defined in the policy file, so there is no create or delete.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from tocsin.adapters.web.api.endpoints import Call, Endpoint, json_response
from tocsin.domain.errors import PermissionDenied
from tocsin.services.access.principal import WRITE, has_scope
from tocsin.services.monitors import record, views


async def list_monitors(call: Call) -> Response:
    return json_response({"items": await views.list_monitors(call.ctx)})


async def get_monitor(call: Call) -> Response:
    return json_response(
        await views.monitor_detail(call.ctx, str(call.request.path_params["name"]))
    )


def _pausing(paused: bool) -> Any:
    async def handle(call: Call) -> Response:
        name = str(call.request.path_params["name"])
        if not has_scope(call.principal, WRITE):
            raise PermissionDenied(f'Pausing and resuming monitors needs the "{WRITE}" scope.')
        await record.set_paused(call.ctx, name, paused)
        return json_response(await views.monitor_detail(call.ctx, name))

    handle.__name__ = "pause_monitor" if paused else "resume_monitor"
    return handle


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


_STR: dict[str, Any] = {"type": "string"}
_NSTR: dict[str, Any] = {"type": ["string", "null"]}
_WHEN: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
_MS: dict[str, Any] = {"type": ["integer", "null"]}
_MONITOR = _obj(
    ["name", "kind", "status", "last_checked", "latency_ms"],
    name=_STR, kind={"enum": ["http", "tcp"]}, target=_STR, interval_seconds={"type": "integer"},
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
             "The uptime monitors of the policy file, with their status and last check.",
             list_monitors, returns="MonitorList", tag="monitors", errors=()),
    Endpoint("GET", _ONE, "getMonitor", "One monitor with its most recent check results.",
             get_monitor, returns="MonitorDetail", tag="monitors"),
    Endpoint("POST", f"{_ONE}/pause", "pauseMonitor",
             "Stop checking a monitor; one that is down resolves its alert.",
             _pausing(True), "write", returns="MonitorDetail", tag="monitors",
             errors=(403, 404)),
    Endpoint("POST", f"{_ONE}/resume", "resumeMonitor",
             "Check a paused monitor again, from pending.",
             _pausing(False), "write", returns="MonitorDetail", tag="monitors",
             errors=(403, 404)),
)  # fmt: skip
