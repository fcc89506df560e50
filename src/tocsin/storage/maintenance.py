"""Scheduled maintenance: the rows behind :class:`tocsin.domain.maintenance.Maintenance`, on the
caller's transaction (``uow.maintenance``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.domain.maintenance import OPEN, Draft, Maintenance
from tocsin.storage.maintenance_tables import maintenances as _m
from tocsin.storage.rows import _utc, utc


def _maintenance(row: Any) -> Maintenance:
    return Maintenance(
        id=int(row["id"]),
        title=row["title"],
        components=tuple(row["components"] or ()),
        starts_at=_utc(row["starts_at"]),
        ends_at=_utc(row["ends_at"]),
        description=row["description"],
        status=row["status"],
        created_by=row["created_by"],
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
        started_at=utc(row["started_at"]),
        finished_at=utc(row["finished_at"]),
    )


class MaintenanceStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, draft: Draft, *, created_by: str, now: datetime) -> Maintenance:
        """Store a new scheduled maintenance; returns it with its id."""
        values = {
            "title": draft.title,
            "description": draft.description,
            "components": list(draft.components),
            "starts_at": draft.starts_at,
            "ends_at": draft.ends_at,
            "status": "scheduled",
            "created_by": created_by,
            "created_at": now,
            "updated_at": now,
        }
        row = (await self.conn.execute(_m.insert().values(**values).returning(*_m.c))).mappings()
        return _maintenance(row.one())

    async def get(self, maintenance_id: int, *, for_update: bool = False) -> Maintenance | None:
        query = sa.select(_m).where(_m.c.id == maintenance_id)
        if for_update and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self.conn.execute(query)).mappings().first()
        return _maintenance(row) if row is not None else None

    async def save(self, m: Maintenance) -> None:
        """Write back every changeable field of ``m``."""
        values = {
            "title": m.title,
            "description": m.description,
            "components": list(m.components),
            "starts_at": m.starts_at,
            "ends_at": m.ends_at,
            "status": m.status,
            "updated_at": m.updated_at,
            "started_at": m.started_at,
            "finished_at": m.finished_at,
        }
        await self.conn.execute(_m.update().where(_m.c.id == m.id).values(values))

    async def since(self, ends_after: datetime, limit: int = 200) -> list[Maintenance]:
        """Maintenances ending after ``ends_after`` (cancelled ones included), soonest first."""
        query = (
            sa.select(_m)
            .where(_m.c.ends_at > ends_after)
            .order_by(_m.c.starts_at, _m.c.id)
            .limit(limit)
        )
        return [_maintenance(r) for r in (await self.conn.execute(query)).mappings()]

    async def open_for(self, component: str, now: datetime) -> list[Maintenance]:
        """Open maintenances naming ``component`` whose window has begun and not ended."""
        query = sa.select(_m).where(
            _m.c.status.in_(OPEN), _m.c.starts_at <= now, _m.c.ends_at > now
        )
        found = [_maintenance(r) for r in (await self.conn.execute(query)).mappings()]
        return [m for m in found if component in m.components]

    async def newest_change(self) -> datetime | None:
        """The latest ``updated_at`` (for the status page's change marker)."""
        value = (await self.conn.execute(sa.select(sa.func.max(_m.c.updated_at)))).scalar()
        return utc(value)
