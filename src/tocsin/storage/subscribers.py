"""The status page's subscribers: the SQL behind ``uow.subscribers`` (docs/status-page.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.domain.subscribers import CONFIRMED, PENDING, Subscriber
from tocsin.storage import tables as t
from tocsin.storage.rows import _utc, utc

_s = t.status_subscribers


@dataclass(frozen=True, slots=True)
class SubscriberRow:
    """A subscriber with what only the services see: its unsubscribe token, its webhook secret
    and when its confirmation link expires."""

    subscriber: Subscriber
    unsubscribe_token: str
    secret: str | None = None
    confirm_expires_at: datetime | None = None


def _subscriber(r: Any) -> Subscriber:
    return Subscriber(
        id=int(r["id"]),
        kind=r["kind"],
        address=r["address"],
        components=tuple(r["components"] or ()),
        state=r["state"],
        created_at=_utc(r["created_at"]),
        confirmed_at=utc(r["confirmed_at"]),
        last_error=r["last_error"] or "",
    )


def _full(r: Any) -> SubscriberRow:
    return SubscriberRow(
        _subscriber(r), r["unsubscribe_token"], r["secret"], utc(r["confirm_expires_at"])
    )


class SubscriberStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def _one(self, condition: Any) -> SubscriberRow | None:
        row = (await self.conn.execute(sa.select(_s).where(condition))).mappings().first()
        return _full(row) if row is not None else None

    async def find(self, kind: str, address: str) -> SubscriberRow | None:
        return await self._one(sa.and_(_s.c.kind == kind, _s.c.address == address))

    async def get(self, subscriber_id: int) -> SubscriberRow | None:
        return await self._one(_s.c.id == subscriber_id)

    async def by_confirm_hash(self, digest: str) -> SubscriberRow | None:
        return await self._one(_s.c.confirm_hash == digest)

    async def by_unsubscribe_token(self, token: str) -> SubscriberRow | None:
        return await self._one(_s.c.unsubscribe_token == token)

    async def add(
        self,
        kind: str,
        address: str,
        components: Sequence[str],
        *,
        state: str,
        unsubscribe_token: str,
        now: datetime,
        confirm_hash: str | None = None,
        confirm_expires_at: datetime | None = None,
        secret: str | None = None,
    ) -> int:
        values = {
            "kind": kind,
            "address": address,
            "components": list(components),
            "state": state,
            "confirm_hash": confirm_hash,
            "confirm_expires_at": confirm_expires_at,
            "unsubscribe_token": unsubscribe_token,
            "secret": secret,
            "created_at": now,
            "confirmed_at": now if state == CONFIRMED else None,
            "updated_at": now,
        }
        result = await self.conn.execute(_s.insert().values(values).returning(_s.c.id))
        return int(result.scalar_one())

    async def restart(
        self,
        subscriber_id: int,
        components: Sequence[str],
        confirm_hash: str,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        """Back to ``pending`` with a new confirmation token (subscribing again)."""
        values = {
            "state": PENDING,
            "components": list(components),
            "confirm_hash": confirm_hash,
            "confirm_expires_at": expires_at,
            "updated_at": now,
            "last_error": "",
        }
        await self.conn.execute(_s.update().where(_s.c.id == subscriber_id).values(values))

    async def set_state(
        self, subscriber_id: int, state: str, now: datetime, *, error: str = ""
    ) -> None:
        """Move to ``state``; confirming also spends the confirmation token."""
        values: dict[str, Any] = {"state": state, "updated_at": now, "last_error": error}
        if state == CONFIRMED:
            values.update(confirmed_at=now, confirm_hash=None, confirm_expires_at=None)
        await self.conn.execute(_s.update().where(_s.c.id == subscriber_id).values(values))

    async def mark(self, kind: str, address: str, state: str, now: datetime, error: str) -> int:
        """Every subscriber of ``kind`` at ``address`` to ``state``; how many there were."""
        statement = (
            _s.update()
            .where(_s.c.kind == kind, _s.c.address == address)
            .values(state=state, updated_at=now, last_error=error[:1000])
        )
        return int((await self.conn.execute(statement)).rowcount or 0)

    async def confirmed(self, *, after: int = 0, limit: int | None = None) -> list[SubscriberRow]:
        """Confirmed subscribers by id: those with an id above ``after``, at most ``limit``
        (the fan-out's batches, services/subscriber_notices.py)."""
        query = sa.select(_s).where(_s.c.state == CONFIRMED, _s.c.id > after).order_by(_s.c.id)
        rows = await self.conn.execute(query.limit(limit))
        return [_full(r) for r in rows.mappings()]

    async def has_confirmed(self) -> bool:
        query = sa.select(_s.c.id).where(_s.c.state == CONFIRMED).limit(1)
        return (await self.conn.execute(query)).first() is not None

    async def all(self) -> list[Subscriber]:
        rows = await self.conn.execute(sa.select(_s).order_by(_s.c.id))
        return [_subscriber(r) for r in rows.mappings()]

    async def delete(self, subscriber_id: int) -> bool:
        result = await self.conn.execute(_s.delete().where(_s.c.id == subscriber_id))
        return bool(result.rowcount)

    async def counts(self) -> dict[tuple[str, str], int]:
        """``(kind, state)`` -> how many subscribers."""
        statement = sa.select(_s.c.kind, _s.c.state, sa.func.count()).group_by(
            _s.c.kind, _s.c.state
        )
        rows = await self.conn.execute(statement)
        return {(kind, state): int(n) for kind, state, n in rows}
