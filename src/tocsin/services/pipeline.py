"""The one path every state change takes: load, decide, change, save, plan effects, audit, commit.

Each use case module supplies only the domain call; permission, audit, timeline and outbox are
handled here once, so no surface can skip them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from tocsin.domain.audit import AuditRecord
from tocsin.domain.errors import NotFound, PermissionDenied
from tocsin.domain.model import Actor, Incident, Severity, TimelineEntry, incident_ref
from tocsin.domain.permissions import decide
from tocsin.domain.routing import plan
from tocsin.domain.statuspage import is_public
from tocsin.services.context import Context, Outcome
from tocsin.services.paging import schedule_incident_timers
from tocsin.services.ports import UnitOfWork
from tocsin.services.subscriber_notices import queue_incident_notices

Change = Callable[[Incident, datetime], list[TimelineEntry]]


def audit_record(
    actor: Actor,
    command: str,
    incident: int | None,
    decision: str,
    reason: str,
    now: datetime,
    detail: str = "",
) -> AuditRecord:
    return AuditRecord(
        at=now,
        platform=actor.platform,
        actor_id=actor.user_id,
        actor_name=actor.name,
        command=command,
        incident=incident,
        decision=decision,
        reason=reason,
        detail=detail[:2000],
    )


async def deny(
    uow: UnitOfWork,
    actor: Actor,
    command: str,
    number: int | None,
    reason: str,
    now: datetime,
    detail: str = "",
) -> PermissionDenied:
    """Audit a refused attempt and commit it; the caller raises what this returns."""
    await uow.audit.append(audit_record(actor, command, number, "denied", reason, now, detail))
    await uow.commit()
    return PermissionDenied(reason)


async def load(uow: UnitOfWork, number: int, *, for_update: bool = False) -> Incident:
    incident = await uow.incidents.get(number, for_update=for_update)
    if incident is None:
        raise NotFound(f"There is no {incident_ref(number)}. Try `list all` to see every incident.")
    return incident


async def change_incident(
    ctx: Context,
    actor: Actor,
    command: str,
    number: int,
    change: Change,
    *,
    detail: str = "",
    reply: Callable[[Incident], str] | None = None,
) -> Outcome:
    """Run ``change`` on incident ``number`` as ``actor`` in one unit of work."""
    async with ctx.uow() as uow:
        now = ctx.clock()
        incident = await load(uow, number, for_update=True)
        decision = decide(ctx.policy, command, actor, incident)
        if not decision.allowed:
            raise await deny(uow, actor, command, number, decision.reason, now, detail)
        previous_severity = incident.severity
        entries = change(incident, now)
        await uow.incidents.save(incident)
        await commit_change(
            uow,
            ctx,
            actor,
            command,
            incident,
            entries,
            now,
            reason=decision.reason,
            detail=detail,
            previous_severity=previous_severity,
        )
    message = reply(incident) if reply else (entries[-1].text if entries else "Done.")
    return Outcome(message, incident=incident, timeline=entries)


async def commit_change(
    uow: UnitOfWork,
    ctx: Context,
    actor: Actor,
    command: str,
    incident: Incident,
    entries: list[TimelineEntry],
    now: datetime,
    *,
    reason: str,
    detail: str = "",
    previous_severity: Severity | None = None,
) -> None:
    """Timeline, outbox and audit for a change already saved on ``uow``; then commit."""
    await uow.timeline.append(incident.number, entries)
    effects = plan(
        incident,
        entries,
        ctx.policy,
        ctx.destinations,
        previous_severity=previous_severity,
        public_url=ctx.public_url,
    )
    await uow.outbox.add(effects, now)
    # Status-page subscribers (docs/status-page.md#subscribers): a row per subscriber per notice.
    await queue_incident_notices(
        uow, ctx.policy, ctx.public_url, incident, entries, now, previous_severity
    )
    # Paging, escalation, update reminders and nags (docs/oncall.md): timers armed or cancelled.
    await schedule_incident_timers(
        uow, ctx.policy, incident, entries, now, previous_severity=previous_severity
    )
    if incident.published_at is None and is_public(incident, ctx.policy):
        # The status page keeps a published incident (and Statuspage keeps syncing it) even
        # when a downgrade would no longer publish it.
        incident.published_at = now
        await uow.incidents.mark_published(incident.number, now)
    await uow.audit.append(
        audit_record(actor, command, incident.number, "allowed", reason, now, detail)
    )
    await uow.commit()
    ctx.committed()
