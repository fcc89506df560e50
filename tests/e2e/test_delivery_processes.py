"""`tocsin worker` as a real process: kill -9 mid-burst and restart, graceful SIGTERM, and two
worker processes on one PostgreSQL, against a loopback webhook receiver that deduplicates by
Idempotency-Key."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
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


def worker(url: str, fake: FakeServer, cwd: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TOCSIN_DATABASE_URL": url,
        "TOCSIN_WEBHOOK_URL": fake.url + HOOK,
        "TOCSIN_WEBHOOK_SECRET": SECRET,
        "TOCSIN_DELIVERY_LEASE": "1",
        "TOCSIN_SHUTDOWN_TIMEOUT": "2",
        "TOCSIN_LOG_LEVEL": "warning",
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
