"""Change the severity; routing follows the new level."""

from __future__ import annotations

from tocsin.domain.commands import Command
from tocsin.domain.errors import ParseError
from tocsin.domain.model import Actor
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import change_incident


async def severity(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Change the severity; routing follows the new level."""
    level = command.severity
    if level is None:
        raise ParseError("Say which severity: P1, P2, P3 or P4.", "severity P1..P4")
    return await change_incident(
        ctx,
        actor,
        "severity",
        number,
        lambda incident, now: incident.change_severity(actor, level, now),
        detail=level.value,
    )
