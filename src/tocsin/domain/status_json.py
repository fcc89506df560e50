"""The status page in Atlassian Statuspage's public format (``/api/v2/*.json``), so that existing
widgets and clients read tocsin's page as they read a Statuspage one.

Every document starts with ``page`` (id, name, url, time_zone, updated_at); ``summary`` adds
``components``, the unresolved ``incidents``, ``scheduled_maintenances`` (always empty: tocsin has
no maintenance windows) and ``status`` (``indicator`` none|minor|major|critical|maintenance and its
``description``). Incidents carry ``incident_updates`` (newest first) and their ``components``.
Times are ISO 8601 in UTC with milliseconds, as Statuspage writes them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tocsin.domain.status_view import ComponentView, IncidentView, StatusPage, UpdateView

RECENT_INCIDENTS = 50  # incidents.json lists this many, like Statuspage


def stamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def page_json(status: StatusPage) -> dict[str, Any]:
    page = status.page
    return {
        "id": page.id,
        "name": page.name,
        "url": page.url,
        "time_zone": page.time_zone,
        "updated_at": stamp(status.updated_at),
    }


def component_json(component: ComponentView, page_id: str) -> dict[str, Any]:
    return {
        "id": component.id,
        "name": component.name,
        "status": component.status,
        "created_at": stamp(component.created_at),
        "updated_at": stamp(component.updated_at),
        "position": component.position,
        "description": component.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": page_id,
        "group": False,
        "only_show_if_degraded": False,
    }


def update_json(update: UpdateView, incident_id: str) -> dict[str, Any]:
    at = stamp(update.at)
    return {
        "id": update.id,
        "status": update.status,
        "body": update.body,
        "incident_id": incident_id,
        "created_at": at,
        "updated_at": at,
        "display_at": at,
        "affected_components": None,
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def incident_json(incident: IncidentView, status: StatusPage) -> dict[str, Any]:
    page_id = status.page.id
    components = [component_json(c, page_id) for c in status.components
                  if c.name in incident.components]  # fmt: skip
    return {
        "id": incident.id,
        "name": incident.name,
        "status": incident.status,
        "created_at": stamp(incident.created_at),
        "updated_at": stamp(incident.updated_at),
        "monitoring_at": stamp(incident.monitoring_at),
        "resolved_at": stamp(incident.resolved_at),
        "impact": incident.impact,
        "shortlink": f"{status.page.url}#incident-{incident.id}",
        "started_at": stamp(incident.created_at),
        "page_id": page_id,
        "incident_updates": [update_json(u, incident.id) for u in incident.updates],
        "components": components,
    }


def status_json(status: StatusPage) -> dict[str, Any]:
    """``/api/v2/status.json``."""
    return {
        "page": page_json(status),
        "status": {"indicator": status.indicator, "description": status.description},
    }


def components_json(status: StatusPage) -> dict[str, Any]:
    """``/api/v2/components.json``."""
    return {
        "page": page_json(status),
        "components": [component_json(c, status.page.id) for c in status.components],
    }


def unresolved_json(status: StatusPage) -> dict[str, Any]:
    """``/api/v2/incidents/unresolved.json``."""
    return {
        "page": page_json(status),
        "incidents": [incident_json(i, status) for i in status.active],
    }


def incidents_json(status: StatusPage) -> dict[str, Any]:
    """``/api/v2/incidents.json``: the most recent incidents, unresolved and resolved."""
    recent = sorted([*status.active, *status.past], key=lambda i: i.created_at, reverse=True)
    return {
        "page": page_json(status),
        "incidents": [incident_json(i, status) for i in recent[:RECENT_INCIDENTS]],
    }


def summary_json(status: StatusPage) -> dict[str, Any]:
    """``/api/v2/summary.json``: page, components, unresolved incidents and the indicator."""
    return {
        "page": page_json(status),
        "components": [component_json(c, status.page.id) for c in status.components],
        "incidents": [incident_json(i, status) for i in status.active],
        "scheduled_maintenances": [],
        "status": {"indicator": status.indicator, "description": status.description},
    }


DOCUMENTS = {
    "summary": summary_json,
    "status": status_json,
    "components": components_json,
    "incidents": incidents_json,
    "unresolved": unresolved_json,
}
