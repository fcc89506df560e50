"""Acknowledge a page: the first acknowledgement stops escalation."""

from __future__ import annotations

from tocsin.domain.commands import Command
from tocsin.domain.model import Actor
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import change_incident


async def ack(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Acknowledge a page: the first acknowledgement stops escalation."""
    del command
    return await change_incident(
        ctx, actor, "ack", number, lambda incident, now: incident.acknowledge(actor, now)
    )
