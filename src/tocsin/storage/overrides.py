"""On-call overrides: the rows behind :class:`tocsin.domain.oncall.Override`, on the caller's
transaction (``uow.overrides``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.domain.oncall import Override
from tocsin.storage import tables as t
from tocsin.storage.rows import _utc, utc

_o = t.oncall_overrides


def _override(row: Any) -> Override:
    return Override(
        id=int(row["id"]),
        schedule=row["schedule"],
        person=row["person"],
        start=_utc(row["starts_at"]),
        end=_utc(row["ends_at"]),
        created_by=row["created_by"],
        created_at=utc(row["created_at"]),
        reason=row["reason"],
    )


class OverrideStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(
        self,
        schedule: str,
        person: str,
        start: datetime,
        end: datetime,
        *,
        created_by: str,
        now: datetime,
        reason: str = "",
    ) -> Override:
        """Store an override; returns it with its id."""
        values = {
            "schedule": schedule,
            "person": person,
            "starts_at": start,
            "ends_at": end,
            "reason": reason,
            "created_by": created_by,
            "created_at": now,
        }
        row = (await self.conn.execute(_o.insert().values(**values).returning(*_o.c))).mappings()
        return _override(row.one())

    async def between(
        self, schedules: Collection[str], start: datetime, end: datetime
    ) -> list[Override]:
        """Overrides of ``schedules`` that overlap ``[start, end)``, oldest first."""
        if not schedules:
            return []
        query = (
            sa.select(_o)
            .where(_o.c.schedule.in_(list(schedules)), _o.c.ends_at > start, _o.c.starts_at < end)
            .order_by(_o.c.id)
        )
        return [_override(r) for r in (await self.conn.execute(query)).mappings()]

    async def upcoming(self, now: datetime, limit: int = 200) -> list[Override]:
        """Overrides not yet over, soonest first."""
        query = sa.select(_o).where(_o.c.ends_at > now).order_by(_o.c.starts_at, _o.c.id)
        return [_override(r) for r in (await self.conn.execute(query.limit(limit))).mappings()]

    async def get(self, override_id: int) -> Override | None:
        row = (await self.conn.execute(sa.select(_o).where(_o.c.id == override_id))).mappings()
        found = row.first()
        return _override(found) if found is not None else None

    async def remove(self, override_id: int) -> bool:
        result = await self.conn.execute(_o.delete().where(_o.c.id == override_id))
        return bool(result.rowcount == 1)
