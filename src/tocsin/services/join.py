"""Join the incident as a participant."""

from __future__ import annotations

from tocsin.domain.commands import Command
from tocsin.domain.model import Actor
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import change_incident


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
