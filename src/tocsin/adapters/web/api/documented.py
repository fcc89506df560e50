"""The ``/api/v1`` routes served outside :data:`~tocsin.adapters.web.api.endpoints.ENDPOINTS`,
described for ``/api/openapi.json`` and ``/api/docs``.

The on-call routes (:mod:`tocsin.adapters.web.api.oncall`) and the status page's calls
(:mod:`tocsin.adapters.web.status.manage`) authenticate and parse on their own, so they are not
rows of the main table; :data:`OTHER_ENDPOINTS` describes them in the same shape (method, path,
summary, scope, body, query, responses). A test walks the served routes and checks that every
one is described, here or in ``ENDPOINTS``.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from tocsin.adapters.web.api.alerts import ALERT_ENDPOINTS, ALERT_SCHEMAS
from tocsin.adapters.web.api.endpoints import Call, Endpoint
from tocsin.adapters.web.api.oncall import CalendarQuery, OverrideBody
from tocsin.adapters.web.status.maintenance_calls import (
    MaintenanceBody,
    MaintenancePatch,
    MaintenanceQuery,
)
from tocsin.adapters.web.status.manage import (
    ComponentBody,
    IncidentComponentsBody,
    VisibilityBody,
)


async def served_elsewhere(call: Call) -> Response:
    """Never called: these rows only describe routes that their own modules serve."""
    raise NotImplementedError(call.request.url.path)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


def _list(item: str) -> dict[str, Any]:
    return _obj(["items"], items={"type": "array", "items": _ref(item)})


_STR: dict[str, Any] = {"type": "string"}
_WHEN: dict[str, Any] = {"type": "string", "format": "date-time"}
_MAYBE: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
_SHIFTS: dict[str, Any] = {"type": "array", "items": {"$ref": "#/components/schemas/Shift"}}

MORE_SCHEMAS: dict[str, Any] = {
    "Shift": _obj(["person", "layer", "from", "to", "override"], person=_STR, layer=_STR,
                  **{"from": _WHEN, "to": _WHEN}, override={"type": ["integer", "null"]}),
    "ScheduleNow": _obj(["name", "timezone", "now", "next"], name=_STR, timezone=_STR,
                        now=_SHIFTS, next=_SHIFTS),
    "OnCall": _obj(["at", "schedules"], at={"type": ["string", "null"], "format": "date-time"},
                   schedules={"type": "array", "items": _ref("ScheduleNow")}),
    "Override": _obj(["id", "schedule", "person", "from", "to"], id={"type": "integer"},
                     schedule=_STR, person=_STR, **{"from": _WHEN, "to": _WHEN}, reason=_STR,
                     created_by=_STR),
    "OverrideList": _list("Override"),
    "Person": _obj(["id", "also", "name", "timezone", "contacts", "default_rule", "urgent_rule"],
                   id=_STR, also={"type": "array", "items": _STR}, name=_STR, timezone=_STR,
                   contacts={"type": "object", "additionalProperties": _STR},
                   default_rule={"type": "array", "items": _STR},
                   urgent_rule={"type": "array", "items": _STR}),
    "PersonList": _list("Person"),
    "Component": _obj(["name", "status", "effective_status", "source"], name=_STR,
                      description=_STR, status=_STR, effective_status=_STR,
                      position={"type": "integer"}, source={"enum": ["policy", "api"]}),
    "ComponentList": _list("Component"),
    "Message": _obj(["message"], message=_STR),
    "IncidentChange": _obj(["message", "incident"], message=_STR,
                           incident={"oneOf": [_ref("Incident"), {"type": "null"}]}),
    "Maintenance": _obj(
        ["id", "title", "status", "components", "start", "end", "description"],
        id={"type": "integer"}, title=_STR,
        status={"enum": ["scheduled", "in_progress", "completed", "cancelled"]},
        components={"type": "array", "items": _STR}, start=_WHEN, end=_WHEN, description=_STR,
        created_by=_STR, created_at=_MAYBE, updated_at=_MAYBE, started_at=_MAYBE,
        finished_at=_MAYBE,
    ),
    "MaintenanceList": _list("Maintenance"),
    **ALERT_SCHEMAS,
}  # fmt: skip
"""Response schemas of the routes below (the views in :mod:`tocsin.services.oncall` and
:mod:`tocsin.adapters.web.status.manage`)."""

_E = served_elsewhere
_COMPONENT = "/v1/status/components/{name}"
OTHER_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/v1/oncall", "whoIsOnCall",
             "Who is on call now in every schedule, until when, and who is next.",
             _E, returns="OnCall", tag="oncall", errors=()),
    Endpoint("GET", "/v1/schedules/{name}.ics", "scheduleCalendar",
             "The schedule's coming shifts as an iCalendar feed; calendar apps may send the "
             "token as ?token= (use a read-scope token made for it).",
             _E, query=CalendarQuery, returns="calendar", tag="oncall"),
    Endpoint("GET", "/v1/overrides", "listOverrides", "Overrides running now or to come.",
             _E, returns="OverrideList", tag="oncall", errors=()),
    Endpoint("POST", "/v1/overrides", "addOverride",
             "Put someone else on call for a while (audited).",
             _E, "write", OverrideBody, status=201, returns="Override", tag="oncall",
             errors=(403, 404)),
    Endpoint("DELETE", "/v1/overrides/{id}", "removeOverride", "Remove an override (audited).",
             _E, "write", returns="Override", tag="oncall", errors=(403, 404)),
    Endpoint("GET", "/v1/people", "listPeople",
             "The policy file's people with their rules; contact URLs masked (never in full).",
             _E, returns="PersonList", tag="oncall", errors=()),
    Endpoint("GET", "/v1/status/components", "listComponents",
             "Status page components with their stored and effective status.",
             _E, returns="ComponentList", tag="status", errors=()),
    Endpoint("PUT", _COMPONENT, "putComponent",
             "Create or change a status page component (admins; audited).",
             _E, "write", ComponentBody, returns="Component", tag="status", errors=(403,)),
    Endpoint("DELETE", _COMPONENT, "deleteComponent",
             "Remove a component, or a policy component's stored change (admins; audited).",
             _E, "write", returns="Message", tag="status", errors=(403, 404)),
    Endpoint("PUT", "/v1/incidents/{number}/visibility", "setVisibility",
             "Make the incident public, private, or (null) follow the severity policy again "
             "(commander; audited).",
             _E, "write", VisibilityBody, returns="IncidentChange", tag="status",
             errors=(403, 404, 409)),
    Endpoint("PUT", "/v1/incidents/{number}/components", "setIncidentComponents",
             "Name the status page components the incident affects (whoever may post its "
             "updates; audited).",
             _E, "write", IncidentComponentsBody, returns="IncidentChange", tag="status",
             errors=(403, 404, 409)),
    Endpoint("GET", "/v1/maintenances", "listMaintenances",
             "Scheduled maintenance running or to come (all=true: the last 90 days too).",
             _E, query=MaintenanceQuery, returns="MaintenanceList", tag="status", errors=()),
    Endpoint("POST", "/v1/maintenances", "createMaintenance",
             "Schedule maintenance of status page components (audited).",
             _E, "write", MaintenanceBody, status=201, returns="Maintenance", tag="status",
             errors=(403,)),
    Endpoint("GET", "/v1/maintenances/{id}", "getMaintenance", "One scheduled maintenance.",
             _E, returns="Maintenance", tag="status"),
    Endpoint("PATCH", "/v1/maintenances/{id}", "editMaintenance",
             "Change a scheduled or running maintenance; only the fields given (audited).",
             _E, "write", MaintenancePatch, returns="Maintenance", tag="status",
             errors=(403, 404, 409)),
    Endpoint("POST", "/v1/maintenances/{id}/cancel", "cancelMaintenance",
             "Call off a scheduled or running maintenance (audited).",
             _E, "write", returns="Maintenance", tag="status", errors=(403, 404, 409)),
    *ALERT_ENDPOINTS,  # integrations and alert groups (docs/alerts.md)
)  # fmt: skip
