"""Which incident a chat channel belongs to, read from ``remote_refs``.

Owned by the chat adapters (Slack, later Discord). The delivery workers write ``remote_refs``
when a sender reports ``Sent.refs`` (``channel`` for the incident channel); the chat adapters
read them here (``uow.refs``) so that a command typed inside an incident's channel implies that
incident.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.storage import tables as t

CHANNEL = "channel"


class ChatRefStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def incident_for_channel(self, destination: str, channel_id: str) -> int | None:
        """The incident whose ``destination`` channel is ``channel_id``, or None."""
        if not channel_id:
            return None
        result = await self.conn.execute(
            sa.select(t.remote_refs.c.incident)
            .where(t.remote_refs.c.destination == destination)
            .where(t.remote_refs.c.name == CHANNEL)
            .where(t.remote_refs.c.value == channel_id)
            .order_by(t.remote_refs.c.incident.desc())
            .limit(1)
        )
        number = result.scalar_one_or_none()
        return int(number) if number is not None else None

    async def of(self, incident: int, destination: str) -> dict[str, str]:
        """Every reference ``destination`` holds for ``incident`` (name -> value)."""
        rows = await self.conn.execute(
            sa.select(t.remote_refs.c.name, t.remote_refs.c.value)
            .where(t.remote_refs.c.incident == incident)
            .where(t.remote_refs.c.destination == destination)
        )
        return {str(name): str(value) for name, value in rows.all()}

    async def set(self, incident: int, destination: str, name: str, value: str) -> None:
        """Insert or replace one reference (tests and tools; the workers keep their own writer)."""
        await self.conn.execute(
            sa.delete(t.remote_refs)
            .where(t.remote_refs.c.incident == incident)
            .where(t.remote_refs.c.destination == destination)
            .where(t.remote_refs.c.name == name)
        )
        await self.conn.execute(
            t.remote_refs.insert().values(
                incident=incident, destination=destination, name=name, value=value
            )
        )
