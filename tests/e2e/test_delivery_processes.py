"""`tocsin worker` as a real process: kill -9 mid-burst and restart, graceful SIGTERM, two
worker processes on one PostgreSQL, and a killed worker's deliveries taken over without waiting
for the lease, against a loopback webhook receiver that deduplicates by Idempotency-Key."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from fakes.delivery_kit import (
    HOOK,
    SECRET,
    all_delivered,
    all_rows,
    burst,
    enqueue,
    eventually,
    per_incident,
    states,
)
from fakes.http_fake import FakeServer, IdempotencySink, Reply
from tocsin.storage import migrate
from tocsin.storage.db import Database
from tocsin.storage.outbox import OutboxRow
from tocsin.storage.uow import UnitOfWork

pytestmark = pytest.mark.slow
TOCSIN = str(Path(sys.executable).with_name("tocsin"))


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


def slow_sink(fake: FakeServer, delay: float) -> IdempotencySink:
    """A receiver that applies a request on arrival and answers ``delay`` seconds later: a
    worker killed in between has sent the effect but not recorded it."""
    sink = IdempotencySink()

    async def answer(request):  # type: ignore[no-untyped-def]
        reply = sink(request)
        await asyncio.sleep(delay)
        return reply

    fake.route("POST", HOOK, answer)
    return sink


@pytest.fixture
def released() -> Iterator[threading.Event]:
    """Set to let a :func:`held_sink` answer; set at the end whatever happened."""
    event = threading.Event()
    yield event
    event.set()


def held_sink(fake: FakeServer, released: threading.Event) -> IdempotencySink:
    """A receiver that applies each request on arrival and answers only once ``released``."""
    sink = IdempotencySink()

    async def answer(request):  # type: ignore[no-untyped-def]
        reply = sink(request)
        # set from the test's thread, so not an asyncio.Event of the server's loop
        while not released.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        return reply

    fake.route("POST", HOOK, answer)
    return sink


def worker(url: str, fake: FakeServer, cwd: Path, **settings: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TOCSIN_DATABASE_URL": url,
        "TOCSIN_WEBHOOK_URL": fake.url + HOOK,
        "TOCSIN_WEBHOOK_SECRET": SECRET,
        "TOCSIN_SHUTDOWN_TIMEOUT": "2",
        "TOCSIN_LOG_LEVEL": "warning",
        **settings,
    }
    log = cwd / f"worker-{time.monotonic_ns()}.log"
    with log.open("wb") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            [TOCSIN, "worker"], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def stopped(process: subprocess.Popen[bytes], within: float = 10) -> int:
    deadline = time.monotonic() + within
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the worker did not stop in time")
        await asyncio.sleep(0.02)
    return process.returncode


async def listening(db: Database, count: int) -> bool:
    """Whether ``count`` connections to this PostgreSQL database have LISTENed (the workers'
    wake-up listeners are up)."""
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
    )
    async with UnitOfWork(db, read_only=True) as uow:
        return int((await uow.connection.execute(query)).scalar_one()) >= count


def reap(processes: list[subprocess.Popen[bytes]]) -> None:
    """Kill and wait for whatever a failed test left running."""
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


async def migrated(url: str) -> Database:
    db = Database(url)
    await migrate.upgrade(db)
    return db


async def test_kill_9_mid_burst_then_restart_delivers_every_effect_once(
    tmp_path: Path, sqlite_url: str, fake: FakeServer
) -> None:
    """kill -9 while 150 messages drain; after a restart every message is applied exactly once
    by the idempotent receiver, in order per incident. Only rows that were in flight at the
    kill are sent a second time (the at-least-once window), and they are flagged maybe_sent."""
    sink = slow_sink(fake, delay=0.02)
    db = await migrated(sqlite_url)
    effects = burst(incidents=10, per_incident=15)
    try:
        await enqueue(db, effects)
        first = worker(sqlite_url, fake, tmp_path)
        await fake.wait_for(lambda: len(sink.applied) >= 40, within=15)
        first.send_signal(signal.SIGKILL)
        assert await stopped(first) == -signal.SIGKILL
        assert (await states(db)).get("pending", 0) > 0
        second = worker(sqlite_url, fake, tmp_path)
        await all_delivered(db, len(effects), within=30)
        second.send_signal(signal.SIGTERM)
        assert await stopped(second) == 0
        rows = await all_rows(db)
    finally:
        await db.dispose()
    assert sorted(sink.applied) == sorted(e.key for e in effects)
    assert all(order == list(range(1, 16)) for order in per_incident(sink.applied).values())
    assert sink.repeats <= 8  # at most one worker's in-flight deliveries (concurrency 8)
    resent = {key for key, n in sink.received.items() if n > 1}
    assert resent <= {r.idempotency_key for r in rows if r.maybe_sent}


async def test_sigterm_finishes_in_flight_work_and_exits_cleanly(
    tmp_path: Path, sqlite_url: str, fake: FakeServer
) -> None:
    """SIGTERM: the worker stops claiming, lets the deliveries in flight finish within
    TOCSIN_SHUTDOWN_TIMEOUT (none is cut and handed back as maybe sent), exits 0, and leaves no
    row claimed."""
    sink = slow_sink(fake, delay=0.3)
    db = await migrated(sqlite_url)
    effects = burst(incidents=30, per_incident=1)
    try:
        await enqueue(db, effects)
        process = worker(sqlite_url, fake, tmp_path)
        await fake.wait_for(lambda: len(sink.applied) >= 1, within=15)
        process.send_signal(signal.SIGTERM)
        assert await stopped(process) == 0
        counts = await states(db)
        rows = await all_rows(db)
    finally:
        await db.dispose()
    assert not any(row.maybe_sent for row in rows)
    assert "in_flight" not in counts
    assert counts["delivered"] == len(sink.applied)
    assert counts.get("pending", 0) == len(effects) - len(sink.applied)
    assert sink.repeats == 0


async def test_two_worker_processes_on_postgres_never_deliver_twice(
    tmp_path: Path, pg_url: str, fake: FakeServer
) -> None:
    """Two `tocsin worker` processes (two replicas) on one PostgreSQL share the queue: each of
    100 messages is sent exactly once and in order per incident."""
    fake.route("POST", HOOK, Reply(200))
    sink = slow_sink(fake, delay=0.005)
    db = await migrated(pg_url)
    effects = burst(incidents=10, per_incident=10)
    try:
        processes = [worker(pg_url, fake, tmp_path) for _ in range(2)]
        await eventually(lambda: listening(db, 2), within=30)
        await enqueue(db, effects)
        await all_delivered(db, len(effects), within=30)
        for process in processes:
            process.send_signal(signal.SIGTERM)
        assert [await stopped(p) for p in processes] == [0, 0]
    finally:
        await db.dispose()
    assert sink.repeats == 0
    assert len(fake.requests) == len(effects)
    assert all(order == list(range(1, 11)) for order in per_incident(sink.applied).values())


# An hour's lease: a test that waited for it would time out, so it can only pass by reclaiming.
LONG_LEASE = {"TOCSIN_DELIVERY_LEASE": "3600"}


def held_by(rows: list[OutboxRow], process: subprocess.Popen[bytes]) -> set[str]:
    """Keys of the rows in flight under a claim of ``process`` (worker ids carry the pid)."""
    return {
        r.idempotency_key
        for r in rows
        if r.state == "in_flight" and f":{process.pid}:" in (r.claimed_by or "")
    }


def resent_exactly(held: set[str], rows: list[OutboxRow], sink: IdempotencySink) -> None:
    """Only the rows the dead worker held were sent twice and marked maybe_sent; every
    incident's three messages arrived in order."""
    assert {key for key, n in sink.received.items() if n > 1} == held
    assert {r.idempotency_key for r in rows if r.maybe_sent} == held
    assert all(order == [1, 2, 3] for order in per_incident(sink.applied).values())


@contextlib.asynccontextmanager
async def scene(
    url: str, fake: FakeServer, released: threading.Event
) -> AsyncIterator[tuple[Database, IdempotencySink, list[subprocess.Popen[bytes]]]]:
    """A migrated database, a held receiver and the workers a test starts, cleaned up after."""
    sink = held_sink(fake, released)
    db = await migrated(url)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        yield db, sink, processes
    finally:
        released.set()
        reap(processes)
        await db.dispose()


async def test_a_restart_on_sqlite_takes_back_what_the_killed_worker_held_at_once(
    tmp_path: Path, sqlite_url: str, fake: FakeServer, released: threading.Event
) -> None:
    """kill -9 while three deliveries wait for their answers (claims good for an hour, no
    heartbeat expiry within it): the restarted worker takes them back at start-up, marked
    maybe_sent, and delivers every message in order per incident."""
    effects = burst(incidents=3, per_incident=3)
    hour = {**LONG_LEASE, "TOCSIN_DELIVERY_HEARTBEAT": "1200"}
    async with scene(sqlite_url, fake, released) as (db, sink, processes):
        await enqueue(db, effects)
        processes.append(worker(sqlite_url, fake, tmp_path, **hour))
        await fake.wait_for(lambda: len(sink.applied) == 3, within=15)
        processes[0].send_signal(signal.SIGKILL)
        assert await stopped(processes[0]) == -signal.SIGKILL
        held = held_by(await all_rows(db), processes[0])
        assert held == {"INC-1:1", "INC-2:1", "INC-3:1"}
        released.set()
        processes.append(worker(sqlite_url, fake, tmp_path, **hour))
        await all_delivered(db, len(effects), within=30)
        processes[1].send_signal(signal.SIGTERM)
        assert await stopped(processes[1]) == 0
        rows = await all_rows(db)
    resent_exactly(held, rows, sink)


async def test_a_killed_postgres_worker_s_claims_pass_to_the_survivor_after_missed_beats(
    tmp_path: Path, pg_url: str, fake: FakeServer, released: threading.Event
) -> None:
    """Two workers on PostgreSQL, one killed while its deliveries wait for answers: with an
    hour's lease and a 0.2 s heartbeat, the survivor sends the dead worker's rows (maybe_sent)
    as soon as three beats are missed, while its own claims, renewed, are never re-sent."""
    effects = burst(incidents=4, per_incident=3)
    beats = {**LONG_LEASE, "TOCSIN_DELIVERY_HEARTBEAT": "0.2"}
    async with scene(pg_url, fake, released) as (db, sink, processes):
        await enqueue(db, effects)
        processes += [worker(pg_url, fake, tmp_path, **beats) for _ in range(2)]
        await fake.wait_for(lambda: len(sink.applied) == 4, within=15)
        rows = await all_rows(db)
        victim = next(p for p in processes if held_by(rows, p))
        survivor = next(p for p in processes if p is not victim)
        held = held_by(rows, victim)
        victim.send_signal(signal.SIGKILL)
        assert await stopped(victim) == -signal.SIGKILL
        # Still held: the dead worker's rows reach the receiver a second time from the survivor.
        await fake.wait_for(lambda: all(sink.received[k] == 2 for k in held), within=15)
        released.set()
        await all_delivered(db, len(effects), within=30)
        survivor.send_signal(signal.SIGTERM)
        assert await stopped(survivor) == 0
        rows = await all_rows(db)
    resent_exactly(held, rows, sink)
