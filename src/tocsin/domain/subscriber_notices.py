"""What status-page subscribers are told: one :class:`Notice` per public change.

A notice is made for every timeline entry that changes what the public page shows *and* has a
public text (domain/statuspage.py's :func:`~tocsin.domain.statuspage.public_body`: an update, or
the fixed sentence of a declaration, a status change, a resolve or a reopen), and for every
change of a component's stored status, and for a maintenance window announced, begun,
completed, cancelled, or edited in a way people plan around (:func:`maintenance_notice`).
Its ``key`` names the change, so that one subscriber gets one outbox row per notice however
often it is queued. Webhook documents follow the shape of
Atlassian Statuspage's subscriber webhooks (``meta``, ``page``, then ``incident`` or
``component`` and ``component_update``; a maintenance is an ``incident`` with ``impact``
maintenance, ``scheduled_for`` and ``scheduled_until``, as Statuspage sends it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tocsin.domain import maintenance as windows
from tocsin.domain.maintenance import Maintenance
from tocsin.domain.model import Incident, Severity, TimelineEntry
from tocsin.domain.policy import Policy
from tocsin.domain.status_json import maintenance_id, stamp
from tocsin.domain.status_view import component_id
from tocsin.domain.statuspage import affected_statuses, impact, public_body, sync_kind

INCIDENT, COMPONENT, MAINTENANCE = "incident", "component", "maintenance"
DOCUMENTATION = "docs/status-page.md#subscribers"
STATUS_WORDS = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
}


@dataclass(frozen=True, slots=True)
class Notice:
    key: str
    event: str  # INCIDENT or COMPONENT
    title: str  # incident name, or component name
    status: str  # incident status, or the component's new status
    body: str
    at: datetime
    components: tuple[str, ...]  # what it is about; the subscriber filter's, unless audience
    data: Mapping[str, Any] = field(default_factory=dict)  # JSON-ready, for the webhook
    # Components whose subscribers hear it, when not ``components`` (() for everyone): an edit
    # is told to those of the components before it too.
    audience: tuple[str, ...] | None = None

    @property
    def heard_by(self) -> tuple[str, ...]:
        return self.components if self.audience is None else self.audience

    def to_payload(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "event": self.event,
            "title": self.title,
            "status": self.status,
            "body": self.body,
            "at": self.at.isoformat(),
            "components": list(self.components),
            "data": dict(self.data),
        }

    @classmethod
    def from_payload(
        cls, payload: Mapping[str, Any], audience: Sequence[str] | None = None
    ) -> Notice:
        """The notice :meth:`to_payload` wrote (``audience`` is not part of it)."""
        return cls(
            str(payload["key"]),
            str(payload["event"]),
            str(payload["title"]),
            str(payload["status"]),
            str(payload["body"]),
            datetime.fromisoformat(payload["at"]),
            tuple(payload["components"]),
            dict(payload.get("data") or {}),
            None if audience is None else tuple(audience),
        )


def incident_notices(
    incident: Incident,
    entries: Sequence[TimelineEntry],
    policy: Policy,
    previous_severity: Severity | None = None,
) -> list[Notice]:
    """A notice per public entry of ``entries`` just applied to ``incident``."""
    notices = []
    for index, entry in enumerate(entries):
        body = public_body(entry)
        if not body or sync_kind(incident, entry, policy, previous_severity) != "sync":
            continue
        data = {
            "number": incident.number,
            "name": incident.title,
            "status": incident.status.value,
            "impact": impact(incident.severity),
            "created_at": stamp(incident.declared_at),
            "updated_at": stamp(entry.at),
            "resolved_at": stamp(incident.resolved_at),
            "components": affected_statuses(incident, policy),
            "update": {"status": incident.status.value, "body": body, "at": stamp(entry.at)},
        }
        key = f"incident:{incident.number}:v{incident.version}:{index}"
        notices.append(
            Notice(
                key,
                INCIDENT,
                incident.title,
                incident.status.value,
                body,
                entry.at,
                incident.components,
                data,
            )
        )
    return notices


def component_notice(name: str, old: str, new: str, at: datetime) -> Notice | None:
    """A notice for a component's stored status moving from ``old`` to ``new`` (None if not)."""
    if old == new:
        return None
    data = {"old_status": old, "new_status": new, "created_at": stamp(at)}
    body = f"{name} is now {new.replace('_', ' ')} (was {old.replace('_', ' ')})."
    return Notice(f"component:{name}:{stamp(at)}", COMPONENT, name, new, body, at, (name,), data)


_MAINTENANCE_STATUS = {
    "created": windows.SCHEDULED, "started": windows.IN_PROGRESS, "completed": windows.COMPLETED,
}  # fmt: skip
RESCHEDULED, UPDATED, CANCELLED = "rescheduled", "updated", "cancelled"
MAINTENANCE_EVENTS = (*_MAINTENANCE_STATUS, RESCHEDULED, UPDATED, CANCELLED)
CANCELLED_SENTENCE = "This scheduled maintenance has been cancelled."


def maintenance_notice(
    m: Maintenance, event: str, at: datetime, before: Maintenance | None = None
) -> Notice:
    """The notice of maintenance ``m`` being announced (``created``), begun (``started``),
    completed (``completed``), cancelled (``cancelled``) or changed by an edit (``rescheduled``:
    its window moved; ``updated``: its title or components; ``before`` is ``m`` as it was).
    Keyed by the maintenance and the event (an edit's key also names the edit), so each goes
    once. A change is told to the subscribers of the components before and after it; the
    webhook's status is the maintenance's own (``completed`` for a cancel: Statuspage has no
    cancelled status)."""
    if event in _MAINTENANCE_STATUS:
        status = _MAINTENANCE_STATUS[event]
        window = f"{stamp(m.starts_at)} to {stamp(m.ends_at)}"
        sentence = windows.SENTENCES.get(status, f"Maintenance is scheduled from {window}.")
        extra = m.description if event == "created" else ""
        body, told, key = f"{sentence} {extra}".strip(), status, f"maintenance:{m.id}:{event}"
    else:
        status = windows.COMPLETED if event == CANCELLED else m.status
        body = CANCELLED_SENTENCE if event == CANCELLED else _change_body(m, before or m)
        edit = "" if event == CANCELLED else f":{windows.revision(m)}"  # a cancel comes once
        told, key = event, f"maintenance:{m.id}:{event}{edit}"
    components = {name: _under(status) for name in m.components}
    earlier = before.components if before is not None else m.components
    for name in earlier:
        components.setdefault(name, "operational")
    data = {
        "id": maintenance_id(m),
        "name": m.title,
        "status": status,
        "impact": "maintenance",
        "created_at": stamp(m.created_at or at),
        "updated_at": stamp(at),
        "resolved_at": stamp(at) if status == windows.COMPLETED else None,
        "components": components,
        "update": {"status": status, "body": body, "at": stamp(at)},
        "scheduled_for": stamp(m.starts_at),
        "scheduled_until": stamp(m.ends_at),
    }
    audience = None  # a maintenance naming no component concerns everyone
    if earlier != m.components:
        audience = (
            tuple(dict.fromkeys((*m.components, *earlier))) if earlier and m.components else ()
        )
    return Notice(key, MAINTENANCE, m.title, told, body, at, m.components, data, audience)


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names) or "no listed component"


def _change_body(m: Maintenance, before: Maintenance) -> str:
    """What an edit changed, in sentences: the window, the components, the title."""
    parts = []
    if (m.starts_at, m.ends_at) != (before.starts_at, before.ends_at):
        now = windows.window_text(m.starts_at, m.ends_at)
        was = windows.window_text(before.starts_at, before.ends_at)
        parts.append(f"The maintenance has been rescheduled: now {now} (was {was}).")
    if m.components != before.components:
        parts.append(f"It now affects {_listed(m.components)} (was {_listed(before.components)}).")
    if m.title != before.title:
        parts.append(f"It was previously named \u201c{before.title}\u201d.")
    return (
        " ".join(parts)
        or f"The maintenance is planned for {windows.window_text(m.starts_at, m.ends_at)}."
    )


def _under(status: str) -> str:
    return "under_maintenance" if status == windows.IN_PROGRESS else "operational"


def page_indicator(notice: Mapping[str, Any]) -> dict[str, str]:
    """The page's ``status_indicator`` and ``status_description`` a webhook document carries for
    ``notice`` (its ``to_payload()``): the incident's impact while it is open, ``maintenance``
    while a maintenance is in progress, else none."""
    impact_of = notice["data"].get("impact", "none")
    if notice["event"] == MAINTENANCE:
        if notice["data"].get("status", notice["status"]) == windows.IN_PROGRESS:
            return {"status_indicator": "maintenance", "status_description": "Under Maintenance"}
        impact_of = "none"
    elif notice["status"] == "resolved":
        impact_of = "none"
    if impact_of == "none":
        return {"status_indicator": "none", "status_description": "All Systems Operational"}
    return {"status_indicator": impact_of, "status_description": "Incident in progress"}


def webhook_document(
    notice: Mapping[str, Any], *, page: Mapping[str, Any], incident_id: str, unsubscribe: str
) -> dict[str, Any]:
    """The JSON body a webhook subscriber receives for ``notice`` (its ``to_payload()``)."""
    data = notice["data"]
    meta = {
        "unsubscribe": unsubscribe,
        "documentation": DOCUMENTATION,
        "generated_at": stamp(datetime.fromisoformat(notice["at"])),
    }
    document: dict[str, Any] = {"meta": meta, "page": dict(page)}
    if notice["event"] == COMPONENT:
        cid = component_id(notice["title"])
        document["component"] = {
            "id": cid,
            "name": notice["title"],
            "status": notice["status"],
            "page_id": page["id"],
            "updated_at": data["created_at"],
        }
        document["component_update"] = {
            **data,
            "id": f"{cid}-{data['created_at']}",
            "component_id": cid,
            "component_type": "Component",
        }
        return document
    update = data["update"]
    incident_id = data.get("id", incident_id)  # a maintenance carries its own id
    document["incident"] = {
        "id": incident_id,
        "name": data["name"],
        "status": data["status"],
        "impact": data["impact"],
        "created_at": data["created_at"],
        "updated_at": data["updated_at"],
        "resolved_at": data["resolved_at"],
        "page_id": page["id"],
        "components": [
            {"id": component_id(name), "name": name, "status": status}
            for name, status in data["components"].items()
        ],
        "incident_updates": [
            {
                "id": f"{incident_id}-{update['at']}",
                "incident_id": incident_id,
                "status": update["status"],
                "body": update["body"],
                "created_at": update["at"],
                "updated_at": update["at"],
                "display_at": update["at"],
            }
        ],
    }
    if notice["event"] == MAINTENANCE:
        scheduled = {k: data[k] for k in ("scheduled_for", "scheduled_until")}
        document["incident"].update(scheduled)
    return document
