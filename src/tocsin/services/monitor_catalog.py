"""The monitors there are: the policy file's ``[[monitor]]`` and the stored ones (created through
the API or the CLI), policy first. Everything that needs the set of monitors (the checker, the
views, the status page's uptime, alert routing) asks here, inside its unit of work.
"""

from __future__ import annotations

import structlog

from tocsin.domain.errors import NotFound
from tocsin.domain.monitor_definition import load_definition
from tocsin.domain.monitors import Monitor
from tocsin.services.context import Context
from tocsin.services.ports import UnitOfWork
from tocsin.storage.monitors import StoredDefinition

log = structlog.get_logger("tocsin.monitors")


def stored_monitors(ctx: Context, stored: list[StoredDefinition]) -> tuple[Monitor, ...]:
    """The monitors of stored definitions; one that no longer passes the rules, or whose name
    the policy file took since, is left out (and logged)."""
    policy = {m.name for m in ctx.policy.monitors}
    found = []
    for row in stored:
        monitor = load_definition(row.definition, row.restricted)
        if monitor is None or row.name in policy:
            log.warning("stored monitor skipped", monitor=row.name, in_policy=row.name in policy)
            continue
        found.append(monitor)
    return tuple(found)


async def all_monitors(ctx: Context, uow: UnitOfWork) -> tuple[Monitor, ...]:
    """The policy's monitors, then the stored ones."""
    return ctx.policy.monitors + stored_monitors(ctx, await uow.monitors.definitions())


async def find_monitor(ctx: Context, uow: UnitOfWork, name: str) -> Monitor:
    for monitor in ctx.policy.monitors:
        if monitor.name == name:
            return monitor
    stored = await uow.monitors.definition(name)
    found = stored_monitors(ctx, [stored]) if stored is not None else ()
    if not found:
        raise NotFound(f"There is no monitor {name!r}; `tocsin monitor list` lists them.")
    return found[0]
