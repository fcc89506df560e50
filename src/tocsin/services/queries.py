"""Read-only use cases: list, show and the firing alert groups. They take no write lock and
change nothing."""

from __future__ import annotations

from tocsin.domain.model import Actor, Incident, incident_ref
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


FIRING_STATUSES = ("firing", "acknowledged", "silenced")
"""The statuses of an alert group with firing alerts (``/incident alerts`` lists these)."""


async def firing_alert_groups(ctx: Context, *, limit: int = 25) -> Outcome:
    """``/incident alerts``: the groups firing now, most recently seen first, one line each
    (id, status, title, alerts firing, incident); ``data["groups"]`` has their ids."""
    async with ctx.uow(read_only=True) as uow:
        groups = await uow.alert_groups.list(statuses=FIRING_STATUSES, limit=limit)
    if not groups:
        return Outcome("No alert groups are firing.", data={"groups": []})
    lines = ["Alert groups firing:"]
    for kept in groups:
        firing = len(kept.group.firing)
        where = f" on {incident_ref(kept.incident)}" if kept.incident is not None else ""
        lines.append(
            f"• #{kept.id} [{kept.group.status.value}] {kept.group.title}: "
            f"{firing} alert{'s' if firing != 1 else ''} firing{where}"
        )
    if len(groups) == limit:
        lines.append(f"(the {limit} most recent; `tocsin alerts list` shows more)")
    return Outcome("\n".join(lines), data={"groups": [kept.id for kept in groups]})
