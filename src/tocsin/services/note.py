"""Add a note to the timeline."""

from __future__ import annotations

from tocsin.domain.commands import Command
from tocsin.domain.model import Actor
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import change_incident


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
