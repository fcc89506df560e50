"""The status page's SQL: components, the incidents it may show with their public history, a cheap
change marker for the page cache, and failed Statuspage deliveries.

Every function runs on a connection inside the caller's transaction (a
:class:`~tocsin.storage.uow.UnitOfWork`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.domain.model import Actor, EntryKind, Incident, Status, TimelineEntry
from tocsin.domain.status_view import ComponentRecord
from tocsin.domain.statuspage import OPERATIONAL
from tocsin.storage import tables as t
from tocsin.storage.incidents import NEWEST_ENTRY, _insert
from tocsin.storage.rows import _utc, incident_from_row, utc

_c = t.status_components
# Timeline kinds that can show on the public page (see domain.statuspage.public_updates).
PUBLIC_KINDS = tuple(
    k.value
    for k in (
        EntryKind.DECLARED, EntryKind.UPDATE, EntryKind.STATUS, EntryKind.RESOLVED,
        EntryKind.REOPENED,
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class FailedSync:
    """A Statuspage delivery that went dead."""

    id: int
    incident: int | None
    kind: str
    attempts: int
    error: str
    created_at: datetime


def _public(public_severities: Sequence[str]) -> sa.ColumnElement[bool]:
    """Made public, published, or left to a policy that publishes the severity (the SQL of
    :func:`tocsin.domain.statuspage.is_public`)."""
    i = t.incidents
    return sa.or_(
        i.c.public.is_(True),
        sa.and_(
            i.c.public.is_(None),
            sa.or_(i.c.published_at.is_not(None), i.c.severity.in_(list(public_severities))),
        ),
    )


def _record(row: Any) -> ComponentRecord:
    return ComponentRecord(
        name=row["name"],
        description=row["description"],
        status=row["status"],
        position=row["position"],
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
    )


class StatusStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # --- components ---------------------------------------------------------------------------
    async def components(self) -> list[ComponentRecord]:
        rows = await self.conn.execute(sa.select(_c).order_by(_c.c.position, _c.c.name))
        return [_record(r) for r in rows.mappings()]

    async def component(self, name: str, *, for_update: bool = False) -> ComponentRecord | None:
        """One stored component; ``for_update`` locks its row (PostgreSQL) until the commit."""
        query = sa.select(_c).where(_c.c.name == name)
        if for_update and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self.conn.execute(query)).mappings().first()
        return _record(row) if row is not None else None

    async def lock_component(
        self, name: str, now: datetime, *, create: bool
    ) -> ComponentRecord | None:
        """Component ``name`` with its row locked until the commit (PostgreSQL). With
        ``create``, a missing row is first inserted as operational (a policy component without
        a stored override yet), so that concurrent transactions lock one row in turn: a
        concurrent insert wins and is read once it commits."""
        if create:
            values = {"name": name, "description": "", "status": OPERATIONAL, "position": 0}
            statement = _insert(self.conn, _c).values(created_at=now, updated_at=now, **values)
            await self.conn.execute(statement.on_conflict_do_nothing(index_elements=["name"]))
        return await self.component(name, for_update=True)

    async def save_component(self, record: ComponentRecord, now: datetime) -> None:
        """Insert or update ``record`` (its ``created_at`` is kept when it exists)."""
        values = {
            "description": record.description,
            "status": record.status,
            "position": record.position,
            "updated_at": now,
        }
        result = await self.conn.execute(_c.update().where(_c.c.name == record.name).values(values))
        if result.rowcount == 0:
            await self.conn.execute(
                _c.insert().values(name=record.name, created_at=record.created_at or now, **values)
            )

    async def delete_component(self, name: str) -> bool:
        result = await self.conn.execute(_c.delete().where(_c.c.name == name))
        return bool(result.rowcount)

    # --- incidents ----------------------------------------------------------------------------
    async def candidates(
        self, resolved_since: datetime, public_severities: Sequence[str]
    ) -> list[Incident]:
        """Incidents the page may show: open or resolved recently, and made public, published,
        or left to a policy that publishes their severity. The caller applies
        :func:`tocsin.domain.statuspage.is_public` (the same rule, exactly)."""
        i = t.incidents
        recent = sa.or_(i.c.status != Status.RESOLVED.value, i.c.resolved_at >= resolved_since)
        public = _public(public_severities)
        query = sa.select(i).where(recent, public).order_by(i.c.number.desc())
        return [incident_from_row(r) for r in (await self.conn.execute(query)).mappings()]

    async def resolved_public(
        self, public_severities: Sequence[str], limit: int, offset: int
    ) -> tuple[list[Incident], int]:
        """A page of resolved public incidents, most recently resolved first, and how many
        there are in all (the status page's history)."""
        i = t.incidents
        where = sa.and_(i.c.status == Status.RESOLVED.value, _public(public_severities))
        total = (await self.conn.execute(sa.select(sa.func.count()).where(where))).scalar_one()
        query = (
            sa.select(i).where(where).order_by(i.c.resolved_at.desc(), i.c.number.desc())
            .limit(limit).offset(offset)
        )  # fmt: skip
        rows = (await self.conn.execute(query)).mappings()
        return [incident_from_row(r) for r in rows], int(total)

    async def public_timelines(self, numbers: Sequence[int]) -> dict[int, list[TimelineEntry]]:
        """The entries of ``numbers`` that can show on the public page, oldest first."""
        found: dict[int, list[TimelineEntry]] = {n: [] for n in numbers}
        if not numbers:
            return found
        tl = t.timeline
        query = (
            sa.select(tl.c.incident, tl.c.at, tl.c.kind, tl.c.text, tl.c.data)
            .where(tl.c.incident.in_(list(numbers)), tl.c.kind.in_(PUBLIC_KINDS))
            .order_by(tl.c.incident, tl.c.id)
        )
        nobody = Actor("system", "tocsin")  # the public page never shows who did what
        for r in (await self.conn.execute(query)).mappings():
            entry = TimelineEntry(
                _utc(r["at"]), nobody, EntryKind(r["kind"]), r["text"], dict(r["data"] or {})
            )
            found[r["incident"]].append(entry)
        return found

    async def marker(self) -> tuple[Any, ...]:
        """Changes whenever something the page shows may have changed: every incident change
        appends to the timeline, every component change moves ``updated_at`` or the count."""
        query = sa.select(
            NEWEST_ENTRY.scalar_subquery(),
            sa.select(sa.func.count()).select_from(_c).scalar_subquery(),
            sa.select(sa.func.max(_c.c.updated_at)).scalar_subquery(),
        )
        row = (await self.conn.execute(query)).one()
        return tuple(row)

    # --- Statuspage deliveries ----------------------------------------------------------------
    async def failed_syncs(self, since: datetime, limit: int = 50) -> list[FailedSync]:
        """Dead Statuspage deliveries queued (or re-queued) since ``since``, newest first."""
        o = t.outbox
        query = (
            sa.select(o.c.id, o.c.incident, o.c.kind, o.c.attempts, o.c.last_error, o.c.created_at)
            .where(o.c.destination == "statuspage", o.c.state == "dead")
            .where(sa.func.coalesce(o.c.requeued_at, o.c.created_at) >= since)
            .order_by(o.c.id.desc())
            .limit(limit)
        )
        return [
            FailedSync(
                r["id"], r["incident"], r["kind"], r["attempts"], r["last_error"] or "",
                _utc(r["created_at"]),
            )
            for r in (await self.conn.execute(query)).mappings()
        ]  # fmt: skip

    async def known_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are already outbox idempotency keys."""
        if not keys:
            return set()
        o = t.outbox
        rows = await self.conn.execute(
            sa.select(o.c.idempotency_key).where(o.c.idempotency_key.in_(list(keys)))
        )
        return {str(k) for k in rows.scalars()}
