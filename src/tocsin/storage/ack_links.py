"""Spent acknowledge links (``uow.ack_links``): each link's nonce, once, until the link has
expired (:meth:`AckLinkStore.prune`)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.storage import tables as t


class AckLinkStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def spend(self, nonce: str, incident: int, person: str, now: datetime) -> bool:
        """Record the link ``nonce`` as used; False when it already was."""
        table = t.ack_link_uses
        found = await self.conn.execute(sa.select(table.c.nonce).where(table.c.nonce == nonce))
        if found.first() is not None:
            return False
        await self.conn.execute(
            sa.insert(table).values(nonce=nonce, incident=incident, person=person, used_at=now)
        )
        return True

    async def prune(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` of the rows spent before ``before``; how many went."""
        table = t.ack_link_uses
        old = sa.select(table.c.nonce).where(table.c.used_at < before).limit(limit)
        result = await self.conn.execute(table.delete().where(table.c.nonce.in_(old)))
        return int(result.rowcount or 0)
