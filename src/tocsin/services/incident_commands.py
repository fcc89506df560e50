"""The commands that change one incident: one function each, run by :mod:`tocsin.services.dispatch`.

Each takes ``(ctx, actor, number, command)`` and hands the domain change to
:func:`~tocsin.services.pipeline.change_incident`, which loads, checks the policy, saves, audits
and plans the notifications in one unit of work. Declaring (no incident yet) is in
:mod:`tocsin.services.declare`; reads are in :mod:`tocsin.services.queries`.
"""

from __future__ import annotations

from typing import TypeVar

from tocsin.domain.commands import Command
from tocsin.domain.errors import ParseError
from tocsin.domain.model import Actor, Role
from tocsin.services.context import Context, Outcome
from tocsin.services.people import person_from
from tocsin.services.pipeline import change_incident

_T = TypeVar("_T")


def _given(value: _T | None, message: str, usage: str) -> _T:
    """``value``, or the :class:`ParseError` saying what the command is missing."""
    if value is None:
        raise ParseError(message, usage)
    return value


async def update(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Post a status update (channel, announcement, status page)."""
    return await change_incident(
        ctx,
        actor,
        "update",
        number,
        lambda incident, now: incident.post_update(actor, command.text, now),
        detail=command.text,
        reply=lambda i: f"Update posted to {i.ref}.",
    )


async def note(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Add a note to the timeline."""
    return await change_incident(
        ctx,
        actor,
        "note",
        number,
        lambda incident, now: incident.add_note(actor, command.text, now),
        detail=command.text,
        reply=lambda i: f"Noted on {i.ref}.",
    )


async def severity(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Change the severity; routing follows the new level."""
    level = _given(command.severity, "Say which severity: P1, P2, P3 or P4.", "severity P1..P4")
    return await change_incident(
        ctx,
        actor,
        "severity",
        number,
        lambda incident, now: incident.change_severity(actor, level, now),
        detail=level.value,
    )


async def status(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Move the incident along its lifecycle."""
    state = _given(
        command.status, "Say which status: identified, monitoring or resolved.", "status STATE"
    )
    return await change_incident(
        ctx,
        actor,
        "status",
        number,
        lambda incident, now: incident.set_status(actor, state, now),
        detail=state.value,
    )


async def roles(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Hand over command, or give someone a role (deputy, scribe, comms)."""
    person = _given(
        person_from(actor, command.person), "Say who, e.g. `commander @alice`.", "commander @user"
    )
    role = command.role or Role.COMMANDER
    name = "commander" if role is Role.COMMANDER else "role"
    return await change_incident(
        ctx,
        actor,
        name,
        number,
        lambda incident, now: incident.assign_role(actor, role, person, now),
        detail=f"{role.value} {person.key}",
    )


async def join(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Join the incident as a participant."""
    del command
    return await change_incident(
        ctx,
        actor,
        "join",
        number,
        lambda incident, now: incident.join(actor, now),
        reply=lambda i: f"You joined {i.ref}.",
    )


async def ack(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Acknowledge a page: the first acknowledgement stops escalation."""
    del command
    return await change_incident(
        ctx, actor, "ack", number, lambda incident, now: incident.acknowledge(actor, now)
    )


async def action(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Record a follow-up action item, optionally with an owner."""
    owner = person_from(actor, command.person)
    return await change_incident(
        ctx,
        actor,
        "action",
        number,
        lambda incident, now: incident.add_action(actor, command.text, owner, now),
        detail=command.text,
    )


async def resolve(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Resolve the incident, with an optional summary."""
    return await change_incident(
        ctx,
        actor,
        "resolve",
        number,
        lambda incident, now: incident.resolve(actor, command.text, now),
        detail=command.text,
    )


async def reopen(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Reopen a resolved incident."""
    del command
    return await change_incident(
        ctx, actor, "reopen", number, lambda incident, now: incident.reopen(actor, now)
    )
