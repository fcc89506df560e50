"""Alert groups as plain data: for the CLI's and the API's JSON, and for outbox payloads (what the
chat senders render with :func:`tocsin.chat.notices.alert_group_message`)."""

from __future__ import annotations

from typing import Any

from tocsin.domain.alerts import AlertGroup
from tocsin.domain.commands import MAX_TEXT
from tocsin.domain.model import incident_ref
from tocsin.storage.alert_groups import StoredGroup, alert_json


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def group_dict(kept: StoredGroup, *, alerts: bool = False) -> dict[str, Any]:
    """``id``, ``status``, ``title``, ``alerts`` (how many; the alerts themselves with
    ``alerts=True``), ``firing``, ``incident`` ("INC-n" or null) and the rest."""
    group = kept.group
    data: dict[str, Any] = {
        "id": kept.id,
        "status": group.status.value,
        "silenced_reason": group.silenced_reason or None,
        "title": group.title,
        "alerts": len(group.alerts),
        "firing": len(group.firing),
        "incident": incident_ref(kept.incident) if kept.incident is not None else None,
        "action": kept.action,
        "labels": dict(group.common_labels),
        "group_key": group.group_key,
        "first_seen": _iso(group.first_seen),
        "last_seen": _iso(group.last_seen),
        "fired_at": _iso(group.fired_at),
    }
    if alerts:
        data["alert_list"] = [
            {"fingerprint": fp, **alert_json(entry)} for fp, entry in group.alerts.items()
        ]
    return data


def group_payload(kept: StoredGroup, severity: str, public_url: str) -> dict[str, Any]:
    """The outbox payload for a page or a proposal: a headline (``incident``, as pages carry) and
    the group's firing alerts, by name, with their first link."""
    group = kept.group
    firing = group.firing
    names = [alert.annotations.get("summary") or alert.name for alert in firing[:10]]
    links = [next(iter(alert.links.values()), "") for alert in firing[:10]]
    text = f"{len(firing)} alert{'s' if len(firing) != 1 else ''} firing: " + "; ".join(names)
    return {
        "incident": {
            "ref": f"Alert group #{kept.id}",
            "severity": severity,
            "title": group.title,
            "url": "",
        },
        "text": text[:2000],
        "group": {
            "id": kept.id,
            "title": group.title,
            "severity": severity,
            "firing": len(firing),
            "labels": dict(group.common_labels),
            "alerts": [{"name": n, "link": link} for n, link in zip(names, links, strict=True)],
        },
        "public_url": public_url,
    }


def group_details(kept: StoredGroup) -> str:
    """What the group's alerts say beyond their names, for an incident's timeline: ``Alert group
    #3 (title): <description>``, from its firing alerts (all of them, once it resolved), each
    alert's summary before its description when there are several; a monitor's description is
    its failed checks. Empty when no alert has a description."""
    described = _described(kept.group)
    if not described:
        return ""
    text = f"Alert group #{kept.id} ({kept.group.title}): " + "; ".join(described)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _described(group: AlertGroup) -> list[str]:
    alerts = group.firing or tuple(entry.alert for entry in group.alerts.values())
    described = [a for a in alerts if (a.annotations.get("description") or "").strip()]
    if len(alerts) == 1 and described:
        return [described[0].annotations["description"].strip()]
    return [f"{a.annotations.get('summary') or a.name}: {a.annotations['description'].strip()}"
            for a in described[:10]]  # fmt: skip
