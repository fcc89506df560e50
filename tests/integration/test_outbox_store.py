"""Outbox SQL on SQLite and PostgreSQL: claiming in order, leases, outcomes, refs, re-queue."""

from __future__ import annotations

from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from fakes.delivery_kit import all_rows, effect, enqueue, now
from tocsin.storage import migrate
from tocsin.storage.db import Database
from tocsin.storage.outbox import OutboxStore
from tocsin.storage.tables import metadata
from tocsin.storage.uow import UnitOfWork


async def claim(db: Database, worker: str = "w1", limit: int = 10, lease: float = 30.0) -> list:
    async with UnitOfWork(db) as uow:
        rows = await OutboxStore(uow.connection).claim("webhook", worker, now(), lease, limit)
        await uow.commit()
    return rows


async def run(db: Database, action: str, *args: object, **kw: object) -> object:
    async with UnitOfWork(db) as uow:
        result = await getattr(OutboxStore(uow.connection), action)(*args, **kw)
        await uow.commit()
    return result


async def test_schema_after_migrations_matches_the_tables(db: Database) -> None:
    """Alembic's upgrade to head creates exactly what tables.py declares (no autogenerate diff)."""
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), metadata
            )
        )
    assert diff == []


async def test_delivery_migration_downgrades_and_upgrades_again(db: Database) -> None:
    """0002 can be rolled back to 0001 and re-applied, leaving the new columns in place."""
    await migrate.downgrade(db, "0001")
    await migrate.upgrade(db)
    assert await migrate.is_at_head(db)
    await enqueue(db, [effect(1)])
    assert (await all_rows(db))[0].maybe_sent is False


async def test_claim_takes_only_the_head_of_each_ordering_queue(db: Database) -> None:
    """Rows of one incident are claimed one at a time, in order; other incidents in parallel."""
    await enqueue(db, [effect(1, 1), effect(2, 1), effect(3, 1), effect(1, 2)])
    first = await claim(db)
    assert [r.idempotency_key for r in first] == ["INC-1:1", "INC-2:1"]
    assert await claim(db, "w2") == []  # the rest wait behind rows in flight
    await run(db, "delivered", first[0].id, now(), {"ts": "1.0"})
    second = await claim(db, "w2")
    assert [r.idempotency_key for r in second] == ["INC-1:2"]
    assert all(r.state == "in_flight" and r.claimed_by == "w2" for r in second)


async def test_a_row_waiting_for_its_retry_blocks_later_rows_but_a_dead_one_does_not(
    db: Database,
) -> None:
    """Update 3 never goes before update 2 while 2 may still be sent; once 2 is dead, 3 goes."""
    await enqueue(db, [effect(1), effect(2)])
    (row,) = await claim(db)
    await run(db, "retry_later", row.id, "w1", now() + timedelta(hours=1), "HTTP 503")
    assert await claim(db) == []
    async with UnitOfWork(db) as uow:
        await OutboxStore(uow.connection).requeue([row.id], now())  # due now again
        await uow.commit()
    (again,) = await claim(db)
    assert again.id == row.id
    assert again.attempts == 1
    await run(db, "dead", row.id, "w1", "HTTP 404: channel_not_found")
    (nxt,) = await claim(db)
    assert nxt.idempotency_key == "INC-1:2"


async def test_rows_not_yet_due_are_not_claimed(db: Database) -> None:
    """A delayed effect waits until its next_attempt_at; next_due says when."""
    await enqueue(db, [effect(1, delay_seconds=60)])
    assert await claim(db) == []
    async with UnitOfWork(db, read_only=True) as uow:
        due = await OutboxStore(uow.connection).next_due("webhook")
    assert due is not None
    assert 50 < (due - now()).total_seconds() <= 60


async def test_an_expired_lease_gives_the_row_to_another_worker_marked_maybe_sent(
    db: Database,
) -> None:
    """A crashed worker's rows come back after the lease, flagged so senders reconcile."""
    await enqueue(db, [effect(1)])
    (row,) = await claim(db, "crashed", lease=0.0)
    assert row.maybe_sent is False
    (again,) = await claim(db, "w2")
    assert again.id == row.id
    assert again.maybe_sent is True
    assert again.claimed_by == "w2"
    # The crashed worker can no longer record a retry or a death for it.
    assert await run(db, "retry_later", row.id, "crashed", now(), "late") is False
    assert await run(db, "dead", row.id, "crashed", "late") is False


async def test_success_stores_remote_ids_and_refs_in_one_go(db: Database) -> None:
    """remote_ids merge onto the row; refs are upserted per incident and destination."""
    await enqueue(db, [effect(1)])
    (row,) = await claim(db)
    async with UnitOfWork(db) as uow:
        store = OutboxStore(uow.connection)
        assert await store.delivered(row.id, now(), {"ts": "111.1"}, None)
        await store.save_refs(1, "webhook", {"channel": "C1", "announcement_ts": "9.9"})
        await store.save_refs(1, "webhook", {"channel": "C2"})
        await uow.commit()
    async with UnitOfWork(db, read_only=True) as uow:
        store = OutboxStore(uow.connection)
        assert await store.refs(1, "webhook") == {"channel": "C2", "announcement_ts": "9.9"}
        assert await store.refs(2, "webhook") == {}
        stored = await store.get(row.id)
    assert stored is not None
    assert stored.state == "delivered"
    assert stored.remote_ids == {"ts": "111.1"}
    assert stored.delivered_at is not None


async def test_requeue_brings_dead_rows_back_with_fresh_attempts(db: Database) -> None:
    """`deliveries retry --all-dead`: dead rows are pending, due now, attempts 0, requeued_at."""
    await enqueue(db, [effect(1, 1), effect(1, 2), effect(1, 3)])
    rows = await claim(db)
    for row in rows[:2]:
        await run(db, "dead", row.id, "w1", "HTTP 400")
    await run(db, "delivered", rows[2].id, now(), {})
    assert await run(db, "requeue", None, now()) == 2
    by_key = {r.idempotency_key: r for r in await all_rows(db)}
    assert by_key["INC-1:1"].state == "pending"
    assert by_key["INC-1:1"].attempts == 0
    assert by_key["INC-1:1"].requeued_at is not None
    assert by_key["INC-3:1"].state == "delivered"
    assert await run(db, "requeue", [rows[2].id], now()) == 0  # delivered: untouched


async def test_release_returns_claimed_rows_to_pending(db: Database) -> None:
    """On shutdown a worker hands its unfinished rows back, without costing an attempt."""
    await enqueue(db, [effect(1, 1), effect(1, 2)])
    a, b = await claim(db)
    assert await run(db, "release", "w1", [a.id], maybe_sent=True) == 1
    assert await run(db, "release", "other", [b.id], maybe_sent=False) == 0
    rows = {r.id: r for r in await all_rows(db)}
    assert rows[a.id].state == "pending"
    assert rows[a.id].maybe_sent is True
    assert rows[a.id].attempts == 0
    assert rows[b.id].state == "in_flight"


async def test_stats_count_undelivered_rows_per_destination(db: Database) -> None:
    """Queue depth and oldest waiting row per destination feed the outbox gauges."""
    then = now() - timedelta(minutes=5)
    await enqueue(db, [effect(1, 1), effect(2, 1)], at=then)
    await enqueue(db, [effect(1, 1, "statuspage", key="sp-1")])
    async with UnitOfWork(db, read_only=True) as uow:
        stats = await OutboxStore(uow.connection).stats()
    assert stats["webhook"][0] == 2
    assert abs((stats["webhook"][1] - then).total_seconds()) < 1
    assert stats["statuspage"][0] == 1


async def test_claim_limit_is_respected(db: Database) -> None:
    """A batch claim never takes more rows than asked."""
    await enqueue(db, [effect(1, i) for i in range(1, 6)])
    assert len(await claim(db, limit=3)) == 3


async def test_list_rows_newest_first_by_state(db: Database) -> None:
    """`deliveries list` reads rows by state, newest first."""
    await enqueue(db, [effect(1, 1), effect(1, 2)])
    (first, _second) = await claim(db, limit=2)
    await run(db, "dead", first.id, "w1", "HTTP 400")
    async with UnitOfWork(db, read_only=True) as uow:
        store = OutboxStore(uow.connection)
        dead = await store.rows(("dead",))
        everything = await store.rows()
    assert [r.id for r in dead] == [first.id]
    assert [r.id for r in everything] == sorted((r.id for r in everything), reverse=True)
