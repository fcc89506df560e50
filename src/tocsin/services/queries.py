"""Read-only use cases: list and show. They take no write lock and change nothing."""

from __future__ import annotations

from tocsin.domain.model import Actor, Incident
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import load


def describe(incident: Incident) -> str:
    commander = incident.commander.name if incident.commander else "nobody"
    return (
        f"{incident.ref} [{incident.severity}] {incident.status}: {incident.title} "
        f"(commander {commander})"
    )


async def list_incidents(
    ctx: Context, actor: Actor, *, scope: str = "open", limit: int = 50, offset: int = 0
) -> Outcome:
    """Newest first; ``scope`` is ``open`` (default) or ``all``. Served from
    :class:`~tocsin.services.list_cache.ListCache` while nothing has changed."""
    del actor

    async def load() -> list[Incident]:
        async with ctx.uow(read_only=True) as uow:
            return await uow.incidents.list(open_only=scope != "all", limit=limit, offset=offset)

    incidents = await ctx.lists.get((scope, limit, offset), load)
    if not incidents:
        empty = "No open incidents." if scope != "all" else "No incidents yet."
        return Outcome(empty, incidents=[])
    title = "Open incidents:" if scope != "all" else "Incidents:"
    lines = [title, *(f"• {describe(i)}" for i in incidents)]
    return Outcome("\n".join(lines), incidents=incidents)


async def show(ctx: Context, actor: Actor, number: int) -> Outcome:
    """One incident with its roles, timestamps and full timeline."""
    del actor
    async with ctx.uow(read_only=True) as uow:
        incident = await load(uow, number)
        timeline = await uow.timeline.list(number)
    roles = ", ".join(f"{role}: {who.name}" for role, who in incident.roles.items()) or "none"
    lines = [describe(incident), f"Roles: {roles}"]
    lines += [f"{e.at:%Y-%m-%d %H:%M:%S} {e.actor.name}: {e.text}" for e in timeline[-10:]]
    return Outcome("\n".join(lines), incident=incident, timeline=timeline)


async def channel_incident(ctx: Context, platform: str, channel_id: str) -> int | None:
    """The incident whose channel on ``platform`` is ``channel_id``, if any."""
    async with ctx.uow(read_only=True) as uow:
        return await uow.refs.incident_for_channel(platform, channel_id)
