"""Scheduled maintenance use cases: create, edit, cancel, list; the timers that start and complete
a window; and :func:`is_under_maintenance` for the code that pages people.

Each change is one unit of work: the row, its two durable timers (``maintenance_start`` at the
window's start, ``maintenance_end`` at its end, keyed by the maintenance's id, so moving the
window re-arms them and a cancel disarms them), the outbox rows of
:mod:`tocsin.domain.maintenance_effects` (the Statuspage mirror, the announcements) and of
:mod:`tocsin.services.subscriber_notices` (creation, cancel, and edits that move the window or
change the title or components) and an audit record commit together. The timer
handlers (:class:`MaintenanceTimers`) run in the delivery workers' timer runner inside the
transaction that marks the timer fired, so a window starts and ends once across replicas and
after a restart. The rules live in :mod:`tocsin.domain.maintenance`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tocsin.domain import maintenance as rules
from tocsin.domain import maintenance_effects as effects
from tocsin.domain.errors import InvalidTransition, NotFound
from tocsin.domain.maintenance import Maintenance, parse_instant
from tocsin.domain.model import Actor
from tocsin.services.context import Context
from tocsin.services.pipeline import audit_record
from tocsin.services.ports import UnitOfWork
from tocsin.services.public_status_page import merge_components
from tocsin.services.subscriber_notices import queue_maintenance_notice

if TYPE_CHECKING:
    from tocsin.delivery.timers import TimerContext, TimerHandlers
    from tocsin.storage.timers import Timer

START, END = "maintenance_start", "maintenance_end"
CREATE, EDIT, CANCEL = "maintenance create", "maintenance edit", "maintenance cancel"
RECENT = timedelta(days=90)  # how far back the lists and the page look
TOLD = (effects.CREATED, effects.CANCELLED, *effects.CHANGES)  # by people; the timers tell theirs


@dataclass(frozen=True, slots=True)
class MaintenanceChange:
    """An edit; None leaves a field as it is. Times are as typed (ISO 8601, ``+2h``)."""

    title: str | None = None
    start: str | None = None
    end: str | None = None
    components: Sequence[str] | None = None
    description: str | None = None


def _key(m: Maintenance, edge: str) -> str:
    return f"maintenance:{m.id}:{edge}"


async def _arm(uow: UnitOfWork, m: Maintenance) -> None:
    """(Re)arm the timers of an open maintenance: its start (while scheduled) and its end."""
    if m.status == rules.SCHEDULED:
        await uow.timers.schedule(_key(m, "start"), START, m.starts_at, payload={"id": m.id},
                                  replace=True)  # fmt: skip
    await uow.timers.schedule(_key(m, "end"), END, m.ends_at, payload={"id": m.id}, replace=True)


async def _finish(
    uow: UnitOfWork,
    ctx: Context,
    actor: Actor,
    m: Maintenance,
    event: str,
    command: str,
    before: Maintenance | None = None,
) -> None:
    """Queue the change's outbox rows (the subscribers' too, for the events they hear of),
    audit it, commit."""
    now = ctx.clock()
    await uow.outbox.add(effects.plan(m, event, ctx.destinations, before), now)
    if event in TOLD:
        await queue_maintenance_notice(uow, ctx.public_url, m, event, now, before)
    why = "admin" if ctx.policy.is_admin(actor) else "write"
    detail = f"#{m.id} {m.title}"
    await uow.audit.append(audit_record(actor, command, None, "allowed", why, now, detail))
    await uow.commit()


async def _known(uow: UnitOfWork, ctx: Context) -> list[str]:
    return [c.name for c in merge_components(ctx.policy, await uow.status.components())]


async def create(
    ctx: Context,
    actor: Actor,
    title: str,
    start: str,
    end: str,
    components: Sequence[str] = (),
    description: str = "",
) -> Maintenance:
    """Schedule a maintenance window (audited); raises MaintenanceInvalid naming a bad field."""
    async with ctx.uow() as uow:
        now = ctx.clock()
        draft = rules.validate(
            title, components, parse_instant("start", start, now), parse_instant("end", end, now),
            description, await _known(uow, ctx), now,
        )  # fmt: skip
        made = await uow.maintenance.add(draft, created_by=actor.key, now=now)
        await _arm(uow, made)
        await _finish(uow, ctx, actor, made, effects.CREATED, CREATE)
    ctx.committed()
    return made


async def _load(uow: UnitOfWork, maintenance_id: int) -> Maintenance:
    found = await uow.maintenance.get(maintenance_id, for_update=True)
    if found is None:
        raise NotFound(
            f"There is no maintenance #{maintenance_id}; `tocsin maintenance list` lists them."
        )
    return found


async def edit(
    ctx: Context, actor: Actor, maintenance_id: int, change: MaintenanceChange
) -> Maintenance:
    """Change an open maintenance's fields (audited); its timers follow its window."""
    async with ctx.uow() as uow:
        now = ctx.clock()
        m = await _load(uow, maintenance_id)
        starts = parse_instant("start", change.start, now) if change.start else m.starts_at
        ends = parse_instant("end", change.end, now) if change.end else m.ends_at
        draft = rules.validate(
            m.title if change.title is None else change.title,
            m.components if change.components is None else change.components,
            starts, ends,
            m.description if change.description is None else change.description,
            await _known(uow, ctx), now,
        )  # fmt: skip
        changed = rules.edit(m, draft, now)
        await uow.maintenance.save(changed)
        await _arm(uow, changed)
        event = effects.edit_event(m, changed)  # a description alone is told to nobody
        await _finish(uow, ctx, actor, changed, event, EDIT, before=m)
    ctx.committed()
    return changed


async def cancel(ctx: Context, actor: Actor, maintenance_id: int) -> Maintenance:
    """Call off an open maintenance (audited): its timers are disarmed, its components freed."""
    async with ctx.uow() as uow:
        now = ctx.clock()
        m = rules.cancel(await _load(uow, maintenance_id), now)
        await uow.maintenance.save(m)
        await uow.timers.cancel(_key(m, "start"))
        await uow.timers.cancel(_key(m, "end"))
        await _finish(uow, ctx, actor, m, effects.CANCELLED, CANCEL)
    ctx.committed()
    return m


async def get(ctx: Context, maintenance_id: int) -> Maintenance:
    async with ctx.uow(read_only=True) as uow:
        return await _load(uow, maintenance_id)


async def recent(ctx: Context) -> list[Maintenance]:
    """Maintenances not over, or over within the last 90 days (cancelled ones too), by start."""
    async with ctx.uow(read_only=True) as uow:
        return await uow.maintenance.since(ctx.clock() - RECENT)


async def upcoming_and_current(ctx: Context) -> list[Maintenance]:
    """Open maintenances, soonest first (what ``tocsin maintenance list`` shows)."""
    async with ctx.uow(read_only=True) as uow:
        found = await uow.maintenance.since(ctx.clock())
    return [m for m in found if m.is_open]


async def is_under_maintenance(ctx: Context, component: str, now: datetime) -> bool:
    """Whether status page component ``component`` is inside an open maintenance window at
    ``now`` (see :func:`tocsin.domain.maintenance.is_active`)."""
    async with ctx.uow(read_only=True) as uow:
        return bool(await components_under_maintenance(uow, (component,), now))


async def components_under_maintenance(
    uow: UnitOfWork, components: Sequence[str], now: datetime
) -> frozenset[str]:
    """Those of ``components`` an open maintenance window holds at ``now``, read in the caller's
    unit of work (the alert processing checks a group's components this way before it pages)."""
    held: set[str] = set()
    for component in components:
        if rules.under_maintenance(await uow.maintenance.open_for(component, now), now):
            held.add(component)
    return frozenset(held)


# --- timers ---------------------------------------------------------------------------------------
class MaintenanceTimers:
    """The ``maintenance_start`` and ``maintenance_end`` timer handlers; they queue the
    announcements and the Statuspage mirror for the enabled ``destinations``, and the
    subscribers' notices (their links under ``public_url``)."""

    def __init__(self, destinations: frozenset[str] = frozenset(), public_url: str = "") -> None:
        self.destinations = destinations
        self.public_url = public_url

    def register(self, handlers: TimerHandlers) -> TimerHandlers:
        handlers.register(START, self.started)
        handlers.register(END, self.ended)
        return handlers

    async def started(self, timer: Timer, tx: TimerContext) -> None:
        await self._move(timer, tx, rules.start, effects.STARTED, "started")

    async def ended(self, timer: Timer, tx: TimerContext) -> None:
        await self._move(timer, tx, rules.complete, effects.COMPLETED, "completed")

    async def _move(
        self, timer: Timer, tx: TimerContext, move: Any, event: str, notice: str
    ) -> None:
        store = tx.uow.maintenance
        m = await store.get(int(timer.payload["id"]), for_update=True)
        if m is None:
            return
        try:
            changed = move(m, tx.now)
        except InvalidTransition:  # cancelled or already moved meanwhile: nothing to do
            return
        await store.save(changed)
        await tx.uow.outbox.add(effects.plan(changed, event, self.destinations), tx.now)
        await queue_maintenance_notice(tx.uow, self.public_url, changed, notice, tx.now)


def maintenance_timer_handlers(
    handlers: TimerHandlers, destinations: frozenset[str] = frozenset(), public_url: str = ""
) -> TimerHandlers:
    """Add the maintenance timer handlers to the composition root's ``handlers``."""
    return MaintenanceTimers(destinations, public_url).register(handlers)


# --- views ----------------------------------------------------------------------------------------
def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def maintenance_view(m: Maintenance) -> dict[str, Any]:
    """The API's and ``--json``'s form of a maintenance."""
    return {
        "id": m.id,
        "title": m.title,
        "status": m.status,
        "components": list(m.components),
        "start": m.starts_at.isoformat(),
        "end": m.ends_at.isoformat(),
        "description": m.description,
        "created_by": m.created_by,
        "created_at": _iso(m.created_at),
        "updated_at": _iso(m.updated_at),
        "started_at": _iso(m.started_at),
        "finished_at": _iso(m.finished_at),
    }
