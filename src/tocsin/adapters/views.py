"""JSON-ready views of domain objects, shared by the CLI's ``--json`` and the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tocsin.domain.model import Incident, TimelineEntry


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def incident_view(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.ref,
        "number": incident.number,
        "title": incident.title,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "description": incident.description,
        "summary": incident.summary,
        "declared_by": incident.declared_by.to_dict(),
        "declared_at": _iso(incident.declared_at),
        "acknowledged_at": _iso(incident.acknowledged_at),
        "identified_at": _iso(incident.identified_at),
        "mitigated_at": _iso(incident.mitigated_at),
        "resolved_at": _iso(incident.resolved_at),
        "roles": {role.value: who.to_dict() for role, who in incident.roles.items()},
        "participants": [p.to_dict() for p in incident.participants],
        "action_items": [
            {
                "number": a.number,
                "text": a.text,
                "owner": a.owner.to_dict() if a.owner else None,
                "done": a.done,
                "created_at": _iso(a.created_at),
            }
            for a in incident.action_items
        ],
        "public_summary": _summary_view(incident),
    }


def _summary_view(incident: Incident) -> dict[str, Any] | None:
    """The public post-mortem summary as stored (shown publicly once resolved), or None."""
    found = incident.public_summary
    if found is None:
        return None
    return {
        "text": found.text,
        "published_at": _iso(found.published_at),
        "published_by": found.published_by.to_dict(),
    }


def entry_view(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "at": _iso(entry.at),
        "actor": entry.actor.to_dict(),
        "kind": entry.kind.value,
        "text": entry.text,
        "data": entry.data,
    }
