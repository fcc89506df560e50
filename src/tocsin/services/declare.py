"""Declare a new incident."""

from __future__ import annotations

from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Incident
from tocsin.domain.permissions import decide
from tocsin.services.context import Context, Outcome
from tocsin.services.people import person_from
from tocsin.services.pipeline import commit_change, deny


async def declare(
    ctx: Context,
    actor: Actor,
    command: Command,
    *,
    description: str = "",
    escalation: str | None = None,
) -> Outcome:
    """Take the next number, create the incident, plan channel/announcement/paging by severity
    (through ``escalation`` instead of the severity's when given: an alert route's)."""
    severity = command.severity or ctx.policy.default_severity
    commander = person_from(actor, command.person)
    async with ctx.uow() as uow:
        now = ctx.clock()
        decision = decide(ctx.policy, "declare", actor, None)
        if not decision.allowed:
            raise await deny(uow, actor, "declare", None, decision.reason, now, command.text)
        number = await uow.incidents.next_number()
        incident, entries = Incident.declare(
            number,
            command.text,
            severity,
            actor,
            now,
            commander=commander,
            description=description,
            escalation=escalation,
        )
        await uow.incidents.add(incident)
        await commit_change(
            uow,
            ctx,
            actor,
            "declare",
            incident,
            entries,
            now,
            reason=decision.reason,
            detail=command.text,
        )
    lead = incident.commander.name if incident.commander else actor.name
    return Outcome(
        f"{incident.ref} declared ({severity}, {severity.label}): {incident.title}. "
        f"Commander: {lead}.",
        public=True,
        incident=incident,
        timeline=entries,
    )
