"""Record a follow-up action item, optionally with an owner."""

from __future__ import annotations

from tocsin.domain.commands import Command
from tocsin.domain.model import Actor
from tocsin.services.context import Context, Outcome
from tocsin.services.people import person_from
from tocsin.services.pipeline import change_incident


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
