"""Routing: which effects a change has, by severity policy. Decided here once for every surface.

The planner turns "this incident changed like this" into :class:`~tocsin.domain.effects.Effect`
values addressed to the destinations that are switched on. Payloads are neutral (an event name,
the entry text and a snapshot of the incident); each platform's delivery code renders them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from tocsin.domain.effects import Effect
from tocsin.domain.model import EntryKind, Incident, Severity, TimelineEntry
from tocsin.domain.policy import Policy
from tocsin.domain.statuspage import sync_fields, sync_kind

CHAT = ("slack", "discord")

# Entry kinds that change what an announcement shows, so it is edited in place.
_REFRESH = {
    EntryKind.UPDATE,
    EntryKind.SEVERITY,
    EntryKind.STATUS,
    EntryKind.ROLE,
    EntryKind.RESOLVED,
    EntryKind.REOPENED,
    EntryKind.ACKNOWLEDGED,
}


def snapshot(incident: Incident, public_url: str = "") -> dict[str, Any]:
    """What a destination needs to render the incident, as JSON-ready data."""
    commander = incident.commander
    return {
        "number": incident.number,
        "ref": incident.ref,
        "title": incident.title,
        "description": incident.description,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "commander": commander.to_dict() if commander else None,
        "roles": {role.value: actor.to_dict() for role, actor in incident.roles.items()},
        "declared_at": incident.declared_at.isoformat(),
        "url": f"{public_url.rstrip('/')}/incidents/{incident.number}" if public_url else "",
    }


def plan(
    incident: Incident,
    entries: Sequence[TimelineEntry],
    policy: Policy,
    destinations: Collection[str],
    *,
    previous_severity: Severity | None = None,
    public_url: str = "",
) -> list[Effect]:
    """Effects for ``entries`` just applied to ``incident`` (saved at ``incident.version``)."""
    rule = policy.rule(incident.severity)
    was_announced = previous_severity is not None and policy.rule(previous_severity).announce
    snap = snapshot(incident, public_url)
    effects: list[Effect] = []

    def add(
        destination: str,
        kind: str,
        index: int,
        entry: TimelineEntry,
        extra: dict[str, Any] | None = None,
    ) -> None:
        payload = {
            "event": entry.kind.value,
            "text": entry.text,
            "actor": entry.actor.to_dict(),
            "at": entry.at.isoformat(),
            "data": entry.data,
            "incident": snap,
            **(extra or {}),
        }
        key = f"{destination}:{incident.ref}:v{incident.version}:{index}:{kind}"
        effects.append(Effect(destination, kind, payload, key, incident.number))

    for index, entry in enumerate(entries):
        for destination in (d for d in CHAT if d in destinations):
            if entry.kind is EntryKind.DECLARED:
                add(destination, "open_channel", index, entry)
                if rule.announce:
                    add(destination, "announce", index, entry)
                continue
            if entry.kind is EntryKind.POSTMORTEM:
                continue
            if entry.data.get("source") != destination:  # a pinned message is there already
                add(destination, "post", index, entry)
            if entry.kind is EntryKind.SEVERITY and rule.announce and not was_announced:
                add(destination, "announce", index, entry)
            elif entry.kind in _REFRESH:
                add(destination, "refresh_announcement", index, entry)
        # Statuspage (domain/statuspage.py): public by policy or by the commander, or already
        # published (a downgraded incident is still updated and resolved there).
        public_kind = ""
        if "statuspage" in destinations:
            public_kind = sync_kind(incident, entry, policy, previous_severity)
        if public_kind:
            fields = {"statuspage": sync_fields(incident, entry, policy)}
            add("statuspage", public_kind, index, entry, fields)
        if "pagerduty" in destinations:
            paging = _paging_kind(entry, rule.page)
            if paging:
                add("pagerduty", paging, index, entry)
    return effects


def _paging_kind(entry: TimelineEntry, page: bool) -> str:
    """PagerDuty: trigger when paging applies (a repeated trigger merges into the open alert by
    its dedup key), resolve when it stops applying (resolved, or downgraded below paging)."""
    if entry.kind in (EntryKind.DECLARED, EntryKind.SEVERITY, EntryKind.REOPENED):
        return "trigger" if page else ("resolve" if entry.kind is EntryKind.SEVERITY else "")
    if entry.kind is EntryKind.ACKNOWLEDGED:
        return "acknowledge"
    if entry.kind is EntryKind.RESOLVED:
        return "resolve"
    return ""
