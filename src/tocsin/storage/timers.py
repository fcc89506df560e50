"""Timers as data: the SQL behind scheduling, cancelling and firing due timers.

A timer is a row with a unique ``key``, a ``kind`` (which handler fires it), an optional incident,
a due time and a JSON payload. States: ``pending`` → ``fired`` (or ``cancelled``, or ``failed``
after its handler kept failing). Every method runs inside the caller's transaction, so a service
schedules or cancels timers atomically with the change that makes them (un)necessary.

:meth:`TimerStore.claim_due` marks one due timer fired inside the transaction that runs its
handler: PostgreSQL picks it with ``FOR UPDATE SKIP LOCKED``; SQLite's ``BEGIN IMMEDIATE``
serialises the conditional update. A crash before commit rolls the firing back, so a timer fires
once across replicas and survives restarts.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.storage import tables as t
from tocsin.storage.incidents import _insert
from tocsin.storage.rows import _utc, utc

PENDING, FIRED, CANCELLED, FAILED = "pending", "fired", "cancelled", "failed"

_t = t.timers


@dataclass(frozen=True, slots=True)
class Timer:
    """One timer row."""

    id: int
    key: str
    kind: str
    incident: int | None
    due_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
    state: str = PENDING
    attempts: int = 0
    last_error: str | None = None
    fired_at: datetime | None = None
    claimed_by: str | None = None


def _timer(r: Any) -> Timer:
    return Timer(
        id=int(r["id"]),
        key=r["key"],
        kind=r["kind"],
        incident=r["incident"],
        due_at=_utc(r["due_at"]),
        payload=dict(r["payload"] or {}),
        state=r["state"],
        attempts=int(r["attempts"]),
        last_error=r["last_error"],
        fired_at=utc(r["fired_at"]),
        claimed_by=r["claimed_by"],
    )


class TimerStore:
    """Timers on one connection, inside the caller's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def schedule(
        self,
        key: str,
        kind: str,
        due_at: datetime,
        *,
        incident: int | None = None,
        payload: Mapping[str, Any] | None = None,
        replace: bool = False,
    ) -> bool:
        """Schedule a timer; idempotent by ``key``.

        Without ``replace`` an existing timer with this key is left alone (returns False). With
        ``replace`` it is re-armed whatever its state (pending again at ``due_at``, with this
        payload): the way a recurring reminder schedules its next round from its own handler.
        """
        row = {
            "key": key,
            "kind": kind,
            "incident": incident,
            "due_at": due_at,
            "payload": dict(payload or {}),
            "state": PENDING,
            "attempts": 0,
        }
        statement = _insert(self.conn, _t).values(**row)
        if replace:
            statement = statement.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "kind": kind,
                    "incident": incident,
                    "due_at": due_at,
                    "payload": statement.excluded.payload,
                    "state": PENDING,
                    "attempts": 0,
                    "last_error": None,
                    "fired_at": None,
                },
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=["key"])
        return bool((await self.conn.execute(statement)).rowcount == 1)

    async def cancel(self, key: str) -> bool:
        """Cancel the pending timer ``key``; False when there is none."""
        result = await self.conn.execute(
            _t.update().where(_t.c.key == key, _t.c.state == PENDING).values(state=CANCELLED)
        )
        return bool(result.rowcount == 1)

    async def delete(self, key: str) -> bool:
        """Delete the timer ``key`` whatever its state (its owner is gone); False when none."""
        result = await self.conn.execute(_t.delete().where(_t.c.key == key))
        return bool(result.rowcount == 1)

    async def cancel_for_incident(self, incident: int, kinds: Collection[str] | None = None) -> int:
        """Cancel the incident's pending timers (of ``kinds`` only, when given); how many."""
        statement = _t.update().where(_t.c.incident == incident, _t.c.state == PENDING)
        if kinds is not None:
            statement = statement.where(_t.c.kind.in_(list(kinds)))
        return int((await self.conn.execute(statement.values(state=CANCELLED))).rowcount)

    async def get(self, key: str) -> Timer | None:
        row = (await self.conn.execute(sa.select(_t).where(_t.c.key == key))).mappings().first()
        return _timer(row) if row is not None else None

    async def find(
        self, *, incident: int | None = None, states: Collection[str] = (PENDING,)
    ) -> list[Timer]:
        """Timers in ``states`` (of ``incident``, when given), soonest first."""
        query = sa.select(_t).where(_t.c.state.in_(list(states))).order_by(_t.c.due_at, _t.c.id)
        if incident is not None:
            query = query.where(_t.c.incident == incident)
        return [_timer(r) for r in (await self.conn.execute(query)).mappings()]

    async def claim_due(self, kinds: Collection[str], now: datetime, worker: str) -> Timer | None:
        """Mark the earliest due timer of ``kinds`` fired, in this transaction, and return it."""
        if not kinds:
            return None
        pick = (
            sa.select(_t.c.id)
            .where(_t.c.state == PENDING, _t.c.due_at <= now, _t.c.kind.in_(list(kinds)))
            .order_by(_t.c.due_at, _t.c.id)
            .limit(1)
        )
        values = {"state": FIRED, "fired_at": now, "claimed_by": worker}
        if self.conn.dialect.name == "postgresql":
            picked = pick.with_for_update(skip_locked=True).cte("picked")
            statement = _t.update().where(_t.c.id == picked.c.id)
        else:
            statement = _t.update().where(_t.c.id.in_(pick.scalar_subquery()))
        row = (await self.conn.execute(statement.values(**values).returning(*_t.c))).mappings()
        first = row.first()
        return _timer(first) if first is not None else None

    async def failed(self, timer_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a handler failure: pending again at ``retry_at``, or ``failed`` for good."""
        values: dict[str, Any] = {
            "attempts": _t.c.attempts + 1,
            "last_error": error[:2000],
            "fired_at": None,
            "state": FAILED if retry_at is None else PENDING,
        }
        if retry_at is not None:
            values["due_at"] = retry_at
        await self.conn.execute(_t.update().where(_t.c.id == timer_id).values(**values))

    async def next_due(self, kinds: Collection[str]) -> datetime | None:
        """When the earliest pending timer of ``kinds`` is due."""
        if not kinds:
            return None
        query = sa.select(sa.func.min(_t.c.due_at)).where(
            _t.c.state == PENDING, _t.c.kind.in_(list(kinds))
        )
        return utc((await self.conn.execute(query)).scalar_one_or_none())

    async def pending_before(self, kind: str, timer_id: int) -> bool:
        """Whether a pending timer of ``kind`` older than timer ``timer_id`` (a smaller id)
        exists: one another process may be firing right now."""
        query = sa.select(_t.c.id).where(_t.c.kind == kind, _t.c.state == PENDING,
                                         _t.c.id < timer_id).limit(1)  # fmt: skip
        return (await self.conn.execute(query)).first() is not None
