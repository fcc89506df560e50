"""Decide what the public sees of an incident: make it public or private on the status page, and
name the status page components it affects.

Both go through the same path as every command (load, decide, change, save, timeline, outbox,
audit, commit): the audit log records ``public``, ``private`` or ``visibility`` (back to the
severity policy) and ``components``, allowed or denied. Making an incident public queues a
Statuspage ``sync``; making a published one private queues ``unpublish``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from tocsin.domain.model import Actor, Incident, TimelineEntry
from tocsin.domain.permissions import Decision
from tocsin.domain.policy import Policy
from tocsin.domain.statuspage import (
    is_public,
    may_set_components,
    may_set_visibility,
)
from tocsin.domain.statuspage import set_components as set_incident_components
from tocsin.domain.statuspage import set_visibility as set_incident_visibility
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import commit_change, deny, load
from tocsin.services.ports import UnitOfWork
from tocsin.services.public_status_page import merge_components

Decide = Callable[[Policy, Actor, Incident], Decision]
Change = Callable[[Incident, datetime], list[TimelineEntry]]


def visibility_command(public: bool | None) -> str:
    """The audit log's name for the change: public, private, or visibility (follow policy)."""
    if public is None:
        return "visibility"
    return "public" if public else "private"


async def _run(
    ctx: Context,
    uow: UnitOfWork,
    actor: Actor,
    command: str,
    number: int,
    allowed: Decide,
    change: Change,
    detail: str,
) -> tuple[Incident, list[TimelineEntry]]:
    now = ctx.clock()
    incident = await load(uow, number, for_update=True)
    decision = allowed(ctx.policy, actor, incident)
    if not decision.allowed:
        raise await deny(uow, actor, command, number, decision.reason, now, detail)
    previous = incident.severity
    entries = change(incident, now)
    await uow.incidents.save(incident)
    await commit_change(
        uow, ctx, actor, command, incident, entries, now,
        reason=decision.reason, detail=detail, previous_severity=previous,
    )  # fmt: skip
    return incident, entries


async def set_visibility(ctx: Context, actor: Actor, number: int, public: bool | None) -> Outcome:
    """Make incident ``number`` public (True), private (False), or follow the severity policy
    again (None). Only its commander or an admin may."""
    command = visibility_command(public)

    def change(incident: Incident, now: datetime) -> list[TimelineEntry]:
        return set_incident_visibility(incident, actor, public, now)

    async with ctx.uow() as uow:
        incident, entries = await _run(
            ctx, uow, actor, command, number, may_set_visibility, change, command
        )
    shown = "is on" if is_public(incident, ctx.policy) else "is not on"
    message = f"{entries[-1].text}. {incident.ref} {shown} the public status page now."
    return Outcome(message, public=True, incident=incident, timeline=entries)


async def set_components(ctx: Context, actor: Actor, number: int, names: Sequence[str]) -> Outcome:
    """Name the status page components incident ``number`` affects (empty: none). Whoever may
    post its updates may."""
    detail = ", ".join(names)[:2000]
    async with ctx.uow() as uow:
        stored = await uow.status.components()
        known = [c.name for c in merge_components(ctx.policy, stored)]

        def change(incident: Incident, now: datetime) -> list[TimelineEntry]:
            return set_incident_components(incident, actor, names, known, now)

        incident, entries = await _run(
            ctx, uow, actor, "components", number, may_set_components, change, detail
        )
    return Outcome(entries[-1].text, public=True, incident=incident, timeline=entries)
