"""Claims after a crash, on SQLite and PostgreSQL with an injected clock: the heartbeat renews
only what its worker still holds (up to the lease), a dead worker's claims run out after three
missed beats, and a process starting alone on SQLite takes back every row left in flight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from conftest import Clock
from fakes.delivery_kit import all_delivered, all_rows, effect, enqueue, eventually, fast
from tocsin.delivery.base import Delivery, RemoteRefs, Sent
from tocsin.delivery.service import DeliveryService
from tocsin.storage.db import Database
from tocsin.storage.outbox import OutboxRow, OutboxStore
from tocsin.storage.rows import utc
from tocsin.storage.tables import outbox
from tocsin.storage.uow import UnitOfWork


async def claim(db: Database, worker: str, clock: Clock, seconds: float) -> list[OutboxRow]:
    async with UnitOfWork(db) as uow:
        rows = await OutboxStore(uow.connection).claim("webhook", worker, clock(), seconds, 10)
        await uow.commit()
    return rows


async def claimed_until(db: Database, row: OutboxRow) -> datetime | None:
    """The row's claim deadline as stored (OutboxRow does not carry it)."""
    query = sa.select(outbox.c.claimed_until).where(outbox.c.id == row.id)
    async with UnitOfWork(db, read_only=True) as uow:
        return utc((await uow.connection.execute(query)).scalar_one())


class HeldSender:
    """Accepts each delivery and answers only once ``release`` is set."""

    destination = "webhook"

    def __init__(self) -> None:
        self.started: list[int] = []
        self.release = asyncio.Event()

    async def send(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        del refs
        self.started.append(delivery.id)
        await self.release.wait()
        return Sent()

    async def aclose(self) -> None:
        return None


@pytest.fixture
async def held(db: Database, clock: Clock) -> AsyncIterator[tuple[DeliveryService, HeldSender]]:
    """A service (1 s heartbeat, 60 s lease, the injected clock) around a held sender."""
    sender = HeldSender()
    service = DeliveryService(
        db, {"webhook": sender}, config=fast(clock=clock, heartbeat=1.0, lease=60.0)
    )
    try:
        yield service, sender
    finally:
        sender.release.set()
        await service.stop()


async def test_renew_extends_only_the_holder_s_rows_in_flight(db: Database, clock: Clock) -> None:
    """renew moves claimed_until for the rows the worker holds; another worker's claim, or a
    row already delivered, is left alone."""
    await enqueue(db, [effect(1, 1), effect(1, 2)], at=clock())
    a, b = await claim(db, "w1", clock, 15.0)
    until = clock() + timedelta(seconds=40)
    async with UnitOfWork(db) as uow:
        store = OutboxStore(uow.connection)
        await store.delivered(b.id, clock(), {})
        assert await store.renew("w2", [a.id], until) == 0
        assert await store.renew("w1", [a.id, b.id], until) == 1
        await uow.commit()
    clock.advance(seconds=30)  # past the first claim, inside the renewal
    assert await claim(db, "w2", clock, 15.0) == []


async def test_a_claim_not_renewed_runs_out_after_three_beats_and_comes_back_maybe_sent(
    db: Database, clock: Clock
) -> None:
    """A worker that stopped beating: its 15 s claim holds for 15 s, then another worker
    gets the row flagged maybe_sent; a renewed claim holds past that."""
    await enqueue(db, [effect(1, 1), effect(1, 2)], at=clock())
    dead, alive = await claim(db, "dead", clock, 15.0)  # "alive" stands for one still beating
    clock.advance(seconds=10)
    async with UnitOfWork(db) as uow:
        renewed = clock() + timedelta(seconds=15)
        assert await OutboxStore(uow.connection).renew("dead", [alive.id], renewed) == 1
        await uow.commit()
    assert await claim(db, "other", clock, 15.0) == []
    clock.advance(seconds=6)  # 16 s after the claim, 6 s after the renewal
    (taken,) = await claim(db, "other", clock, 15.0)
    assert taken.id == dead.id
    assert taken.maybe_sent is True


async def test_release_orphans_hands_the_dead_holders_rows_back_marked_maybe_sent(
    db: Database, clock: Clock
) -> None:
    """The named holders' rows in flight are pending again with maybe_sent and no claim;
    delivered and pending rows, and other holders' claims, are untouched."""
    await enqueue(db, [effect(1, i) for i in (1, 2, 3)], at=clock())
    first, second, third = await claim(db, "a", clock, 3600.0)
    async with UnitOfWork(db) as uow:
        store = OutboxStore(uow.connection)
        await store.delivered(first.id, clock(), {})
        await store.release("a", [third.id], maybe_sent=False)
        assert await store.holders() == ["a"]
        assert await store.release_orphans(["someone else"]) == 0
        assert await store.release_orphans(["a"]) == 1
        await uow.commit()
    rows = {r.id: r for r in await all_rows(db)}
    assert rows[first.id].state == "delivered"
    assert (rows[second.id].state, rows[second.id].maybe_sent) == ("pending", True)
    assert rows[second.id].claimed_by is None
    assert (rows[third.id].state, rows[third.id].maybe_sent) == ("pending", False)


async def test_the_heartbeat_renews_what_the_service_holds_until_the_lease(
    db: Database, clock: Clock, held: tuple[DeliveryService, HeldSender]
) -> None:
    """While a send hangs, each heartbeat moves the claim to three beats from now; once the
    row has been held for the whole lease, the heartbeat lets it go."""
    service, sender = held
    await enqueue(db, [effect(1, 1)], at=clock())
    await service.start()
    await eventually(lambda: asyncio.sleep(0, bool(sender.started)))
    (row,) = await all_rows(db)
    assert await claimed_until(db, row) == clock() + timedelta(seconds=3)
    clock.advance(seconds=2)
    assert await service.heartbeat() == 1
    (row,) = await all_rows(db)
    assert await claimed_until(db, row) == clock() + timedelta(seconds=3)
    clock.advance(seconds=59)  # 61 s after the claim: past the 60 s lease
    assert await service.heartbeat() == 0


async def test_starting_takes_back_rows_left_in_flight_on_sqlite_only(
    db: Database, clock: Clock, held: tuple[DeliveryService, HeldSender]
) -> None:
    """SQLite has one delivering process, so a starting service takes back a row a dead one
    held for an hour and delivers it (maybe_sent) without the clock moving; on PostgreSQL
    another live worker may hold it, so starting leaves the claim alone."""
    service, sender = held
    await enqueue(db, [effect(1, 1)], at=clock())
    await claim(db, "dead", clock, 3600.0)
    sender.release.set()
    await service.start()
    if not db.is_sqlite:
        (row,) = await all_rows(db)
        assert (row.state, row.claimed_by) == ("in_flight", "dead")
        return
    await all_delivered(db, 1)
    (row,) = await all_rows(db)
    assert row.maybe_sent is True
