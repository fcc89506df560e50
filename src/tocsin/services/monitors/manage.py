"""Adding and deleting stored monitors (docs/monitors.md): the use cases behind
``POST /api/v1/monitors``, ``DELETE /api/v1/monitors/{name}`` and ``tocsin monitor add|delete``
(and the dashboard's forms, which call the same two functions).

A definition is checked by the policy file's own parser
(:func:`~tocsin.domain.monitor_definition.validate_definition`), against the components that
exist (the policy's and those made through the API). A ``restricted`` monitor (its creator is
not an admin) is refused when its host resolves to an internal address, unless
TOCSIN_MONITOR_ALLOW_PRIVATE is set; the name is resolved before any transaction opens. Each
change is one unit of work: the definition, the check timer (armed or deleted) and the audit
record (``monitor add``, ``monitor delete``) commit together. Deleting a monitor that is down
resolves its alert and puts its component back, as pausing does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from tocsin.domain.errors import InvalidTransition, NotFound
from tocsin.domain.model import Actor
from tocsin.domain.monitor_definition import MonitorInvalid, validate_definition
from tocsin.domain.monitors import (
    Monitor,
    MonitorKind,
    MonitorState,
    blocked_addresses,
    pause,
)
from tocsin.domain.monitors.ssrf import target_host, url_host
from tocsin.services.address_guard import AddressGuard
from tocsin.services.alerts.process import AlertProcessor
from tocsin.services.context import Context
from tocsin.services.monitor_catalog import stored_monitors
from tocsin.services.monitors.record import changed
from tocsin.services.monitors.timer import arm_check, timer_key
from tocsin.services.pipeline import audit_record
from tocsin.services.public_status_page import merge_components
from tocsin.storage.monitors import StoredDefinition

ADD, DELETE = "monitor add", "monitor delete"


def host_field(monitor: Monitor) -> tuple[str, str]:
    """The field naming the monitor's host (``url`` or ``target``) and that host."""
    if monitor.kind is MonitorKind.TCP:
        return "target", target_host(monitor.target)
    return "url", url_host(monitor.url)


async def check_addresses(guard: AddressGuard, monitor: Monitor) -> None:
    """Raise :class:`MonitorInvalid` naming ``url``/``target`` when the host resolves to nothing
    or to any internal address."""
    field, host = host_field(monitor)
    addresses = await guard.resolve(host) if host else ()
    if not addresses:
        raise MonitorInvalid({field: f'the host "{host}" does not resolve'})
    blocked = blocked_addresses(addresses)
    if blocked:
        shown = ", ".join(blocked[:3])
        raise MonitorInvalid(
            {field: f'"{host}" resolves to a private or internal address ({shown}); only an '
                    "admin may monitor those, or TOCSIN_MONITOR_ALLOW_PRIVATE must be set"}
        )  # fmt: skip


def _why(ctx: Context, actor: Actor) -> str:
    """The audit reason: the CLI (an operator on the database) and admins act as admins."""
    return "admin" if actor.platform == "cli" or ctx.policy.is_admin(actor) else "write"


def _taken(name: str, where: str) -> InvalidTransition:
    return InvalidTransition(f'name: a monitor named "{name}" already exists ({where}).')


async def add_monitor(
    ctx: Context, definition: Mapping[str, Any], actor: Actor, restricted: bool
) -> Monitor:
    """Store a monitor of ``definition`` (the ``[[monitor]]`` keys) and arm its check timer.

    Raises :class:`MonitorInvalid` naming the bad fields (nothing stored), and
    :class:`InvalidTransition` (a conflict) when the name is taken, by the policy file or by a
    stored monitor. ``restricted``: the creator is not an admin (see the module's docstring).
    """
    async with ctx.uow(read_only=True) as uow:
        components = [c.name for c in merge_components(ctx.policy, await uow.status.components())]
    monitor = replace(validate_definition(definition, components), restricted=restricted)
    if any(m.name == monitor.name for m in ctx.policy.monitors):
        raise _taken(monitor.name, "in the policy file")
    if ctx.address_guard.applies(restricted):
        await check_addresses(ctx.address_guard, monitor)
    async with ctx.uow() as uow:
        now = ctx.clock()
        stored = StoredDefinition(monitor.name, dict(definition), restricted, actor.key, now)
        if not await uow.monitors.add_definition(stored):
            raise _taken(monitor.name, "`tocsin monitor list` lists it")
        await arm_check(uow, monitor, now, replace=True)
        why = _why(ctx, actor)
        detail = f"{monitor.name} {monitor.url or monitor.target}"[:500]
        await uow.audit.append(audit_record(actor, ADD, None, "allowed", why, now, detail))
        await uow.commit()
    ctx.committed()
    return monitor


async def delete_monitor(ctx: Context, name: str, actor: Actor) -> None:
    """Delete a stored monitor with its state, results and check timer (audited).

    A monitor of the policy file is refused (:class:`InvalidTransition`: edit the file); an
    unknown name raises :class:`NotFound`."""
    if any(m.name == name for m in ctx.policy.monitors):
        raise InvalidTransition(
            f'The monitor "{name}" is defined in the policy file; remove its [[monitor]] there '
            "(and restart tocsin) to delete it."
        )
    async with ctx.uow() as uow:
        row = await uow.monitors.definition(name, for_update=True)
        if row is None:
            raise NotFound(f"There is no monitor {name!r}; `tocsin monitor list` lists them.")
        now = ctx.clock()
        found = stored_monitors(ctx, [row])
        monitor = found[0] if found else Monitor(name, MonitorKind.HTTP)
        state = await uow.monitors.state(name, for_update=True) or MonitorState()
        _paused, event = pause(monitor, state, now)
        if event is not None:  # it was down: resolve its alert, put its component back
            await changed(ctx, uow, AlertProcessor(ctx), monitor, event, now)
        await uow.monitors.delete_definition(name)
        await uow.timers.delete(timer_key(name))
        why = _why(ctx, actor)
        await uow.audit.append(audit_record(actor, DELETE, None, "allowed", why, now, name))
        await uow.commit()
    ctx.committed()
