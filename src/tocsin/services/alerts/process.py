"""From the inbox to groups and actions: the ``alert_inbox`` timer handler.

Each accepted body has a timer (:data:`~tocsin.services.alerts.intake.INBOX_TIMER`); when one
fires, its handler claims its row and the pending rows behind it (up to :data:`BATCH`) and, for
each, in the timer's transaction: parses it, applies it to its group
(:func:`~tocsin.domain.alerts.apply_batch`), evaluates the silences, stores the group and
carries out the route of the group's labels. So a crash before the commit leaves every row
pending (its timer fires again), and two replicas never process a row twice. A row whose body no
longer parses (it was checked on arrival) is marked failed with the error, not retried.

A firing group is silenced, and pages nobody, while a silence covers it or while a maintenance
window holds one of its components (a ``component`` label, or the component of the monitor its
``monitor`` label names: docs/alerts.md); the stored group says which (``silenced_reason``).

Actions, when a group opens or fires again and no silence or maintenance covers it:

- ``ignore``: stored and counted;
- ``page``: the route's escalation is walked without an incident (:mod:`.paging`): the first
  level is paged by direct message, the next ones while nobody acknowledges, each step once;
- ``propose``: the group is posted to the announce channel of each chat platform;
- ``declare``: an incident is declared (:func:`tocsin.services.declare.declare`) with the
  on-call person of the escalation's first level as commander and the route's escalation as the
  one that pages for it (when the route names one), and what the firing alerts
  describe (a monitor's failed checks: time, reason, response time) is noted on its timeline;
  while that incident is open, the group firing again is noted there instead.

When a group resolves, a note goes on its incident's timeline; with ``auto_resolve`` the incident
is resolved once every group attached to it has resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import structlog

from tocsin.domain.alerts import (
    PARSERS,
    AlertAction,
    AlertBatch,
    AlertGroup,
    AlertRoute,
    Change,
    ChangeKind,
    IntegrationKind,
    apply_batch,
    heartbeat_missed,
    heartbeat_ok,
    is_silenced,
    set_silenced,
)
from tocsin.domain.commands import MAX_TEXT, Command, Mention
from tocsin.domain.effects import Effect
from tocsin.domain.errors import AlertPayloadError
from tocsin.domain.maintenance import alert_components, maintenance_reason
from tocsin.domain.model import Actor
from tocsin.domain.paging import CHAT
from tocsin.services.alerts.intake import INBOX_TIMER, enqueue
from tocsin.services.alerts.integrations import HEARTBEAT_TIMER
from tocsin.services.alerts.joined import joined_context
from tocsin.services.alerts.paging import PAGE_TIMER, GroupPaging
from tocsin.services.alerts.views import group_details, group_payload
from tocsin.services.context import Context
from tocsin.services.maintenance import components_under_maintenance
from tocsin.services.monitor_catalog import all_monitors
from tocsin.storage.alert_groups import StoredGroup
from tocsin.storage.alerts import InboxRow, IntegrationRow
from tocsin.storage.timers import Timer

if TYPE_CHECKING:
    from tocsin.delivery.timers import TimerContext, TimerHandlers
    from tocsin.observability.metrics import Metrics
    from tocsin.services.ports import UnitOfWork

log = structlog.get_logger("tocsin.alerts")

BATCH = 50  # inbox rows per transaction
ALERTS = Actor("tocsin", "alerts", "tocsin alerts")  # who declares, notes and resolves
PROPOSE = "propose_alert"  # the outbox kind the chat senders post to the announce channel
_OPENS = (ChangeKind.GROUP_OPENED, ChangeKind.GROUP_REFIRED)


@dataclass
class AlertProcessor:
    ctx: Context
    metrics: Metrics | None = None

    def __post_init__(self) -> None:
        self.paging = GroupPaging(self.ctx)

    def register(self, handlers: TimerHandlers) -> TimerHandlers:
        handlers.register(INBOX_TIMER, self.handle)
        handlers.register(HEARTBEAT_TIMER, self.missed)
        handlers.register(PAGE_TIMER, self.paging.escalate)
        return handlers

    async def missed(self, timer: Timer, tx: TimerContext) -> None:
        """A heartbeat's call is late: a firing alert, from when it was due, into the inbox."""
        row = await tx.uow.integrations.by_id(int(timer.payload["integration"]))
        if row is None:
            return
        body = orjson.dumps({"status": "firing", "at": str(timer.payload["due"])})
        await enqueue(tx.uow, row.id, row.name, body, tx.now)

    async def handle(self, timer: Timer, tx: TimerContext) -> None:
        """Process this timer's inbox row and the pending ones behind it."""
        uow = tx.uow
        first = timer.payload.get("inbox")
        rows = await uow.alert_inbox.claim(BATCH, int(first) if first is not None else None)
        sources: dict[int, IntegrationRow | None] = {}
        for row in rows:
            if row.integration not in sources:
                sources[row.integration] = await uow.integrations.by_id(row.integration)
            await self._row(uow, row, sources[row.integration], tx.now)
        if self.metrics is not None and rows:
            counts = await uow.alert_groups.counts()
            for state in ("firing", "acknowledged", "silenced", "resolved"):
                self.metrics.alert_groups.labels(state).set(counts.get(state, 0))

    async def _row(
        self, uow: UnitOfWork, row: InboxRow, source: IntegrationRow | None, now: datetime
    ) -> None:
        if source is None:  # the integration was deleted after the body was accepted
            await uow.alert_inbox.finish(row.id, now, "the integration no longer exists")
            return
        try:
            batch = _batch(source, orjson.loads(row.body))
        except (AlertPayloadError, orjson.JSONDecodeError, ValueError, KeyError) as exc:
            await uow.alert_inbox.finish(row.id, now, str(exc))
            return
        await self.route_batch(uow, row.integration, batch, row.received_at, now)
        await uow.alert_inbox.finish(row.id, now)

    async def route_batch(
        self, uow: UnitOfWork, integration: int, batch: AlertBatch, at: datetime, now: datetime
    ) -> StoredGroup:
        """Apply ``batch`` to its group of ``integration``, store it and carry out its route:
        what every inbox row goes through, and what a monitor's up/down batch goes through."""
        stored = await uow.alert_groups.find(integration, batch.group_key, for_update=True)
        group, changes = apply_batch(stored.group if stored else None, str(integration), batch, at)
        group = await self._silence(uow, group, now)
        route = self._route(stored, group, changes)
        kept = StoredGroup(
            group, stored.incident if stored else None, route.action.value, route.auto_resolve
        )
        kept = await uow.alert_groups.save(kept)
        if not group.silenced:
            kept = await self._act(uow, kept, route, changes, now)
        self._count(str(batch.kind), batch.alerts, group.silenced)
        return kept

    async def _silence(self, uow: UnitOfWork, group: AlertGroup, now: datetime) -> AlertGroup:
        """The group marked silenced while it fires under a silence, or while a maintenance
        window holds one of its components (:func:`~tocsin.domain.maintenance.alert_components`),
        with the reason it shows."""
        if not group.firing:
            return set_silenced(group, False)
        if is_silenced(await uow.silences.active(now), group.common_labels, now, group.id):
            return set_silenced(group, True)
        by_monitor: dict[str, str] = {}
        if "monitor" in group.common_labels:  # only monitor groups need the monitors read
            monitors = await all_monitors(self.ctx, uow)
            by_monitor = {m.name: m.component for m in monitors if m.component}
        components = alert_components(group.common_labels, by_monitor)
        held = await components_under_maintenance(uow, components, now) if components else ()
        return set_silenced(group, bool(held), maintenance_reason(held))

    def _route(
        self, stored: StoredGroup | None, group: AlertGroup, changes: tuple[Change, ...]
    ) -> AlertRoute:
        """The route of the group's labels when it (re)opens; otherwise the one it fired under
        (a resolve may carry fewer labels, and must not move the group to another route)."""
        router = self.ctx.policy.alert_routes
        opening = any(change.kind in _OPENS for change in changes)
        if stored is None or opening or not stored.action:
            return router.route(group.common_labels)
        kept = router.route(stored.group.common_labels)
        return AlertRoute(
            kept.severity,
            AlertAction(stored.action),
            kept.matchers,
            kept.escalation,
            stored.auto_resolve,
        )

    def _count(self, kind: str, alerts: tuple[object, ...], silenced: bool) -> None:
        if self.metrics is None:
            return
        for alert in alerts:
            status = "silenced" if silenced else str(getattr(alert, "status", ""))
            self.metrics.alerts_received_total.labels(kind, status).inc()

    async def _act(
        self,
        uow: UnitOfWork,
        kept: StoredGroup,
        route: AlertRoute,
        changes: tuple[Change, ...],
        now: datetime,
    ) -> StoredGroup:
        kinds = {change.kind for change in changes}
        ctx = joined_context(self.ctx, uow)
        if kinds & set(_OPENS):
            if route.action is AlertAction.PAGE:
                escalation = route.escalation_for(self.ctx.policy) or "default"
                await self.paging.start(uow, kept, escalation, route.severity.value, now)
            elif route.action is AlertAction.PROPOSE:
                await uow.outbox.add(self._proposals(kept, route), now)
            elif route.action is AlertAction.DECLARE:
                kept = await self._declare(uow, ctx, kept, route, now)
        if ChangeKind.GROUP_RESOLVED in kinds and kept.incident is not None:
            await self._resolved(uow, ctx, kept)
        return kept

    # --- propose ---------------------------------------------------------------------------------
    def _proposals(self, kept: StoredGroup, route: AlertRoute) -> list[Effect]:
        payload = group_payload(kept, route.severity.value, self.ctx.public_url)
        stamp = _stamp(kept)
        return [
            Effect(
                dest,
                PROPOSE,
                payload,
                f"{dest}:alert-group:{kept.id}:propose:{stamp}",
                None,
                ordering_key=f"{dest}:alerts",
            )
            for dest in sorted(set(CHAT) & self.ctx.destinations)
        ]

    # --- declare and resolve ---------------------------------------------------------------------
    async def _declare(
        self, uow: UnitOfWork, ctx: Context, kept: StoredGroup, route: AlertRoute, now: datetime
    ) -> StoredGroup:
        from tocsin.services.dispatch import execute  # dispatch imports every use case

        if kept.incident is not None:
            incident = await uow.incidents.get(kept.incident)
            if incident is not None and incident.is_open:
                text = f"Alert group #{kept.id} ({kept.group.title}) is firing again."
                if details := group_details(kept):
                    text = f"{text} {details}"[:MAX_TEXT]
                await execute(ctx, ALERTS, Command("note", incident=incident.number, text=text))
                return kept
        return await self.declare(uow, ctx, kept, route, now, ALERTS)

    async def declare(
        self,
        uow: UnitOfWork,
        ctx: Context,
        kept: StoredGroup,
        route: AlertRoute,
        now: datetime,
        actor: Actor,
    ) -> StoredGroup:
        """Declare an incident for the group, with the route's severity and the on-call person
        as commander, and attach the group to it. The route's ``escalation`` (when it names one)
        is the incident's: it pages through it instead of the severity's."""
        from tocsin.services.declare import declare as declare_incident
        from tocsin.services.dispatch import execute

        group = kept.group
        escalation = route.escalation_for(self.ctx.policy) or "default"
        targets = await self.paging.targets(uow, escalation, 0, now)
        person = Mention(targets[0]) if targets else None
        command = Command(
            "declare",
            text=group.title[:200] or group.group_key[:200],
            severity=route.severity,
            person=person,
        )
        outcome = await declare_incident(ctx, actor, command, escalation=route.escalation)
        assert outcome.incident is not None  # a declare always makes one
        kept = StoredGroup(group, outcome.incident.number, kept.action, kept.auto_resolve)
        await uow.alert_groups.save(kept)
        if details := group_details(kept):  # what fired, beyond the title: a monitor's checks
            note = Command("note", incident=outcome.incident.number, text=details)
            await execute(ctx, ALERTS, note)
        log.info("alert group declared", group=kept.id, incident=outcome.incident.ref)
        return kept

    async def _resolved(self, uow: UnitOfWork, ctx: Context, kept: StoredGroup) -> None:
        from tocsin.services.dispatch import execute

        number = kept.incident
        assert number is not None
        incident = await uow.incidents.get(number)
        if incident is None or not incident.is_open:
            return
        text = f"Alert group #{kept.id} ({kept.group.title}) resolved."
        await execute(ctx, ALERTS, Command("note", incident=number, text=text))
        groups = await uow.alert_groups.of_incident(number)
        if kept.auto_resolve and all(not g.group.firing for g in groups):
            summary = "Every alert group of this incident resolved."
            await execute(ctx, ALERTS, Command("resolve", incident=number, text=summary))


def _batch(source: IntegrationRow, data: Any) -> AlertBatch:
    """The batch of an inbox body: a sender's body in its format, or a heartbeat's event
    (``{"status", "at"}``, written by tocsin itself)."""
    if source.kind != IntegrationKind.HEARTBEAT:
        return PARSERS[IntegrationKind(source.kind)](data)
    at = datetime.fromisoformat(str(data["at"]))
    if data["status"] == "firing":
        return heartbeat_missed(source.name, at)
    return heartbeat_ok(source.name, at)


def _stamp(kept: StoredGroup) -> int:
    fired = kept.group.fired_at
    return int(fired.timestamp() * 1000) if fired else 0


def alert_timer_handlers(
    ctx: Context, metrics: Metrics | None = None, handlers: TimerHandlers | None = None
) -> TimerHandlers:
    """The alert inbox's timer handler (added to ``handlers`` when given)."""
    from tocsin.delivery.timers import TimerHandlers  # delivery imports services

    registry = handlers if handlers is not None else TimerHandlers()
    return AlertProcessor(ctx, metrics).register(registry)
