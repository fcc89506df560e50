"""Rows ↔ domain objects: how incidents, action items and audit entries are stored.

Shared by every repository that reads these tables (incidents, access, status page).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tocsin.domain.audit import AuditEntry, AuditRecord
from tocsin.domain.model import ActionItem, Actor, Incident, Role, Severity, Status
from tocsin.domain.public_summary import PublicSummary


def utc(value: datetime | None) -> datetime | None:
    """Datetimes come back naive from SQLite; everything tocsin stores is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _incident_row(incident: Incident) -> dict[str, Any]:
    return {
        "number": incident.number,
        "title": incident.title,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "description": incident.description,
        "summary": incident.summary,
        "declared_by": incident.declared_by.to_dict(),
        "declared_at": incident.declared_at,
        "acknowledged_at": incident.acknowledged_at,
        "identified_at": incident.identified_at,
        "mitigated_at": incident.mitigated_at,
        "resolved_at": incident.resolved_at,
        "last_update_at": incident.last_update_at,
        "roles": {role.value: actor.to_dict() for role, actor in incident.roles.items()},
        "participants": [p.to_dict() for p in incident.participants],
        "version": incident.version,
        "public": incident.public,
        "published_at": incident.published_at,
        "components": list(incident.components) or None,
        **_summary_columns(incident.public_summary),
        "escalation": incident.escalation,
    }


def _summary_columns(summary: PublicSummary | None) -> dict[str, Any]:
    if summary is None:
        return {"public_summary": None, "public_summary_at": None, "public_summary_by": None}
    return {
        "public_summary": summary.text,
        "public_summary_at": summary.published_at,
        "public_summary_by": summary.published_by.to_dict(),
    }


def _summary_from_row(row: Any) -> PublicSummary | None:
    if row["public_summary"] is None:
        return None
    by = row["public_summary_by"]
    who = Actor.from_dict(by) if by else Actor("system", "tocsin")
    return PublicSummary(row["public_summary"], _utc(row["public_summary_at"]), who)


def incident_from_row(row: Any) -> Incident:
    return Incident(
        number=row["number"],
        title=row["title"],
        severity=Severity(row["severity"]),
        status=Status(row["status"]),
        description=row["description"],
        summary=row["summary"],
        declared_by=Actor.from_dict(row["declared_by"]),
        declared_at=_utc(row["declared_at"]),
        acknowledged_at=utc(row["acknowledged_at"]),
        identified_at=utc(row["identified_at"]),
        mitigated_at=utc(row["mitigated_at"]),
        resolved_at=utc(row["resolved_at"]),
        last_update_at=utc(row["last_update_at"]),
        roles={Role(k): Actor.from_dict(v) for k, v in (row["roles"] or {}).items()},
        participants=[Actor.from_dict(p) for p in row["participants"] or []],
        version=row["version"],
        public=row["public"],
        published_at=utc(row["published_at"]),
        components=tuple(row["components"] or ()),
        public_summary=_summary_from_row(row),
        escalation=row["escalation"],
    )


def _action_row(number: int, item: ActionItem) -> dict[str, Any]:
    return {
        "incident": number,
        "number": item.number,
        "text": item.text,
        "owner": item.owner.to_dict() if item.owner else None,
        "created_by": item.created_by.to_dict(),
        "created_at": item.created_at,
        "done": item.done,
    }


def _action_from_row(row: Any) -> ActionItem:
    return ActionItem(
        number=row["number"],
        text=row["text"],
        owner=Actor.from_dict(row["owner"]) if row["owner"] else None,
        created_by=Actor.from_dict(row["created_by"]),
        created_at=_utc(row["created_at"]),
        done=bool(row["done"]),
    )


def _audit_row(entry: AuditEntry) -> dict[str, Any]:
    r = entry.record
    return {
        "seq": entry.seq,
        "at": r.at,
        "platform": r.platform,
        "actor_id": r.actor_id,
        "actor_name": r.actor_name,
        "command": r.command,
        "incident": r.incident,
        "decision": r.decision,
        "reason": r.reason,
        "detail": r.detail,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def audit_from_row(row: Any) -> AuditEntry:
    record = AuditRecord(
        at=_utc(row["at"]),
        platform=row["platform"],
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
        command=row["command"],
        incident=row["incident"],
        decision=row["decision"],
        reason=row["reason"],
        detail=row["detail"],
    )
    return AuditEntry(int(row["seq"]), record, row["prev_hash"], row["hash"])
