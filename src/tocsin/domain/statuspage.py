"""The status page's rules: which incidents are public, what they show, what they do to components.

* **Public.** An incident is public when the commander said so (``Incident.public`` True), or when
  nobody said otherwise (None) and either its severity's rule has ``statuspage`` on or it was
  already published (``published_at``): an incident downgraded from P1 to P3 stays on the page and
  keeps being updated until it is resolved. ``public`` False hides it (and takes it off Statuspage).
* **Only ``update`` texts are published.** Notes, roles and the resolve summary stay internal; a
  status change shows as the fixed sentence Statuspage uses for it.
* **Severity maps to impact** (P1 critical, P2 major, P3 minor, P4 none) and, through the policy's
  ``component_status``, to the status of each component the incident affects while it is open.

The incident's visibility and its components change only through :func:`set_visibility` and
:func:`set_components` (kept here rather than on :class:`~tocsin.domain.model.Incident`, whose
module is at its size limit); both return the timeline entries that record the change.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tocsin.domain.errors import InvalidTransition, NotFound
from tocsin.domain.model import (
    Actor,
    EntryKind,
    Incident,
    Severity,
    Status,
    TimelineEntry,
)
from tocsin.domain.permissions import Decision, decide
from tocsin.domain.policy import Policy

OPERATIONAL = "operational"
UNDER_MAINTENANCE = "under_maintenance"
COMPONENT_STATUSES: tuple[str, ...] = (
    OPERATIONAL, UNDER_MAINTENANCE, "degraded_performance", "partial_outage", "major_outage",
)  # fmt: skip
"""Every component status, from best to worst."""

IMPACTS: dict[Severity, str] = {
    Severity.P1: "critical",
    Severity.P2: "major",
    Severity.P3: "minor",
    Severity.P4: "none",
}
SENTENCES: dict[Status, str] = {
    Status.INVESTIGATING: "We are investigating this issue.",
    Status.IDENTIFIED: "The issue has been identified and a fix is being implemented.",
    Status.MONITORING: "A fix has been implemented and we are monitoring the results.",
    Status.RESOLVED: "This incident has been resolved.",
}
REOPENED_SENTENCE = "This incident has been reopened and we are investigating again."
# Timeline entries that change what the status page shows for an incident.
SYNCED: frozenset[EntryKind] = frozenset(
    {
        EntryKind.DECLARED, EntryKind.UPDATE, EntryKind.STATUS, EntryKind.SEVERITY,
        EntryKind.RESOLVED, EntryKind.REOPENED, EntryKind.VISIBILITY, EntryKind.COMPONENTS,
    }
)  # fmt: skip


def worst(statuses: Collection[str]) -> str:
    """The worst of component statuses (operational when there are none)."""
    return max(statuses, key=COMPONENT_STATUSES.index, default=OPERATIONAL)


# --- who is public, and what it shows -------------------------------------------------------------
def is_public(incident: Incident, policy: Policy) -> bool:
    """Shown on the status page (and mirrored to Statuspage)? See the module docstring."""
    if incident.public is not None:
        return incident.public
    return policy.rule(incident.severity).statuspage or incident.published_at is not None


def impact(severity: Severity) -> str:
    return IMPACTS[severity]


def component_status(severity: Severity, policy: Policy) -> str:
    """What an open incident of ``severity`` does to the components it affects."""
    return policy.rule(severity).component_status or OPERATIONAL


def affected_statuses(incident: Incident, policy: Policy) -> dict[str, str]:
    """Component name -> the status this incident sets it to (operational once resolved)."""
    status = component_status(incident.severity, policy) if incident.is_open else OPERATIONAL
    return dict.fromkeys(incident.components, status)


def sentence(status: Status) -> str:
    return SENTENCES[status]


def public_body(entry: TimelineEntry) -> str:
    """What ``entry`` publishes: an update's text, a status change's fixed sentence, or ""."""
    if entry.kind is EntryKind.UPDATE:
        return entry.text
    if entry.kind is EntryKind.DECLARED:
        return SENTENCES[Status.INVESTIGATING]
    if entry.kind is EntryKind.STATUS:
        return SENTENCES[Status(entry.data.get("to", Status.INVESTIGATING.value))]
    if entry.kind is EntryKind.RESOLVED:
        return SENTENCES[Status.RESOLVED]
    if entry.kind is EntryKind.REOPENED:
        return REOPENED_SENTENCE
    return ""


def sync_kind(
    incident: Incident,
    entry: TimelineEntry,
    policy: Policy,
    previous_severity: Severity | None = None,
) -> str:
    """The Statuspage effect ``entry`` needs: "sync", "unpublish" (made private after it was
    published) or "" (nothing). ``previous_severity`` (before this change) counts as published
    when its rule publishes, for callers that have not recorded ``published_at`` yet."""
    if entry.kind not in SYNCED:
        return ""
    was_public = (
        incident.public is None
        and previous_severity is not None
        and policy.rule(previous_severity).statuspage
    )
    if was_public or is_public(incident, policy):
        return "sync"
    if entry.kind is EntryKind.VISIBILITY and incident.published_at is not None:
        return "unpublish"
    return ""


def sync_fields(incident: Incident, entry: TimelineEntry, policy: Policy) -> dict[str, Any]:
    """The public state a Statuspage delivery brings the mirrored incident to (JSON-ready).
    ``released`` names components the incident no longer affects (back to operational)."""
    released = []
    if entry.kind is EntryKind.COMPONENTS:
        released = [n for n in entry.data.get("previous", ()) if n not in incident.components]
    return {
        "ref": incident.ref,
        "version": incident.version,
        "name": incident.title,
        "status": incident.status.value,
        "impact": impact(incident.severity),
        "body": public_body(entry),
        "opening": sentence(incident.status),
        "components": affected_statuses(incident, policy),
        "released": released,
    }


# --- changing visibility and components -----------------------------------------------------------
def _describe(public: bool | None) -> str:
    if public is None:
        return "following the severity policy for the status page"
    return "public on the status page" if public else "private (kept off the status page)"


def set_visibility(
    incident: Incident, actor: Actor, public: bool | None, now: datetime
) -> list[TimelineEntry]:
    """Make the incident public (True), private (False), or follow the policy again (None)."""
    if incident.public is public:
        raise InvalidTransition(f"{incident.ref} is already {_describe(public)}.")
    previous = incident.public
    incident.public = public
    if public is None:
        text = f"{actor.name} set {incident.ref} to follow the severity policy for the status page"
    else:
        text = f"{actor.name} made {incident.ref} {_describe(public)}"
    data = {"public": public, "previous": previous}
    return [TimelineEntry(now, actor, EntryKind.VISIBILITY, text, data)]


def set_components(
    incident: Incident,
    actor: Actor,
    names: Sequence[str],
    known: Collection[str],
    now: datetime,
) -> list[TimelineEntry]:
    """Set the components the incident affects; names match ``known`` ignoring case."""
    by_key = {name.casefold(): name for name in known}
    chosen: list[str] = []
    for raw in names:
        name = by_key.get(raw.strip().casefold())
        if name is None:
            listed = ", ".join(sorted(known)) or "none yet; add them to the policy or the API"
            raise NotFound(f"There is no status page component {raw.strip()!r}. Known: {listed}.")
        if name not in chosen:
            chosen.append(name)
    if tuple(chosen) == incident.components:
        raise InvalidTransition(f"{incident.ref} already affects exactly those components.")
    previous = list(incident.components)
    incident.components = tuple(chosen)
    shown = ", ".join(chosen) if chosen else "none"
    text = f"{actor.name} set the components {incident.ref} affects: {shown}"
    data = {"components": chosen, "previous": previous}
    return [TimelineEntry(now, actor, EntryKind.COMPONENTS, text, data)]


def may_set_visibility(policy: Policy, actor: Actor, incident: Incident) -> Decision:
    """The ``visibility`` permission: the commander (or an admin) decides what the public sees,
    unless the policy says otherwise."""
    return decide(policy, "visibility", actor, incident)


def may_set_components(policy: Policy, actor: Actor, incident: Incident) -> Decision:
    """The ``components`` permission: whoever may post updates by default (commander, deputy,
    comms), unless the policy says otherwise."""
    return decide(policy, "components", actor, incident)


@dataclass(frozen=True, slots=True)
class PublicUpdate:
    """One public line of an incident's history."""

    status: str
    body: str
    at: datetime


def public_updates(entries: Sequence[TimelineEntry]) -> list[PublicUpdate]:
    """The public history in ``entries`` (oldest first): updates and status changes only."""
    found: list[PublicUpdate] = []
    status = Status.INVESTIGATING
    for entry in entries:
        if entry.kind is EntryKind.STATUS:
            status = Status(entry.data.get("to", status.value))
        elif entry.kind is EntryKind.RESOLVED:
            status = Status.RESOLVED
        elif entry.kind in (EntryKind.REOPENED, EntryKind.DECLARED):
            status = Status.INVESTIGATING
        body = public_body(entry)
        if body:
            found.append(PublicUpdate(status.value, body, entry.at))
    return found
