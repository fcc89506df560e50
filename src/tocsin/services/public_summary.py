"""``summary``: the commander's public post-mortem summary of an incident (rules in
:mod:`tocsin.domain.public_summary`). Publishing, changing and removing it go through the
pipeline like every incident change (the ``summary`` permission, the timeline, the audit, the
``on_commit`` hooks that drop the status page caches); showing it is a read under ``show``."""

from __future__ import annotations

from tocsin.domain import public_summary as rules
from tocsin.domain.command_forms import CLEAR, SET
from tocsin.domain.commands import Command
from tocsin.domain.errors import PermissionDenied
from tocsin.domain.model import Actor, Incident
from tocsin.domain.permissions import decide
from tocsin.domain.policy import Policy
from tocsin.domain.statuspage import is_public
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import change_incident, load

COMMAND = "summary"


def where_shown(incident: Incident, policy: Policy) -> str:
    """Where the summary shows, in a sentence (public and resolved: the status page history)."""
    if not is_public(incident, policy):
        return f"{incident.ref} is not public, so the status page does not show it."
    if incident.is_open:
        return f"The status page history shows it once {incident.ref} is resolved."
    return "The status page history and its feed show it."


async def summary(ctx: Context, actor: Actor, number: int, command: Command) -> Outcome:
    """Show (``verb`` "show"), publish or replace ("set") or remove ("clear") the summary."""
    if command.verb == SET:
        return await change_incident(
            ctx, actor, COMMAND, number,
            lambda incident, now: rules.publish(incident, actor, command.text, now),
            detail=command.text,
            reply=lambda i: f"Public summary of {i.ref} saved. {where_shown(i, ctx.policy)}",
        )  # fmt: skip
    if command.verb == CLEAR:
        return await change_incident(
            ctx, actor, COMMAND, number,
            lambda incident, now: rules.remove(incident, actor, now),
            detail="removed", reply=lambda i: f"Public summary of {i.ref} removed.",
        )  # fmt: skip
    async with ctx.uow(read_only=True) as uow:
        incident = await load(uow, number)
    decision = decide(ctx.policy, "show", actor, incident)
    if not decision.allowed:
        raise PermissionDenied(decision.reason)
    return Outcome(describe(incident, ctx.policy), incident=incident)


def describe(incident: Incident, policy: Policy) -> str:
    found = incident.public_summary
    if found is None:
        return (
            f"{incident.ref} has no public summary yet; its commander writes one with "
            f"`summary {incident.ref} <text>`."
        )
    when = found.published_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Public summary of {incident.ref} (by {found.published_by.name}, {when}). "
        f"{where_shown(incident, policy)}\n{found.text}"
    )
