"""Read use cases of the web surfaces: incident pages, the live timeline, audit and deliveries.

Reading incidents needs only the ``read`` scope; the audit log and the delivery queue are for
admins (see :func:`~tocsin.services.access.principal.is_admin`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tocsin.domain.audit import AuditEntry
from tocsin.domain.errors import PermissionDenied
from tocsin.domain.model import Incident, Severity, TimelineEntry
from tocsin.services.access.principal import Principal, is_admin
from tocsin.services.context import Context
from tocsin.services.pipeline import load

MAX_PAGE = 200
STATUS_FILTERS = ("open", "resolved", "all")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a longer list; ``total`` counts every match."""

    items: list[Any]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        after = self.offset + len(self.items)
        return after if after < self.total and self.items else None


def _clamp(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


async def search_incidents(
    ctx: Context,
    *,
    status: str = "open",
    severity: Severity | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Incidents filtered by ``status`` (open, resolved, all) and ``severity``; open first."""
    limit, offset = _clamp(limit), max(0, offset)
    async with ctx.uow(read_only=True) as uow:
        items, total = await uow.reads.search_incidents(
            status=status if status in STATUS_FILTERS else "open",
            severity=severity,
            limit=limit,
            offset=offset,
        )
    return Page(items, total, limit, offset)


@dataclass(frozen=True, slots=True)
class IncidentPage:
    """An incident with its timeline and the id of its newest timeline row (for the feed)."""

    incident: Incident
    timeline: list[TimelineEntry]
    last_id: int


async def incident_page(ctx: Context, number: int) -> IncidentPage:
    async with ctx.uow(read_only=True) as uow:
        incident = await load(uow, number)
        rows = await uow.reads.timeline_after(number, 0, limit=10_000)
    return IncidentPage(incident, [entry for _, entry in rows], rows[-1][0] if rows else 0)


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """What changed since the last poll: new timeline rows, and the incident if it changed."""

    entries: list[tuple[int, TimelineEntry]]
    incident: Incident | None


async def feed_since(ctx: Context, number: int, after: int, version: int) -> FeedUpdate:
    """Timeline rows after id ``after``; the incident too when its version is not ``version``."""
    async with ctx.uow(read_only=True) as uow:
        reads = uow.reads
        current = await reads.incident_version(number)
        incident = None
        if current is not None and current != version:
            incident = await uow.incidents.get(number)
        entries = await reads.timeline_after(number, after) if current is not None else []
    return FeedUpdate(entries, incident)


def require_admin(ctx: Context, principal: Principal, what: str) -> None:
    if not is_admin(ctx.policy, principal):
        raise PermissionDenied(
            f"Only an admin may {what}: an admin-scope token, a user created with --admin, "
            "or someone listed under [admins] in the policy file."
        )


async def audit_entries(
    ctx: Context, principal: Principal, *, limit: int = 50, before: int | None = None
) -> list[AuditEntry]:
    """The newest audit entries (before ``seq`` ``before``); admins only."""
    require_admin(ctx, principal, "read the audit log")
    async with ctx.uow(read_only=True) as uow:
        return await uow.reads.audit_page(limit=_clamp(limit), before=before)


async def deliveries(
    ctx: Context,
    principal: Principal,
    *,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Outbox rows (what tocsin is delivering or gave up on), newest first; admins only."""
    require_admin(ctx, principal, "see the delivery queue")
    limit, offset = _clamp(limit), max(0, offset)
    async with ctx.uow(read_only=True) as uow:
        rows, total = await uow.reads.deliveries(state=state, limit=limit, offset=offset)
    return Page(rows, total, limit, offset)
