"""Hand over command, or give someone a role (deputy, scribe, comms)."""

from __future__ import annotations

from tocsin.domain.commands import Command
from tocsin.domain.errors import ParseError
from tocsin.domain.model import Actor, Role
from tocsin.services.context import Context, Outcome
from tocsin.services.people import person_from
from tocsin.services.pipeline import change_incident


async def roles(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Hand over command, or give someone a role (deputy, scribe, comms)."""
    person = person_from(actor, command.person)
    if person is None:
        raise ParseError("Say who, e.g. `commander @alice`.", "commander @user")
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
