"""Post a status update (channel, announcement, status page)."""

from __future__ import annotations

from tocsin.domain.commands import Command
from tocsin.domain.model import Actor
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import change_incident


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
