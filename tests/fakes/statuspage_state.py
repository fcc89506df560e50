"""The fake Statuspage's state changes: incidents, their updates, and component statuses.

Called by :class:`fakes.statuspage_api.FakeStatuspage` (under its lock) for a request that passed
the spec and auth checks. Shapes follow the spec's ``Incident``, ``IncidentUpdate`` and
``Component`` schemas.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fakes.http_fake import Reply, Request

INCIDENTS = "/pages/{page_id}/incidents"
INCIDENT = "/pages/{page_id}/incidents/{incident_id}"
UNRESOLVED = "/pages/{page_id}/incidents/unresolved"
UPCOMING = "/pages/{page_id}/incidents/upcoming"
ACTIVE = "/pages/{page_id}/incidents/active_maintenance"
COMPONENTS = "/pages/{page_id}/components"
COMPONENT = "/pages/{page_id}/components/{component_id}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_now = now_iso


def _last(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json")


def _set_components(fake: Any, incident: dict[str, Any], fields: dict[str, Any]) -> None:
    statuses = fields.get("components") or {}
    ids = list(fields.get("component_ids") or statuses)
    for component_id, status in statuses.items():
        if component_id in fake.components:
            fake.components[component_id]["status"] = status
            fake.components[component_id]["updated_at"] = _now()
    if ids:
        incident["components"] = [dict(fake.components[i]) for i in ids if i in fake.components]


def _add_update(fake: Any, incident: dict[str, Any], body: str) -> None:
    at = _now()
    incident["incident_updates"].insert(
        0,
        {
            "id": fake._new_id("u"), "incident_id": incident["id"], "status": incident["status"],
            "body": body, "created_at": at, "updated_at": at, "display_at": at,
            "affected_components": [], "deliver_notifications": True,
        },
    )  # fmt: skip


def _create(fake: Any, fields: dict[str, Any]) -> Reply:
    at = _now()
    incident: dict[str, Any] = {
        "id": fake._new_id("i"), "page_id": fake.page_id, "name": fields["name"],
        "status": fields.get("status", "investigating"),
        "impact": fields.get("impact_override", "none"),
        "impact_override": fields.get("impact_override"), "metadata": fields.get("metadata", {}),
        "created_at": at, "updated_at": at, "monitoring_at": None, "resolved_at": None,
        "components": [], "incident_updates": [],
        "scheduled_for": fields.get("scheduled_for"),
        "scheduled_until": fields.get("scheduled_until"),
    }  # fmt: skip
    _set_components(fake, incident, fields)
    _add_update(fake, incident, fields.get("body", ""))
    _stamp(incident)
    fake.incidents[incident["id"]] = incident
    return Reply(201, json=incident)


def _stamp(incident: dict[str, Any]) -> None:
    if incident["status"] == "resolved" and incident["resolved_at"] is None:
        incident["resolved_at"] = _now()
    if incident["status"] == "monitoring" and incident["monitoring_at"] is None:
        incident["monitoring_at"] = _now()
    if incident["status"] != "resolved":
        incident["resolved_at"] = None


def _update(fake: Any, incident: dict[str, Any], fields: dict[str, Any]) -> Reply:
    before = incident["status"]
    for name in ("name", "status", "impact_override", "metadata", "scheduled_for",
                 "scheduled_until"):  # fmt: skip
        if name in fields:
            incident[name] = fields[name]
    if "impact_override" in fields:
        incident["impact"] = fields["impact_override"]
    _set_components(fake, incident, fields)
    if fields.get("body") or incident["status"] != before:
        _add_update(fake, incident, fields.get("body", ""))
    incident["updated_at"] = _now()
    _stamp(incident)
    return Reply(200, json=incident)


def _listing(fake: Any, request: Request, unresolved: bool) -> Reply:
    query = parse_qs(request.query)
    text = (query.get("q") or [""])[0].casefold()
    found = [
        i for i in fake.incidents.values()
        if (not unresolved or i["status"] != "resolved") and text in i["name"].casefold()
    ]  # fmt: skip
    return Reply(200, json=sorted(found, key=lambda i: i["created_at"], reverse=True))


def _components(fake: Any, request: Request) -> Reply:
    query = parse_qs(request.query)
    page = int((query.get("page") or ["1"])[0])
    per_page = int((query.get("per_page") or ["100"])[0])
    items = list(fake.components.values())
    return Reply(200, json=items[(page - 1) * per_page : page * per_page])


def apply(fake: Any, request: Request, template: str) -> Reply:
    """Carry out one checked request."""
    body = request.json() if request.body else {}
    method = request.method
    if (method, template) == ("POST", INCIDENTS):
        return _create(fake, body["incident"])
    if (method, template) == ("GET", INCIDENTS):
        return _listing(fake, request, unresolved=False)
    if (method, template) == ("GET", UNRESOLVED):
        return _listing(fake, request, unresolved=True)
    if (method, template) == ("GET", UPCOMING):
        return Reply(200, json=[i for i in fake.incidents.values() if i["status"] == "scheduled"])
    if (method, template) == ("GET", ACTIVE):
        found = [i for i in fake.incidents.values() if i["status"] in ("in_progress", "verifying")]
        return Reply(200, json=found)
    if (method, template) == ("GET", COMPONENTS):
        return _components(fake, request)
    if template == INCIDENT:
        incident = fake.incidents.get(_last(request.path))
        if incident is None:
            return Reply(404, json={"message": "Incident not found"})
        if method == "GET":
            return Reply(200, json=incident)
        if method in ("PATCH", "PUT"):
            return _update(fake, incident, body.get("incident", {}))
        if method == "DELETE":
            return Reply(200, json=fake.incidents.pop(incident["id"]))
    if template == COMPONENT and method in ("PATCH", "PUT"):
        component = fake.components.get(_last(request.path))
        if component is None:
            return Reply(404, json={"message": "Component not found"})
        component.update(body.get("component", {}))
        return Reply(200, json=component)
    fake.violations.append(f"{method} {template}: the fake does not implement it")
    return Reply(501, json={"message": "not implemented by the fake"})
