"""The outbox's SQL: queue effects, claim due rows, record outcomes, remote references, listing
and re-queueing.

Every method runs on a connection inside the caller's transaction (a
:class:`~tocsin.storage.uow.UnitOfWork`). Claiming is one statement: on PostgreSQL the candidate
rows are picked with ``FOR UPDATE SKIP LOCKED`` in a CTE; on SQLite the same conditional
``UPDATE ... WHERE id IN (...) RETURNING`` runs under ``BEGIN IMMEDIATE``, which serialises
writers, so two workers can never claim one row.

A row is claimable when it is due (``pending`` and ``next_attempt_at <= now``, or ``in_flight``
with an expired lease) and no earlier row with the same ``ordering_key`` is ``pending`` or
``in_flight``. Delivered and dead rows do not block the rows after them.

A claim lasts a few heartbeats: the holder renews it (:meth:`OutboxStore.renew`) while it works
on the row, so the claims of a worker that died run out soon. On SQLite, where one process
delivers, a starting process takes back at once the rows of holders whose process is gone
(:meth:`OutboxStore.release_orphans`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.domain.effects import Effect
from tocsin.storage import direct
from tocsin.storage import tables as t
from tocsin.storage.incidents import _dialect_insert, _insert
from tocsin.storage.rows import _utc, utc

PENDING, IN_FLIGHT, DELIVERED, DEAD = "pending", "in_flight", "delivered", "dead"
STATES = (PENDING, IN_FLIGHT, DELIVERED, DEAD)
OPEN = (PENDING, IN_FLIGHT)

_o = t.outbox


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One outbox row as stored."""

    id: int
    incident: int | None
    destination: str
    kind: str
    payload: Mapping[str, Any]
    idempotency_key: str
    ordering_key: str
    state: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    claimed_by: str | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    requeued_at: datetime | None = None
    maybe_sent: bool = False
    remote_ids: Mapping[str, str] = field(default_factory=dict)

    @property
    def age_from(self) -> datetime:
        """Where the maximum age counts from: creation, or the operator's last re-queue."""
        return self.requeued_at or self.created_at

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for ``tocsin deliveries list --json``."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name, value in data.items():
            if isinstance(value, datetime):
                data[name] = value.isoformat()
        data["payload"] = dict(self.payload)
        data["remote_ids"] = dict(self.remote_ids)
        return data


def _row(r: Any) -> OutboxRow:
    return OutboxRow(
        id=int(r["id"]),
        incident=r["incident"],
        destination=r["destination"],
        kind=r["kind"],
        payload=dict(r["payload"] or {}),
        idempotency_key=r["idempotency_key"],
        ordering_key=r["ordering_key"],
        state=r["state"],
        attempts=int(r["attempts"]),
        next_attempt_at=_utc(r["next_attempt_at"]),
        created_at=_utc(r["created_at"]),
        claimed_by=r["claimed_by"],
        last_error=r["last_error"],
        delivered_at=utc(r["delivered_at"]),
        requeued_at=utc(r["requeued_at"]),
        maybe_sent=bool(r["maybe_sent"]),
        remote_ids=dict(r["remote_ids"] or {}),
    )


# The first open row of every queue, by a loose index scan of ``ix_outbox_open_queue``: walk the
# distinct ordering keys of open rows one index seek at a time, then take each key's smallest id.
# It costs one seek per queue with open rows, however long the queues are. (The plain form, "no
# earlier open row with my key" probed for every pending row, cost ~2 ms a look once a busy
# incident had 3,000 rows queued, and the workers look after every commit.)
# SQLite's planner, without statistics, would rather walk ix_outbox_state_next (it matches the
# state condition too), so it is told which index to use; PostgreSQL picks by its statistics.
_HEADS_SQL = """
WITH RECURSIVE queues(k) AS (
    SELECT min(ordering_key) FROM outbox{hint} WHERE {open}
    UNION ALL
    SELECT (SELECT min(ordering_key) FROM outbox{hint} WHERE {open} AND ordering_key > queues.k)
    FROM queues WHERE queues.k IS NOT NULL
)
SELECT (SELECT min(id) FROM outbox{hint} WHERE {open} AND ordering_key = queues.k) AS id
FROM queues WHERE queues.k IS NOT NULL
"""


def _heads_sql(dialect: str) -> str:
    hint = " INDEXED BY ix_outbox_open_queue" if dialect == "sqlite" else ""
    return _HEADS_SQL.format(hint=hint, open=t.OUTBOX_OPEN_SQL)


def _at_heads(dialect: str, *columns: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """``SELECT columns`` over the heads of the open queues (a row no earlier open row with its
    key holds back).

    SQLite: joined to the heads, which it computes once. PostgreSQL: ``id = ANY(ARRAY(heads))``,
    an init plan computed once and then primary-key lookups; as a join, a fresh table's empty
    statistics led its planner to recompute the heads for every candidate row (400 ms a claim
    at 2,000 queued rows).
    """
    if dialect == "postgresql":
        heads_once = sa.text(f"outbox.id = ANY(ARRAY({_heads_sql(dialect)}))")
        return sa.select(*columns).where(heads_once)
    heads = sa.text(_heads_sql(dialect)).columns(sa.column("id", sa.Integer)).subquery("heads")
    return sa.select(*columns).select_from(heads.join(_o, _o.c.id == heads.c.id))


class OutboxStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def claim(
        self, destination: str, worker: str, now: datetime, lease: float, limit: int
    ) -> list[OutboxRow]:
        """Mark up to ``limit`` claimable rows of ``destination`` in flight for ``worker`` until
        ``now + lease``; a row whose lease had expired comes back with ``maybe_sent`` set."""
        due = sa.or_(
            sa.and_(_o.c.state == PENDING, _o.c.next_attempt_at <= now),
            sa.and_(_o.c.state == IN_FLIGHT, _o.c.claimed_until < now),
        )
        pick = (
            _at_heads(self.conn.dialect.name, _o.c.id)
            .where(_o.c.destination == destination, due)
            .order_by(_o.c.id)
        ).limit(limit)
        values = {
            "state": IN_FLIGHT,
            "claimed_by": worker,
            "claimed_until": now + timedelta(seconds=lease),
            "maybe_sent": sa.or_(_o.c.maybe_sent, _o.c.state == IN_FLIGHT),
        }
        if self.conn.dialect.name == "postgresql":
            picked = pick.with_for_update(skip_locked=True, of=_o).cte("picked")
            statement = _o.update().where(_o.c.id == picked.c.id)
        else:
            statement = _o.update().where(_o.c.id.in_(pick.scalar_subquery()))
        result = await self.conn.execute(statement.values(**values).returning(*_o.c))
        return sorted((_row(r) for r in result.mappings()), key=lambda row: row.id)

    async def next_due(self, destination: str) -> datetime | None:
        """When the next row of ``destination`` becomes claimable: the earliest waiting row that
        heads its queue, or the earliest lease of a row in flight to run out."""
        waiting = _at_heads(self.conn.dialect.name, sa.func.min(_o.c.next_attempt_at)).where(
            _o.c.destination == destination, _o.c.state == PENDING
        )
        leased = sa.select(sa.func.min(_o.c.claimed_until)).where(
            _o.c.destination == destination, _o.c.state == IN_FLIGHT
        )
        found = [
            utc((await self.conn.execute(query)).scalar_one_or_none())
            for query in (waiting, leased)
        ]
        return min((at for at in found if at is not None), default=None)

    async def delivered(
        self, row_id: int, now: datetime, remote_ids: Mapping[str, str], note: str | None = None
    ) -> bool:
        """Record success, whoever holds the claim now: the destination has the effect."""
        current = await self.conn.execute(sa.select(_o.c.remote_ids).where(_o.c.id == row_id))
        merged = {**(current.scalar_one_or_none() or {}), **remote_ids}
        result = await self.conn.execute(
            _o.update()
            .where(_o.c.id == row_id, _o.c.state != DELIVERED)
            .values(
                state=DELIVERED,
                delivered_at=now,
                remote_ids=merged,
                last_error=note,
                claimed_by=None,
                claimed_until=None,
            )
        )
        return bool(result.rowcount == 1)

    async def retry_later(
        self, row_id: int, worker: str, at: datetime, error: str, *, maybe_sent: bool = False
    ) -> bool:
        """Back to pending until ``at``, one attempt more; only while ``worker`` holds it."""
        result = await self.conn.execute(
            _o.update()
            .where(_o.c.id == row_id, _o.c.claimed_by == worker, _o.c.state == IN_FLIGHT)
            .values(
                state=PENDING,
                attempts=_o.c.attempts + 1,
                next_attempt_at=at,
                last_error=error[:2000],
                maybe_sent=sa.or_(_o.c.maybe_sent, sa.literal(maybe_sent)),
                claimed_by=None,
                claimed_until=None,
            )
        )
        return bool(result.rowcount == 1)

    async def dead(self, row_id: int, worker: str, reason: str, *, attempted: bool = True) -> bool:
        """Give up on the row with ``reason``; only while ``worker`` holds it."""
        result = await self.conn.execute(
            _o.update()
            .where(_o.c.id == row_id, _o.c.claimed_by == worker, _o.c.state == IN_FLIGHT)
            .values(
                state=DEAD,
                attempts=_o.c.attempts + (1 if attempted else 0),
                last_error=reason[:2000],
                claimed_by=None,
                claimed_until=None,
            )
        )
        return bool(result.rowcount == 1)

    async def release(self, worker: str, row_ids: list[int], *, maybe_sent: bool) -> int:
        """Hand claimed rows back to pending (shutdown), due at once, attempts unchanged."""
        if not row_ids:
            return 0
        result = await self.conn.execute(
            _o.update()
            .where(_o.c.id.in_(row_ids), _o.c.claimed_by == worker, _o.c.state == IN_FLIGHT)
            .values(
                state=PENDING,
                maybe_sent=sa.or_(_o.c.maybe_sent, sa.literal(maybe_sent)),
                claimed_by=None,
                claimed_until=None,
            )
        )
        return int(result.rowcount)

    async def renew(self, worker: str, row_ids: list[int], until: datetime) -> int:
        """Extend ``worker``'s claims on ``row_ids`` to ``until`` (its heartbeat); how many."""
        if not row_ids:
            return 0
        result = await self.conn.execute(
            _o.update()
            .where(_o.c.id.in_(row_ids), _o.c.claimed_by == worker, _o.c.state == IN_FLIGHT)
            .values(claimed_until=until)
        )
        return int(result.rowcount)

    async def holders(self) -> list[str]:
        """The workers that hold rows in flight."""
        query = sa.select(_o.c.claimed_by).where(_o.c.state == IN_FLIGHT).distinct()
        return sorted(str(w) for w in (await self.conn.execute(query)).scalars() if w)

    async def release_orphans(self, workers: list[str]) -> int:
        """The rows in flight of ``workers`` (whose process died mid-delivery) back to pending,
        due at once and marked ``maybe_sent``, whatever their claims say."""
        if not workers:
            return 0
        result = await self.conn.execute(
            _o.update()
            .where(_o.c.state == IN_FLIGHT, _o.c.claimed_by.in_(workers))
            .values(state=PENDING, maybe_sent=True, claimed_by=None, claimed_until=None)
        )
        return int(result.rowcount)

    async def refs(self, incident: int | None, destination: str) -> dict[str, str]:
        """What earlier deliveries created for ``incident`` on ``destination``."""
        if incident is None:
            return {}
        r = t.remote_refs
        rows = await self.conn.execute(
            sa.select(r.c.name, r.c.value).where(
                r.c.incident == incident, r.c.destination == destination
            )
        )
        return {str(name): str(value) for name, value in rows.all()}

    async def save_refs(self, incident: int, destination: str, refs: Mapping[str, str]) -> None:
        """Insert or overwrite references (the newest delivery's value wins)."""
        for name, value in refs.items():
            statement = _insert(self.conn, t.remote_refs).values(
                incident=incident, destination=destination, name=name, value=str(value)[:200]
            )
            await self.conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["incident", "destination", "name"],
                    set_={"value": statement.excluded.value},
                )
            )

    async def stats(self) -> dict[str, tuple[int, datetime]]:
        """Per destination: rows not yet delivered (pending or in flight), and the oldest one's
        creation time."""
        rows = await self.conn.execute(
            sa.select(_o.c.destination, sa.func.count(), sa.func.min(_o.c.created_at))
            .where(_o.c.state.in_(OPEN))
            .group_by(_o.c.destination)
        )
        return {str(d): (int(n), _utc(oldest)) for d, n, oldest in rows.all()}

    async def get(self, row_id: int) -> OutboxRow | None:
        row = (await self.conn.execute(sa.select(_o).where(_o.c.id == row_id))).mappings().first()
        return _row(row) if row is not None else None

    async def rows(self, states: tuple[str, ...] = STATES, limit: int = 50) -> list[OutboxRow]:
        """Newest first."""
        query = sa.select(_o).where(_o.c.state.in_(states)).order_by(_o.c.id.desc()).limit(limit)
        return [_row(r) for r in (await self.conn.execute(query)).mappings()]

    async def requeue(self, row_ids: list[int] | None, now: datetime) -> int:
        """Dead rows (all of them when ``row_ids`` is None) back to pending, due now, with a
        fresh attempt count; pending rows named by id become due now."""
        dead = _o.update().where(_o.c.state == DEAD)
        waiting = _o.update().where(_o.c.state == PENDING)
        if row_ids is not None:
            dead = dead.where(_o.c.id.in_(row_ids))
            waiting = waiting.where(_o.c.id.in_(row_ids))
        count = 0
        if row_ids is not None:  # first, so that the dead rows made pending below are not hit
            count += int((await self.conn.execute(waiting.values(next_attempt_at=now))).rowcount)
        result = await self.conn.execute(
            dead.values(state=PENDING, attempts=0, next_attempt_at=now, requeued_at=now)
        )
        count += int(result.rowcount)
        if count and self.conn.dialect.name == "postgresql":
            await self.conn.execute(sa.select(sa.func.pg_notify("tocsin_wake", "outbox")))
        return count

    async def add(self, effects: Sequence[Effect], now: datetime) -> int:
        """Queue effects; an effect whose key is already queued is skipped. Returns how many
        were new."""
        if not effects:
            return 0
        rows = [
            {
                "incident": e.incident,
                "destination": e.destination,
                "kind": e.kind,
                "payload": e.payload,
                "idempotency_key": e.key,
                "ordering_key": e.order,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now + timedelta(seconds=e.delay_seconds),
                "remote_ids": {},
                "created_at": now,
            }
            for e in effects
        ]
        # Executed "many" (one statement, compiled once; on PostgreSQL SQLAlchemy sends one
        # multi-row INSERT per page of rows), not as a ``.values([...])`` statement, which would
        # be compiled afresh each time. RETURNING names the rows that were new, so the count
        # stays exact.
        statement = _add_outbox(self.conn.dialect.name)
        return len((await statement.run(self.conn, rows)).rows)


_ADD_OUTBOX: dict[str, direct.Prepared] = {}  # per dialect, built on first use (_dialect_insert)


def _add_outbox(dialect: str) -> direct.Prepared:
    statement = _ADD_OUTBOX.get(dialect)
    if statement is None:
        statement = _ADD_OUTBOX[dialect] = direct.Prepared(
            _dialect_insert(dialect)(t.outbox)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(t.outbox.c.id)
        )
    return statement
