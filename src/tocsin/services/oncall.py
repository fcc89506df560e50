"""On-call use cases: who is on call now and next, a schedule's coming shifts, its iCalendar feed,
and overrides (someone else on call for a while). Overrides are audited like every command that
changes state; the rest only reads. The rules live in :mod:`tocsin.domain.oncall`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tocsin.domain.errors import NotFound, ParseError, PermissionDenied
from tocsin.domain.model import Actor
from tocsin.domain.oncall import (
    Override,
    Shift,
    icalendar,
    layers,
    local,
    next_shifts,
    on_call,
    parse_when,
    schedule_shifts,
    top_schedules,
)
from tocsin.domain.policy import PERSON, PLATFORMS, Schedule
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import audit_record, deny

OVERRIDE_COMMAND = "oncall override"
REMOVE_COMMAND = "oncall remove-override"
MAX_WEEKS = 52
OVERRIDE_USAGE = "oncall override PERSON --from WHEN --to WHEN [--schedule NAME]"


@dataclass(frozen=True, slots=True)
class ScheduleNow:
    """Who is on call in one schedule (every layer) at ``at``, and who takes over next."""

    name: str
    timezone: str
    at: datetime
    now: list[Shift]
    next: list[Shift]


def find_schedule(ctx: Context, name: str) -> Schedule:
    schedule = ctx.policy.schedule(name)
    if schedule is None:
        known = (
            ", ".join(s.name for s in ctx.policy.schedules) or "none: the policy has no schedules"
        )
        raise NotFound(f'There is no schedule "{name}" (known: {known}).')
    return schedule


async def _overrides(ctx: Context, names: list[str], start: datetime, end: datetime) -> list[Any]:
    async with ctx.uow(read_only=True) as uow:
        return await uow.overrides.between(names, start, end)


async def who(ctx: Context, at: datetime | None = None) -> list[ScheduleNow]:
    """Every top-level schedule: who is on call at ``at`` (default now) and who is next."""
    at = at or ctx.clock()
    names = [s.name for s in ctx.policy.schedules]
    overrides = await _overrides(ctx, names, at - timedelta(days=1), at + timedelta(days=400))
    found = []
    for name in top_schedules(ctx.policy):
        zone = find_schedule(ctx, name).timezone
        now = on_call(ctx.policy, name, overrides, at)
        found.append(ScheduleNow(name, zone, at, now, next_shifts(ctx.policy, name, overrides, at)))
    return found


async def upcoming(
    ctx: Context, name: str, weeks: int = 4, at: datetime | None = None
) -> list[Shift]:
    """The shifts of schedule ``name`` (all its layers) from now for ``weeks`` weeks."""
    find_schedule(ctx, name)
    if not 1 <= weeks <= MAX_WEEKS:
        raise ParseError(f"Show between 1 and {MAX_WEEKS} weeks, not {weeks}.")
    start = at or ctx.clock()
    end = start + timedelta(weeks=weeks)
    names = [layer.name for layer in layers(ctx.policy, name)]
    overrides = await _overrides(ctx, names, start, end)
    return schedule_shifts(ctx.policy, name, overrides, start, end)


async def calendar(ctx: Context, name: str, weeks: int = 8, person: str = "") -> str:
    """The iCalendar feed of schedule ``name`` (only ``person``'s shifts, when given)."""
    shifts = await upcoming(ctx, name, weeks)
    if person:
        shifts = [s for s in shifts if s.person == person]
    return icalendar(name, shifts, ctx.clock())


def _check_person(person: str) -> str:
    person = person.strip()
    match = PERSON.fullmatch(person)
    if match is None or match["platform"] not in PLATFORMS:
        raise ParseError(
            f'"{person[:60]}" is not a person; write platform:user_id, e.g. slack:U0ALICE or '
            "discord:700000000000000005.",
            OVERRIDE_USAGE,
        )
    return person


def _override_schedule(ctx: Context, name: str | None) -> Schedule:
    if name:
        return find_schedule(ctx, name)
    if len(ctx.policy.schedules) == 1:
        return ctx.policy.schedules[0]
    if not ctx.policy.schedules:
        raise NotFound("The policy has no schedules, so there is nothing to override.")
    names = ", ".join(s.name for s in ctx.policy.schedules)
    raise ParseError(f"Say which schedule with --schedule (one of: {names}).", OVERRIDE_USAGE)


def _times(schedule: Schedule, start: str, end: str, now: datetime) -> tuple[datetime, datetime]:
    try:
        begins = parse_when(start, schedule.timezone, now)
        ends = parse_when(end, schedule.timezone, now)
    except ValueError as exc:
        raise ParseError(str(exc), OVERRIDE_USAGE) from None
    if ends <= begins:
        raise ParseError("The override must end after it starts.", OVERRIDE_USAGE)
    if ends <= now:
        raise ParseError(
            "That override would be over already; give a time to come.", OVERRIDE_USAGE
        )
    return begins, ends


async def add_override(
    ctx: Context,
    actor: Actor,
    person: str,
    start: str,
    end: str,
    *,
    schedule: str | None = None,
    reason: str = "",
) -> Override:
    """Put ``person`` on call in ``schedule`` (needed when there are several) between ``start``
    and ``end`` (see :func:`~tocsin.domain.oncall.parse_when`); audited."""
    layer = _override_schedule(ctx, schedule)
    member = _check_person(person)
    async with ctx.uow() as uow:
        now = ctx.clock()
        begins, ends = _times(layer, start, end, now)
        override = await uow.overrides.add(
            layer.name, member, begins, ends, created_by=actor.key, now=now, reason=reason.strip()
        )
        detail = f"#{override.id} {layer.name}: {member} {begins.isoformat()} to {ends.isoformat()}"
        why = "admin" if ctx.policy.is_admin(actor) else "write"
        await uow.audit.append(
            audit_record(actor, OVERRIDE_COMMAND, None, "allowed", why, now, detail)
        )
        await uow.commit()
    return override


async def remove_override(ctx: Context, actor: Actor, override_id: int) -> Override:
    """Delete an override (audited)."""
    async with ctx.uow() as uow:
        repo = uow.overrides
        found = await repo.get(override_id)
        if found is None:
            raise NotFound(
                f"There is no override #{override_id}; `tocsin oncall overrides` lists them."
            )
        await repo.remove(override_id)
        why = "admin" if ctx.policy.is_admin(actor) else "write"
        detail = f"removed #{override_id} {found.schedule}: {found.person}"
        await uow.audit.append(
            audit_record(actor, REMOVE_COMMAND, None, "allowed", why, ctx.clock(), detail)
        )
        await uow.commit()
    return found


async def refuse(ctx: Context, actor: Actor, command: str, scope: str) -> PermissionDenied:
    """Audit a caller whose token scope cannot change overrides; the error to raise."""
    reason = f'The "{scope}" scope cannot change on-call overrides; that needs the "write" scope.'
    async with ctx.uow() as uow:
        return await deny(uow, actor, command, None, reason, ctx.clock())


async def list_overrides(ctx: Context) -> list[Override]:
    """Overrides not yet over, soonest first."""
    async with ctx.uow(read_only=True) as uow:
        return await uow.overrides.upcoming(ctx.clock())


# --- views ----------------------------------------------------------------------------------------
def shift_view(shift: Shift, timezone: str) -> dict[str, Any]:
    return {
        "person": shift.person,
        "layer": shift.layer,
        "from": local(shift.start, timezone).isoformat(),
        "to": local(shift.end, timezone).isoformat(),
        "override": shift.override,
    }


def who_view(rows: list[ScheduleNow]) -> dict[str, Any]:
    return {
        "at": rows[0].at.isoformat() if rows else None,
        "schedules": [
            {
                "name": r.name,
                "timezone": r.timezone,
                "now": [shift_view(s, r.timezone) for s in r.now],
                "next": [shift_view(s, r.timezone) for s in r.next],
            }
            for r in rows
        ],
    }


def override_view(override: Override) -> dict[str, Any]:
    return {
        "id": override.id,
        "schedule": override.schedule,
        "person": override.person,
        "from": override.start.isoformat(),
        "to": override.end.isoformat(),
        "reason": override.reason,
        "created_by": override.created_by,
    }


def _when(at: datetime, timezone: str) -> str:
    return local(at, timezone).strftime("%a %d %b %H:%M %Z")


def who_text(rows: list[ScheduleNow]) -> str:
    """Plain text: one line per schedule with who is on call now, until when, and who is next."""
    if not rows:
        return "No on-call schedules are set up (add [[schedule]] tables to the policy file)."
    lines = []
    for r in rows:
        now = ", ".join(
            f"{s.person}{' (override)' if s.override else ''} until {_when(s.end, r.timezone)}"
            for s in r.now
        )
        nxt = ", ".join(f"{s.person} from {_when(s.start, r.timezone)}" for s in r.next)
        lines.append(f"{r.name}: {now or 'nobody'}; next: {nxt or 'nobody'}")
    return "\n".join(lines)


async def oncall_outcome(ctx: Context) -> Outcome:
    """``/incident oncall`` (when the chat command table offers it): who is on call now and next."""
    return Outcome(who_text(await who(ctx)))
