"""The status page in Atlassian Statuspage's public format (``/api/v2/*.json``), so that existing
widgets and clients read tocsin's page as they read a Statuspage one.

Every document starts with ``page`` (id, name, url, time_zone, updated_at); ``summary`` adds
``components``, the unresolved ``incidents``, the upcoming and active ``scheduled_maintenances``
and ``status`` (``indicator`` none|minor|major|critical|maintenance and its
``description``). Incidents carry ``incident_updates`` (newest first) and their ``components``.
Times are ISO 8601 in UTC with milliseconds, as Statuspage writes them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tocsin.domain import maintenance as windows
from tocsin.domain.maintenance import Maintenance
from tocsin.domain.status_view import (
    ComponentView,
    IncidentView,
    StatusPage,
    UpdateView,
    opaque_id,
)

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
        "showcase": True,  # every component's uptime is on the page (and in uptime.json)
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
        "scheduled_maintenances": [
            maintenance_json(m, status) for m in current_maintenances(status)
        ],
        "status": {"indicator": status.indicator, "description": status.description},
    }


# --- scheduled maintenances ----------------------------------------------------------------------
def _now(status: StatusPage) -> datetime:
    return status.now or status.updated_at


def _maintenance_updates(m: Maintenance, now: datetime) -> list[UpdateView]:
    """Its updates, newest first: scheduled (the description), in progress, completed."""
    mid = maintenance_id(m)
    scheduled = m.created_at or m.starts_at
    found = [UpdateView(f"{mid}0000", windows.SCHEDULED, m.description or m.title, scheduled)]
    shown = windows.shown_status(m, now)
    if shown in (windows.IN_PROGRESS, windows.COMPLETED):
        started = m.started_at or m.starts_at
        found.append(UpdateView(f"{mid}0001", windows.IN_PROGRESS,
                                windows.SENTENCES[windows.IN_PROGRESS], started))  # fmt: skip
    if shown == windows.COMPLETED:
        ended = m.finished_at or m.ends_at
        found.append(UpdateView(f"{mid}0002", windows.COMPLETED,
                                windows.SENTENCES[windows.COMPLETED], ended))  # fmt: skip
    return found[::-1]


def maintenance_id(m: Maintenance) -> str:
    return opaque_id("maintenance", m.id)


def maintenance_json(m: Maintenance, status: StatusPage) -> dict[str, Any]:
    """A scheduled maintenance: an incident object with ``scheduled_for``, ``scheduled_until``,
    ``impact`` maintenance and status scheduled, in_progress or completed."""
    now = _now(status)
    page_id = status.page.id
    mid = maintenance_id(m)
    updates = _maintenance_updates(m, now)
    shown = windows.shown_status(m, now)
    return {
        "id": mid,
        "name": m.title,
        "status": shown,
        "created_at": stamp(m.created_at),
        "updated_at": stamp(updates[0].at),
        "monitoring_at": None,
        "resolved_at": stamp(m.finished_at or m.ends_at) if shown == windows.COMPLETED else None,
        "impact": "maintenance",
        "shortlink": f"{status.page.url}#maintenance-{mid}",
        "started_at": stamp(m.starts_at),
        "page_id": page_id,
        "incident_updates": [update_json(u, mid) for u in updates],
        "components": [component_json(c, page_id) for c in status.components
                       if c.name in m.components],
        "scheduled_for": stamp(m.starts_at),
        "scheduled_until": stamp(m.ends_at),
    }  # fmt: skip


def current_maintenances(status: StatusPage) -> list[Maintenance]:
    """Upcoming and active maintenances, soonest first (summary.json's)."""
    now = _now(status)
    shown = (windows.SCHEDULED, windows.IN_PROGRESS)
    return [m for m in status.maintenances if windows.shown_status(m, now) in shown]


def _maintenances(status: StatusPage, shown: tuple[str, ...]) -> dict[str, Any]:
    now = _now(status)
    found = [m for m in status.maintenances if windows.shown_status(m, now) in shown]
    found.sort(key=lambda m: m.starts_at, reverse=shown == ALL_SHOWN)
    return {
        "page": page_json(status),
        "scheduled_maintenances": [maintenance_json(m, status) for m in found[:RECENT_INCIDENTS]],
    }


ALL_SHOWN = (windows.SCHEDULED, windows.IN_PROGRESS, windows.COMPLETED)


def scheduled_maintenances_json(status: StatusPage) -> dict[str, Any]:
    """``/api/v2/scheduled-maintenances.json``: the 50 latest maintenances, newest first."""
    return _maintenances(status, ALL_SHOWN)


def upcoming_maintenances_json(status: StatusPage) -> dict[str, Any]:
    """``/api/v2/scheduled-maintenances/upcoming.json``: those still to start, soonest first."""
    return _maintenances(status, (windows.SCHEDULED,))


def active_maintenances_json(status: StatusPage) -> dict[str, Any]:
    """``/api/v2/scheduled-maintenances/active.json``: those in progress, soonest first."""
    return _maintenances(status, (windows.IN_PROGRESS,))


DOCUMENTS = {
    "summary": summary_json,
    "status": status_json,
    "components": components_json,
    "incidents": incidents_json,
    "unresolved": unresolved_json,
    "maintenances": scheduled_maintenances_json,
    "maintenances_upcoming": upcoming_maintenances_json,
    "maintenances_active": active_maintenances_json,
}
