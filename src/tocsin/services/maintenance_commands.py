"""``maintenance`` from chat (and ``tocsin incident maintenance``): list the windows, and
schedule, move or cancel one through the same use cases as the CLI, the API and the dashboard
(:mod:`tocsin.services.maintenance`: the rules, the timers, the announcements, the audit).

Listing needs the ``maintenance`` permission (anyone by default); a change needs ``maintain``
(admins by default, since a window silences paging for its components). A refusal is audited
under the use case's name (``maintenance create``, ``maintenance edit``, ``maintenance cancel``)
and nothing changes; a bad field comes back as the domain's message naming it, with the chat
usage line instead of the CLI's flags.
"""

from __future__ import annotations

from tocsin.domain.command_forms import (
    CANCEL,
    CANCEL_USAGE,
    EDIT,
    EDIT_USAGE,
    SCHEDULE,
    SCHEDULE_USAGE,
)
from tocsin.domain.commands import Command
from tocsin.domain.errors import NotFound, ParseError, PermissionDenied
from tocsin.domain.maintenance import Maintenance
from tocsin.domain.model import Actor
from tocsin.domain.permissions import MAINTAIN, decide
from tocsin.services import maintenance as service
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import deny

_AUDITED = {SCHEDULE: service.CREATE, EDIT: service.EDIT, CANCEL: service.CANCEL}
_USAGE = {SCHEDULE: SCHEDULE_USAGE, EDIT: EDIT_USAGE, CANCEL: CANCEL_USAGE}
_DONE = {SCHEDULE: "Scheduled", EDIT: "Moved", CANCEL: "Cancelled"}


def line(m: Maintenance) -> str:
    """One window: id, status, title, window in UTC, components."""
    window = f"{m.starts_at:%Y-%m-%d %H:%M} to {m.ends_at:%Y-%m-%d %H:%M} UTC"
    affects = ", ".join(m.components) or "no components"
    return f"#{m.id} [{m.status}] {m.title}: {window} ({affects})"


async def maintenance(ctx: Context, actor: Actor, command: Command) -> Outcome:
    """Run one ``maintenance`` form; raises DomainError subclasses fit for the user."""
    verb = command.verb or "list"
    if verb not in _AUDITED:
        return await _list(ctx, actor)
    decision = decide(ctx.policy, MAINTAIN, actor, None)
    if not decision.allowed:
        async with ctx.uow() as uow:
            detail = f"#{command.item}" if command.item else command.text
            raise await deny(uow, actor, _AUDITED[verb], None, decision.reason, ctx.clock(), detail)
    try:
        done = await _change(ctx, actor, verb, command)
    except NotFound:
        raise NotFound(
            f"There is no maintenance #{command.item}; `maintenance list` lists them."
        ) from None
    except ParseError as exc:  # the service's usage line is the CLI's; show the chat one
        raise ParseError(exc.message, _USAGE[verb]) from None
    return Outcome(f"{_DONE[verb]} maintenance {line(done)}.")


async def _change(ctx: Context, actor: Actor, verb: str, command: Command) -> Maintenance:
    if verb == SCHEDULE:
        return await service.create(
            ctx, actor, command.text, command.starts, command.ends,
            command.components, command.description,
        )  # fmt: skip
    item = command.item
    if item is None:  # the parser always gives edit and cancel an id
        raise ParseError("Name the maintenance by its id, like 7.", _USAGE[verb])
    if verb == CANCEL:
        return await service.cancel(ctx, actor, item)
    change = service.MaintenanceChange(start=command.starts or None, end=command.ends or None)
    return await service.edit(ctx, actor, item, change)


async def _list(ctx: Context, actor: Actor) -> Outcome:
    decision = decide(ctx.policy, "maintenance", actor, None)
    if not decision.allowed:
        raise PermissionDenied(decision.reason)
    found = await service.upcoming_and_current(ctx)
    if not found:
        return Outcome("No maintenance is scheduled.", data={"maintenances": []})
    lines = ["Scheduled maintenance:", *(f"• {line(m)}" for m in found)]
    return Outcome("\n".join(lines), data={"maintenances": [m.id for m in found]})
