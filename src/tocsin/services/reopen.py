"""Reopen a resolved incident."""

from __future__ import annotations

from tocsin.domain.commands import Command
from tocsin.domain.model import Actor
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import change_incident


async def reopen(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Reopen a resolved incident."""
    del command
    return await change_incident(
        ctx, actor, "reopen", number, lambda incident, now: incident.reopen(actor, now)
    )
