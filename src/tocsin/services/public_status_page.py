"""The public status page's use cases: read the page, and manage its components.

Reading (:func:`load_page`) is one read-only unit of work: the components (the policy's, with the
status overrides stored for them, then those created through the API), the public incidents open
or resolved within the last 90 days, their public history, and the scheduled maintenances not
cancelled that end after the same cutoff. The web layer caches the result.

Components are managed by admins (:func:`save_component`, :func:`remove_component`); each change
is audited like a command and wakes the ``on_commit`` hooks, so the page cache drops at once.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from tocsin.domain.audit import AuditRecord
from tocsin.domain.errors import NotFound, ParseError
from tocsin.domain.maintenance import is_public as is_public_maintenance
from tocsin.domain.model import Actor, Incident
from tocsin.domain.monitors import DayUptime, ResultRow, daily_uptime
from tocsin.domain.policy import Policy
from tocsin.domain.status_view import (
    HISTORY_DAYS,
    ComponentRecord,
    PageInfo,
    StatusPage,
    build_page,
)
from tocsin.domain.statuspage import COMPONENT_STATUSES, OPERATIONAL, is_public
from tocsin.services.context import Context
from tocsin.services.monitor_catalog import all_monitors
from tocsin.services.pipeline import audit_record, deny
from tocsin.services.ports import UnitOfWork
from tocsin.services.subscriber_notices import queue_component_notice

MAX_NAME = 100
MAX_DESCRIPTION = 1000


def public_ids(key: bytes) -> Callable[[Incident], str]:
    """Opaque public ids for incidents: an HMAC of the number, so the page does not reveal how
    many (private) incidents there were, and the id is stable across restarts and replicas."""

    def public_id(incident: Incident) -> str:
        return public_number_id(key, incident.number)

    return public_id


def public_number_id(key: bytes, number: int) -> str:
    """The public id of incident ``number`` (see :func:`public_ids`)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    digest = hmac.new(key, f"incident:{number}".encode(), hashlib.sha256).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:12])


def merge_components(policy: Policy, stored: list[ComponentRecord]) -> list[ComponentRecord]:
    """The policy's components (in policy order, with stored overrides), then the API's."""
    rows = {r.name: r for r in stored}
    merged = []
    for position, component in enumerate(policy.components):
        row = rows.pop(component.name, None)
        description = (row.description if row else "") or component.description
        merged.append(
            ComponentRecord(
                component.name,
                description,
                row.status if row else OPERATIONAL,
                position,
                row.created_at if row else None,
                row.updated_at if row else None,
            )
        )
    offset = len(merged)
    extra = sorted(rows.values(), key=lambda r: (r.position, r.name.casefold()))
    return merged + [replace(r, position=offset + r.position) for r in extra]


async def components(ctx: Context) -> list[ComponentRecord]:
    async with ctx.uow(read_only=True) as uow:
        return merge_components(ctx.policy, await uow.status.components())


async def load_page(
    ctx: Context, page: PageInfo, public_id: Callable[[Incident], str]
) -> StatusPage:
    """The whole public page as of now."""
    now = ctx.clock()
    async with ctx.uow(read_only=True) as uow:
        store = uow.status
        records = merge_components(ctx.policy, await store.components())
        severities = [s.value for s, rule in ctx.policy.severities.items() if rule.statuspage]
        candidates = await store.candidates(now - timedelta(days=HISTORY_DAYS), severities)
        shown = [i for i in candidates if is_public(i, ctx.policy)]
        timelines = await store.public_timelines([i.number for i in shown])
        windows = await uow.maintenance.since(now - timedelta(days=HISTORY_DAYS))
        checked = await _checked(ctx, uow, now)
    pairs = [(i, timelines[i.number]) for i in shown]
    public = [m for m in windows if is_public_maintenance(m)]
    return build_page(page, records, pairs, ctx.policy, now, public_id, public, checked)


async def _checked(
    ctx: Context, uow: UnitOfWork, now: datetime
) -> dict[str, tuple[DayUptime, ...]]:
    """The daily uptime of each component that has monitors, from their stored checks."""
    names: dict[str, list[str]] = {}
    for monitor in await all_monitors(ctx, uow):
        if monitor.component:
            names.setdefault(monitor.component, []).append(monitor.name)
    since = now - timedelta(days=HISTORY_DAYS)
    found = {}
    for component, monitors in names.items():
        rows = [
            ResultRow(r.monitor, r.checked_at, r.ok, r.latency_ms)
            for r in await uow.monitors.results(monitors, since)
        ]
        hours = await uow.monitors.aggregates(monitors, since)
        found[component] = daily_uptime(rows, hours, now.date(), HISTORY_DAYS)
    return found


async def change_marker(ctx: Context) -> tuple[Any, ...]:
    """A cheap value that changes whenever the page may have changed (for the cache)."""
    async with ctx.uow(read_only=True) as uow:
        return (*await uow.status.marker(), await uow.maintenance.newest_change())


# --- managing components ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ComponentChange:
    """What to set; None leaves a field as it is (or at its default for a new component)."""

    description: str | None = None
    status: str | None = None
    position: int | None = None


def _check(name: str, change: ComponentChange) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise ParseError(f"A component needs a name of 1 to {MAX_NAME} characters.")
    if change.status is not None and change.status not in COMPONENT_STATUSES:
        raise ParseError(
            f"{change.status!r} is not a component status; use {', '.join(COMPONENT_STATUSES)}."
        )
    if change.description is not None and len(change.description) > MAX_DESCRIPTION:
        raise ParseError(f"Keep a component's description to {MAX_DESCRIPTION} characters.")
    return name


async def save_component(
    ctx: Context, actor: Actor, name: str, change: ComponentChange
) -> ComponentRecord:
    """Create a component, or change one (a policy component's status is stored as an
    override). Admins only; audited."""
    name = _check(name, change)
    async with ctx.uow() as uow:
        now = ctx.clock()
        detail = f"{name}: {change.status or '-'}"
        if not ctx.policy.is_admin(actor):
            raise await deny(uow, actor, "component", None, _ADMINS_ONLY, now, detail)
        record = await store_component(ctx, uow, name, change, now)
        await uow.audit.append(_allowed(actor, now, detail))
        await uow.commit()
    ctx.committed()
    return replace(record, updated_at=now, created_at=record.created_at or now)


async def store_component(
    ctx: Context, uow: UnitOfWork, name: str, change: ComponentChange, now: datetime
) -> ComponentRecord:
    """Apply ``change`` to component ``name`` in ``uow`` (no permission check, no audit): what
    :func:`save_component` does for an admin, and what a monitor going down or up does."""
    store = uow.status
    stored = await store.components()
    in_policy = any(c.name == name for c in ctx.policy.components)
    base = next((r for r in stored if r.name == name), None) or ComponentRecord(
        name, position=0 if in_policy else len(stored)
    )
    record = ComponentRecord(
        name,
        base.description if change.description is None else change.description.strip(),
        base.status if change.status is None else change.status,
        base.position if change.position is None else change.position,
        base.created_at,
    )
    await store.save_component(record, now)
    # Subscribers hear of a status change (docs/status-page.md#subscribers).
    await queue_component_notice(uow, ctx.public_url, name, base.status, record.status, now)
    return record


_ADMINS_ONLY = "Only an admin may change the status page's components."


def _allowed(actor: Actor, now: datetime, detail: str) -> AuditRecord:
    return audit_record(actor, "component", None, "allowed", "admin", now, detail)


async def remove_component(ctx: Context, actor: Actor, name: str) -> str:
    """Delete a component made through the API, or reset a policy component's override."""
    async with ctx.uow() as uow:
        now = ctx.clock()
        detail = f"remove {name}"
        if not ctx.policy.is_admin(actor):
            raise await deny(uow, actor, "component", None, _ADMINS_ONLY, now, detail)
        if not await uow.status.delete_component(name):
            raise NotFound(f"There is no stored status page component {name!r}.")
        await uow.audit.append(_allowed(actor, now, detail))
        await uow.commit()
    ctx.committed()
    in_policy = any(c.name == name for c in ctx.policy.components)
    if in_policy:
        return f"{name} is back to the policy's description and operational."
    return f"Component {name} removed."
