"""Resolve the incident, with an optional summary."""

from __future__ import annotations

from tocsin.domain.commands import Command
from tocsin.domain.model import Actor
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import change_incident


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
