"""Alert groups by hand: list, show, acknowledge, silence for a while, declare an incident."""

from __future__ import annotations

from datetime import timedelta

from tocsin.domain.alerts import acknowledge, make_silence, set_silenced
from tocsin.domain.errors import InvalidTransition, NotFound, PermissionDenied
from tocsin.domain.model import Actor, incident_ref
from tocsin.services.alerts.joined import joined_context
from tocsin.services.alerts.process import AlertProcessor
from tocsin.services.alerts.silences import allowed, check_length
from tocsin.services.context import Context
from tocsin.services.ports import UnitOfWork
from tocsin.storage.alert_groups import StoredGroup


async def list_groups(
    ctx: Context, *, statuses: tuple[str, ...] = (), limit: int = 50, offset: int = 0
) -> list[StoredGroup]:
    async with ctx.uow(read_only=True) as uow:
        return await uow.alert_groups.list(statuses=statuses, limit=limit, offset=offset)


async def get_group(ctx: Context, group_id: int) -> StoredGroup:
    async with ctx.uow(read_only=True) as uow:
        return await _load(uow, group_id, for_update=False)


async def _load(uow: UnitOfWork, group_id: int, *, for_update: bool = True) -> StoredGroup:
    kept = await uow.alert_groups.get(group_id, for_update=for_update)
    if kept is None:
        raise NotFound(f"There is no alert group #{group_id}.")
    return kept


async def ack_group(ctx: Context, actor: Actor, group_id: int) -> StoredGroup:
    """Someone has it: the group shows as acknowledged while its alerts fire (the policy's
    ``alerts`` permission; audited)."""
    async with ctx.uow() as uow:
        kept = await _load(uow, group_id)
        await allowed(ctx, uow, actor, "alert_ack", f"alert group #{group_id}")
        group = acknowledge(kept.group, actor.name)
        kept = StoredGroup(group, kept.incident, kept.action, kept.auto_resolve)
        await uow.alert_groups.save(kept)
        await uow.commit()
    return kept


async def silence_group(
    ctx: Context, actor: Actor, group_id: int, length: timedelta
) -> StoredGroup:
    """Silence the group for ``length`` (up to 30 days): it pages, proposes and
    declares nothing meanwhile (the policy's ``alerts`` permission; audited)."""
    check_length(length)
    async with ctx.uow() as uow:
        kept = await _load(uow, group_id)
        await allowed(ctx, uow, actor, "alert_silence", f"alert group #{group_id} for {length}")
        now = ctx.clock()
        silence = make_silence(now, now + length, group_id=group_id, created_by=actor.key)
        await uow.silences.add(silence, now)
        group = set_silenced(kept.group, bool(kept.group.firing))
        kept = StoredGroup(group, kept.incident, kept.action, kept.auto_resolve)
        await uow.alert_groups.save(kept)
        await uow.commit()
    return kept


async def declare_group(ctx: Context, actor: Actor, group_id: int) -> StoredGroup:
    """Declare an incident for the group now, whatever its route says."""
    async with ctx.uow() as uow:
        kept = await _load(uow, group_id)
        if kept.incident is not None:
            incident = await uow.incidents.get(kept.incident)
            if incident is not None and incident.is_open:
                raise InvalidTransition(
                    f"alert group #{group_id} is already on {incident_ref(incident.number)}"
                )
        route = ctx.policy.alert_routes.route(kept.group.common_labels)
        processor = AlertProcessor(ctx)
        try:
            kept = await processor.declare(
                uow, joined_context(ctx, uow), kept, route, ctx.clock(), actor
            )
        except PermissionDenied:
            await uow.commit()  # the refusal's audit record, the only write so far
            raise
        await uow.commit()
    ctx.committed()
    return kept
