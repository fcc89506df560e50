"""Paging, escalation, update reminders and commander nags: arming timers with every change, and
the timer handlers that fire them.

:func:`schedule_incident_timers` runs inside every change's unit of work (``commit_change``), so
a page, a reminder or its cancellation commits with the change that caused it, whatever the
surface (chat, button, CLI, API). What to arm or cancel is decided in :mod:`tocsin.domain.paging`.

:class:`Paging` holds the handlers, which run in the delivery workers' timer runner, inside the
transaction that marks the timer fired: they only write rows (outbox effects, timeline notes, the
next timer), so a restart mid-escalation loses nothing and two replicas page once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from tocsin.domain.effects import Effect
from tocsin.domain.model import Incident, Severity, TimelineEntry
from tocsin.domain.oncall import level_targets, schedules_of
from tocsin.domain.paging import (
    ESCALATION,
    NAG,
    OBSERVE,
    REMINDER,
    Step,
    escalation_of,
    nag_text,
    needs_commander,
    next_step,
    page_effects,
    page_note,
    plan_timers,
    remind_effects,
    reminder_due,
    reminder_text,
    stop_reason,
)
from tocsin.domain.policy import Escalation, Policy
from tocsin.domain.routing import plan, snapshot
from tocsin.storage.timers import Timer

if TYPE_CHECKING:
    from tocsin.config import Settings
    from tocsin.delivery.timers import TimerContext, TimerHandlers
    from tocsin.observability.metrics import Metrics
    from tocsin.services.ports import UnitOfWork
from tocsin.services.ack_tokens import ack_secret
from tocsin.services.context import Context
from tocsin.services.personal_paging import PERSON_STEP, PersonalPaging

log = structlog.get_logger("tocsin.paging")

DEFAULT_NAG_MINUTES = 10


async def schedule_incident_timers(
    uow: UnitOfWork,
    policy: Policy,
    incident: Incident,
    entries: Sequence[TimelineEntry],
    now: datetime,
    *,
    previous_severity: Severity | None = None,
) -> None:
    """Arm or cancel the incident's escalation, reminder, nag and metric timers for ``entries``."""
    store = uow.timers
    for op in plan_timers(incident, entries, policy, now, previous_severity=previous_severity):
        if op.due is None:
            await store.cancel(op.key)
        else:
            await store.schedule(
                op.key,
                op.kind,
                op.due,
                incident=incident.number,
                payload=dict(op.payload),
                replace=op.replace,
            )


@dataclass(frozen=True)
class PagingConfig:
    """What the handlers need. ``destinations`` are the switched-on outside systems (with
    ``webhook`` when TOCSIN_WEBHOOK_URL is set); ``nag_minutes`` 0 turns the commander nag off;
    ``minute`` is the length of an escalation minute in seconds (tests shrink it)."""

    policy: Policy
    destinations: frozenset[str] = frozenset()
    public_url: str = ""
    nag_minutes: int = DEFAULT_NAG_MINUTES
    minute: float = 60.0
    ack_secret: str | None = None  # signs acknowledge links (TOCSIN_SECRET_KEY)


class Paging:
    """The timer handlers: ``escalation``, ``update_reminder``, ``commander_nag``,
    ``incident_metrics`` and ``person_step`` (a later step of someone's own rule)."""

    def __init__(self, config: PagingConfig, metrics: Metrics | None = None) -> None:
        self.config = config
        self.metrics = metrics
        self.personal = PersonalPaging(
            config.policy, config.destinations, config.public_url, config.ack_secret, config.minute
        )

    def register(self, handlers: TimerHandlers) -> TimerHandlers:
        handlers.register(ESCALATION, self.escalate)
        handlers.register(REMINDER, self.remind)
        handlers.register(NAG, self.nag)
        handlers.register(OBSERVE, self.observe)
        handlers.register(PERSON_STEP, self.personal.fire)
        return handlers

    # --- escalation ------------------------------------------------------------------------------
    async def escalate(self, timer: Timer, tx: TimerContext) -> None:
        """Page the step's level, note it on the timeline and arm the next step."""
        if timer.incident is None:
            return
        step = Step.from_payload(timer.payload)
        incident = await tx.uow.incidents.get(timer.incident, for_update=True)
        if incident is None:
            return
        reason = stop_reason(incident, self.config.policy, step)
        if reason is not None:
            log.info("escalation over", incident=incident.ref, reason=reason)
            return
        escalation = escalation_of(self.config.policy, step.escalation)
        targets: list[str] = []
        if escalation.levels and not step.exhausted:
            targets = await self._targets(tx, escalation.levels[step.level])
        snap = snapshot(incident, self.config.public_url)
        effects: list[Effect] = []
        if not step.exhausted:
            people = await self.personal.people(tx.uow, targets)
            effects = page_effects(
                incident, snap, escalation, step, targets, self.config.destinations, people
            )
            for person in people.values():
                effects += await self.personal.page(tx, incident, escalation, step, person)
        note = page_note(incident, escalation, step, targets, tx.now)
        await self._record(tx, incident, note, effects)
        if escalation.levels and not step.exhausted:
            await self._arm_next(timer, tx, escalation, step)
        self._count(step, effects)
        log.info("paged", incident=incident.ref, step=step.to_payload(), targets=targets)

    async def _targets(self, tx: TimerContext, level: Sequence[str]) -> list[str]:
        names = schedules_of(level, self.config.policy)
        overrides = await tx.uow.overrides.between(names, tx.now, tx.now + timedelta(seconds=1))
        return level_targets(self.config.policy, level, overrides, tx.now)

    async def _record(
        self, tx: TimerContext, incident: Incident, note: TimelineEntry, effects: list[Effect]
    ) -> None:
        """The note goes on the timeline (and to the incident channels) with the pages."""
        await tx.uow.incidents.save(incident)  # a new version: the note's effects get new keys
        await tx.uow.timeline.append(incident.number, [note])
        posts = plan(
            incident,
            [note],
            self.config.policy,
            self.config.destinations,
            public_url=self.config.public_url,
        )
        await tx.uow.outbox.add([*effects, *posts], tx.now)

    async def _arm_next(
        self, timer: Timer, tx: TimerContext, escalation: Escalation, step: Step
    ) -> None:
        due = tx.now + timedelta(seconds=escalation.escalate_after_minutes * self.config.minute)
        await tx.timers.schedule(
            timer.key,
            ESCALATION,
            due,
            incident=timer.incident,
            payload=next_step(escalation, step).to_payload(),
            replace=True,
        )

    def _count(self, step: Step, effects: list[Effect]) -> None:
        if self.metrics is None or step.exhausted:
            return
        for effect in effects:
            self.metrics.pages_sent_total.labels(effect.destination).inc()
        if step.first and "pagerduty" in self.config.destinations:
            self.metrics.pages_sent_total.labels("pagerduty").inc()
        if not step.first:
            self.metrics.escalations_total.labels(str(step.level + 1)).inc()

    # --- reminders and nags ----------------------------------------------------------------------
    async def remind(self, timer: Timer, tx: TimerContext) -> None:
        """Remind the commander in the incident channel when no update came within the cadence."""
        incident = await self._incident(timer, tx)
        if incident is None:
            return
        since = datetime.fromisoformat(str(timer.payload.get("since") or tx.now.isoformat()))
        due = reminder_due(incident, self.config.policy, since)
        if due is None:
            return
        if due > tx.now:  # an update came since: wait for the rest of the cadence
            await self._rearm(timer, tx, due, since)
            return
        minutes = self.config.policy.rule(incident.severity).update_reminder_minutes or 0
        text = reminder_text(incident, minutes)
        await self._send(tx, incident, "update", text)
        await self._rearm(timer, tx, tx.now + timedelta(minutes=minutes), tx.now)

    async def nag(self, timer: Timer, tx: TimerContext) -> None:
        """While nobody has command, ask the channel politely every ``nag_minutes``."""
        incident = await self._incident(timer, tx)
        minutes = self.config.nag_minutes
        if incident is None or not incident.is_open or not needs_commander(incident) or not minutes:
            return
        since = datetime.fromisoformat(str(timer.payload.get("since") or tx.now.isoformat()))
        due = since + timedelta(minutes=minutes)
        if due > tx.now:
            await self._rearm(timer, tx, due, since)
            return
        await self._send(tx, incident, "commander", nag_text(incident))
        await self._rearm(timer, tx, tx.now + timedelta(minutes=minutes), tx.now)

    async def _incident(self, timer: Timer, tx: TimerContext) -> Incident | None:
        if timer.incident is None:
            return None
        return await tx.uow.incidents.get(timer.incident)

    async def _send(self, tx: TimerContext, incident: Incident, reason: str, text: str) -> None:
        snap = snapshot(incident, self.config.public_url)
        effects = remind_effects(incident, snap, reason, text, self.config.destinations, tx.now)
        await tx.uow.outbox.add(effects, tx.now)

    @staticmethod
    async def _rearm(timer: Timer, tx: TimerContext, due: datetime, since: datetime) -> None:
        await tx.timers.schedule(
            timer.key,
            timer.kind,
            due,
            incident=timer.incident,
            payload={"since": since.isoformat()},
            replace=True,
        )

    # --- metrics ---------------------------------------------------------------------------------
    async def observe(self, timer: Timer, tx: TimerContext) -> None:
        """Time to acknowledge / resolve, observed by whichever process runs the timers (a CLI
        ack has no metrics of its own)."""
        del tx
        if self.metrics is None:
            return
        seconds = max(0.0, float(timer.payload.get("seconds", 0.0)))
        severity = str(timer.payload.get("severity", ""))
        if timer.payload.get("metric") == "acknowledged":
            self.metrics.time_to_acknowledge_seconds.labels(severity).observe(seconds)
        elif timer.payload.get("metric") == "resolved":
            self.metrics.time_to_resolve_seconds.labels(severity).observe(seconds)


def paging_config(settings: Settings, ctx: Context) -> PagingConfig:
    """The handlers' configuration from the settings and the context's policy and platforms
    (TOCSIN_COMMANDER_NAG_MINUTES sets the nag's cadence)."""
    destinations = set(ctx.destinations)
    if settings.webhook_url:
        destinations.add("webhook")
    if settings.smtp_url is not None and settings.smtp_from:
        destinations.add("email")  # mailto: contacts in people's rules
    return PagingConfig(
        ctx.policy,
        frozenset(destinations),
        ctx.public_url,
        settings.commander_nag_minutes,
        ack_secret=ack_secret(settings),
    )


def paging_timer_handlers(
    settings: Settings,
    ctx: Context,
    metrics: Metrics | None = None,
    handlers: TimerHandlers | None = None,
) -> TimerHandlers:
    """The composition root's timer handlers for paging (added to ``handlers`` when given)."""
    from tocsin.delivery.timers import TimerHandlers  # delivery imports services

    registry = handlers if handlers is not None else TimerHandlers()
    return Paging(paging_config(settings, ctx), metrics).register(registry)
