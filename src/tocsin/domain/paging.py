"""Paging, escalation, reminders and nags as plain decisions. Pure: no clock, no I/O.

Every change to an incident is turned by :func:`plan_timers` into timer operations (schedule or
cancel, by key), which the service layer applies in the same transaction as the change:

=====================  =========================================================================
change                 timers
=====================  =========================================================================
declared, reopened     escalation starts now when the severity pages; update reminder armed;
                       a commander nag when nobody (human) has command
severity changed       paging starts (not yet acknowledged) or stops as the new level says; the
                       reminder follows the new cadence, or stops
acknowledged, status,  escalation stops (a status move counts as acknowledging, as in the model)
resolved               ... and on resolve reminders and nags stop too
update posted          the reminder is re-armed a full cadence from now
commander changed      the nag stops once a person has command
=====================  =========================================================================

An escalation walks its levels one :class:`~tocsin.domain.paging_steps.Step` at a time
(domain/paging_steps.py); this module says what each step sends and which timers a change arms.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tocsin.domain.effects import Effect
from tocsin.domain.model import Actor, EntryKind, Incident, Role, Severity, TimelineEntry

# Re-exported: callers import the escalation steps from here too.
from tocsin.domain.paging_steps import Step as Step
from tocsin.domain.paging_steps import escalation_of as escalation_of
from tocsin.domain.paging_steps import next_step as next_step
from tocsin.domain.paging_steps import paging_escalation as paging_escalation
from tocsin.domain.paging_steps import stop_reason as stop_reason
from tocsin.domain.policy import Escalation, Policy

ESCALATION = "escalation"
REMINDER = "update_reminder"
NAG = "commander_nag"
OBSERVE = "incident_metrics"
KINDS = (ESCALATION, REMINDER, NAG, OBSERVE)
SYSTEM = Actor("tocsin", "tocsin", "tocsin")  # who writes paging notes on the timeline
CHAT = ("slack", "discord")
PAGE_DM = "page_dm"
REMIND = "remind"
ACK_BUTTON = "ack"
UPDATE_BUTTON = "update"
ALERT_ACK_BUTTON = "alert_ack"  # on an alert group's page: acknowledges the group
_STOPS_PAGING = {EntryKind.ACKNOWLEDGED, EntryKind.STATUS, EntryKind.RESOLVED}


def timer_key(kind: str, incident: Incident) -> str:
    return f"{kind}:{incident.ref}"


@dataclass(frozen=True, slots=True)
class TimerOp:
    """Schedule timer ``key`` at ``due`` (re-arming it when ``replace``), or cancel it (no due)."""

    kind: str
    key: str
    due: datetime | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    replace: bool = True

    @property
    def cancel(self) -> bool:
        return self.due is None


# --- what a page sends ----------------------------------------------------------------------------
def _where(step: Step, escalation: Escalation) -> str:
    text = f"level {step.level + 1} of {len(escalation.levels)}"
    if escalation.repeat:
        text += f", round {step.round + 1} of {escalation.repeat + 1}"
    return text


def page_text(incident: Incident, escalation: Escalation, step: Step) -> str:
    """What the paged person reads (plain text; the chat sender adds the Acknowledge button)."""
    commander = incident.commander.name if incident.commander else "nobody yet"
    last = next_step(escalation, step).exhausted
    then = (
        "this is the last round of paging"
        if last
        else f"if nobody does within {escalation.escalate_after_minutes} min, tocsin pages "
        + ("the next level" if step.level + 1 < len(escalation.levels) else "again")
    )
    return (
        f"You are paged for {incident.ref} ({incident.severity}, {incident.severity.label}): "
        f"{incident.title}. Commander: {commander}. Press Acknowledge if you are taking it; "
        f"{then}."
    )


def page_key(incident: Incident, step: Step) -> str:
    """What makes a step's pages unique: the incident, the run and the step."""
    stamp = int(step.run.timestamp() * 1000)
    return f"{incident.ref}:page:{stamp}:{step.round}.{step.level}"


def page_payload(
    incident: Incident, snapshot: Mapping[str, Any], escalation: Escalation, step: Step
) -> dict[str, Any]:
    """What every page of a step carries: the words, the incident and where in the ladder."""
    return {
        "incident": dict(snapshot),
        "escalation": escalation.name,
        "level": step.level + 1,
        "levels": len(escalation.levels),
        "round": step.round + 1,
        "rounds": escalation.repeat + 1,
        "escalate_after_minutes": escalation.escalate_after_minutes,
        "text": page_text(incident, escalation, step),
    }


def dm_effect(user: str, base: Mapping[str, Any], key: str, number: int, name: str = "") -> Effect:
    """A ``page_dm`` to ``user`` (``platform:id``) with the Acknowledge button; ``key`` makes
    it unique. Each person's pages have their own ordering key, ahead of channel traffic."""
    person = Actor.from_key(user, name)
    payload = {**base, "person": person.to_dict(), "buttons": [ACK_BUTTON]}
    return Effect(
        person.platform,
        PAGE_DM,
        payload,
        f"{person.platform}:{key}"[:200],
        number,
        ordering_key=f"{person.platform}:page:{user}"[:200],
    )


def page_effects(
    incident: Incident,
    snapshot: Mapping[str, Any],
    escalation: Escalation,
    step: Step,
    targets: Sequence[str],
    destinations: Collection[str],
    personal: Collection[str] = (),
) -> list[Effect]:
    """A DM with an Acknowledge button per person on their platform, and one webhook event.
    Targets in ``personal`` follow their own notification rule instead of the DM (the paging
    service plans it: :mod:`tocsin.domain.notify.paging`); the webhook still lists them."""
    where = page_key(incident, step)
    base = page_payload(incident, snapshot, escalation, step)
    effects = []
    for key in targets:
        platform = Actor.from_key(key).platform
        if key not in personal and platform in CHAT and platform in destinations:
            effects.append(dm_effect(key, base, f"{where}:{key}", incident.number))
    if "webhook" in destinations and targets:
        payload = {**base, "event": "page", "targets": list(targets)}
        effects.append(Effect("webhook", "page", payload, f"webhook:{where}", incident.number))
    return effects


def page_note(
    incident: Incident, escalation: Escalation, step: Step, targets: Sequence[str], now: datetime
) -> TimelineEntry:
    """The timeline line for a step: who was paged, or why nobody was."""
    data: dict[str, Any] = {"paging": {**step.to_payload(), "targets": list(targets)}}
    if not escalation.levels:
        text = (
            f'No one was paged: the "{escalation.name}" escalation has no levels. Add a '
            "[[schedule]] or an [[escalation]] to the policy file (see docs/oncall.md)."
        )
    elif step.exhausted:
        rounds = escalation.repeat + 1
        text = (
            f"Nobody acknowledged the page after {rounds} round{'s' if rounds > 1 else ''} of the "
            f'"{escalation.name}" escalation, so tocsin stopped paging. Page someone by hand.'
        )
    elif not targets:
        text = (
            f'Nobody to page at {_where(step, escalation)} of the "{escalation.name}" '
            "escalation (no one is on call there)."
        )
    else:
        text = (
            f'Paged {", ".join(targets)} ({_where(step, escalation)} of the "{escalation.name}" '
            "escalation)."
        )
    return TimelineEntry(now, SYSTEM, EntryKind.NOTE, text, data)


# --- reminders and nags ---------------------------------------------------------------------------
def needs_commander(incident: Incident) -> bool:
    """Nobody (human) has command: no commander, or an API token (a machine) holds the role."""
    commander = incident.commander
    return commander is None or commander.platform == "api"


def reminder_due(incident: Incident, policy: Policy, since: datetime) -> datetime | None:
    """When the commander should be reminded to post an update; None when the severity has no
    cadence or the incident is resolved."""
    minutes = policy.rule(incident.severity).update_reminder_minutes
    if not incident.is_open or not minutes:
        return None
    base = max(since, incident.last_update_at or since)
    return base + timedelta(minutes=minutes)


def remind_effects(
    incident: Incident,
    snapshot: Mapping[str, Any],
    reason: str,
    text: str,
    destinations: Collection[str],
    now: datetime,
) -> list[Effect]:
    """A ``remind`` message in the incident channel of every chat platform."""
    commander = incident.commander
    payload = {
        "reason": reason,
        "text": text,
        "person": commander.to_dict() if commander and reason == "update" else None,
        "incident": dict(snapshot),
        "buttons": [UPDATE_BUTTON] if reason == "update" else [],
    }
    stamp = now.strftime("%Y%m%dT%H%M%S")
    return [
        Effect(d, REMIND, payload, f"{d}:{incident.ref}:remind:{reason}:{stamp}", incident.number)
        for d in CHAT
        if d in destinations
    ]


def reminder_text(incident: Incident, minutes: int) -> str:
    who = incident.commander.name if incident.commander else "Commander"
    last = incident.last_update_at
    since = "yet" if last is None else f"in the last {minutes} minutes"
    return (
        f"{who}, no update has been posted for {incident.ref} {since}. People are waiting to hear "
        f"how it is going: please post one (Post update, or /incident update <text>)."
    )


def nag_text(incident: Incident) -> str:
    return (
        f"{incident.ref} has no commander yet. Could someone take command? "
        "Run /incident commander @you (or ask the person who should)."
    )


# --- planning timers for a change -----------------------------------------------------------------
def plan_timers(
    incident: Incident,
    entries: Sequence[TimelineEntry],
    policy: Policy,
    now: datetime,
    *,
    previous_severity: Severity | None = None,
) -> list[TimerOp]:
    """Timer operations for ``entries`` just applied to ``incident``; the last word per key wins."""
    ops: dict[str, TimerOp] = {}
    for entry in entries:
        for op in (
            _escalation_op(incident, entry, policy, now, previous_severity),
            _reminder_op(incident, entry, policy, now),
            _nag_op(incident, entry, now),
            *_observe_ops(incident, entry),
        ):
            if op is not None:
                ops[op.key] = op
    return list(ops.values())


def _escalation_op(
    incident: Incident,
    entry: TimelineEntry,
    policy: Policy,
    now: datetime,
    previous: Severity | None,
) -> TimerOp | None:
    key = timer_key(ESCALATION, incident)
    rule = policy.rule(incident.severity)
    chosen = paging_escalation(incident, policy)
    start = None
    if entry.kind in (EntryKind.DECLARED, EntryKind.REOPENED):
        start = chosen
    elif entry.kind is EntryKind.SEVERITY:
        if not rule.page:
            return TimerOp(ESCALATION, key)
        before = policy.rule(previous) if previous is not None else None
        was = (incident.escalation or before.escalation) if before is not None else None
        changed = before is None or not before.page or was != chosen
        if changed and incident.acknowledged_at is None:
            start = chosen
    elif entry.kind in _STOPS_PAGING:
        return TimerOp(ESCALATION, key)
    if start is None:
        return None
    return TimerOp(ESCALATION, key, now, Step(start, now).to_payload())


def _reminder_op(
    incident: Incident, entry: TimelineEntry, policy: Policy, now: datetime
) -> TimerOp | None:
    key = timer_key(REMINDER, incident)
    if entry.kind is EntryKind.RESOLVED:
        return TimerOp(REMINDER, key)
    if entry.kind in (EntryKind.DECLARED, EntryKind.REOPENED, EntryKind.UPDATE):
        since = now
    elif entry.kind is EntryKind.SEVERITY:
        since = incident.last_update_at or incident.declared_at
    else:
        return None
    due = reminder_due(incident, policy, since)
    if due is None:
        return TimerOp(REMINDER, key)
    return TimerOp(REMINDER, key, max(due, now), {"since": since.isoformat()})


def _nag_op(incident: Incident, entry: TimelineEntry, now: datetime) -> TimerOp | None:
    key = timer_key(NAG, incident)
    if entry.kind is EntryKind.RESOLVED:
        return TimerOp(NAG, key)
    commander_changed = entry.kind is EntryKind.ROLE and entry.data.get("role") == Role.COMMANDER
    if entry.kind not in (EntryKind.DECLARED, EntryKind.REOPENED) and not commander_changed:
        return None
    if needs_commander(incident):
        return TimerOp(NAG, key, now, {"since": now.isoformat()})
    return TimerOp(NAG, key) if commander_changed else None


def _observe_ops(incident: Incident, entry: TimelineEntry) -> list[TimerOp]:
    """Time to acknowledge (once) and time to resolve, from the incident's own timestamps."""
    ops = []
    severity = incident.severity.value
    acked = incident.acknowledged_at
    if entry.kind in _STOPS_PAGING and acked is not None and acked == entry.at:
        seconds = (acked - incident.declared_at).total_seconds()
        payload = {"metric": "acknowledged", "severity": severity, "seconds": seconds}
        key = f"{OBSERVE}:{incident.ref}:acknowledged"
        ops.append(TimerOp(OBSERVE, key, entry.at, payload, replace=False))
    if entry.kind is EntryKind.RESOLVED and incident.resolved_at is not None:
        seconds = (incident.resolved_at - incident.declared_at).total_seconds()
        payload = {"metric": "resolved", "severity": severity, "seconds": seconds}
        key = f"{OBSERVE}:{incident.ref}:resolved:{incident.resolved_at.strftime('%Y%m%dT%H%M%S')}"
        ops.append(TimerOp(OBSERVE, key, entry.at, payload, replace=False))
    return ops
