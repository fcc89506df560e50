"""Move the incident along its lifecycle."""

from __future__ import annotations

from tocsin.domain.commands import Command
from tocsin.domain.errors import ParseError
from tocsin.domain.model import Actor
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import change_incident


async def status(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Move the incident along its lifecycle."""
    state = command.status
    if state is None:
        raise ParseError("Say which status: identified, monitoring or resolved.", "status STATE")
    return await change_incident(
        ctx,
        actor,
        "status",
        number,
        lambda incident, now: incident.set_status(actor, state, now),
        detail=state.value,
    )
