"""tocsin.storage.sqlite_driver on real files: another process's write lock (a plain sqlite3
connection here) is waited for in the loop, not on it, until the busy timeout ("database is
locked"); other errors are raised at once; commits are durable, rollbacks leave nothing; a read
keeps its WAL snapshot; a write transaction's COMMIT leaves the loop's thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa

from fakes.clocks import VirtualTime
from tocsin.storage import sqlite_driver
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork

TIMEOUT = 5.0  # seconds; a lost wake-up fails the test instead of hanging it
TICKS = 10  # how often the loop runs other work before the other "process" lets go of its lock
INSERT = sa.text("INSERT INTO notes (body) VALUES (:body)")


@pytest.fixture
def path(tmp_path: Path) -> str:
    """A WAL-mode SQLite file with one table, ``notes(id, body UNIQUE)``."""
    file = str(tmp_path / "tocsin.db")
    with closing(sqlite3.connect(file, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)")
    return file


@pytest.fixture
async def db(path: str) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{path}")
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def other(path: str) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(path, isolation_level=None, timeout=0)) as conn:
        yield conn


def bodies(path: str) -> list[str]:
    """What a fresh connection (any other process) sees."""
    with closing(sqlite3.connect(path)) as conn:
        return [row[0] for row in conn.execute("SELECT body FROM notes ORDER BY id")]


async def ticking(stop: asyncio.Event) -> int:
    """Count turns of the loop until ``stop``: how often it got to run other work."""
    ticks = 0
    while not stop.is_set():
        await asyncio.sleep(0)
        ticks += 1
    return ticks


async def test_write_waits_for_another_process_lock_without_blocking_the_loop(
    db: Database, other: sqlite3.Connection, path: str
) -> None:
    """While another connection holds the write lock, a writing unit of work waits in the loop:
    the lock is let go only by a task of the same loop after it has run ten times (so a wait
    that blocked the loop would end in "database is locked"), the unit begins only after that,
    and the write goes through with both rows visible to everyone."""
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notes (body) VALUES ('worker')")
    released = asyncio.Event()

    async def release() -> None:
        for _ in range(TICKS):
            await asyncio.sleep(0.005)  # turns of the loop while the writer waits
        other.execute("COMMIT")
        released.set()

    releaser = asyncio.create_task(release())
    async with asyncio.timeout(TIMEOUT), UnitOfWork(db) as uow:
        assert released.is_set()
        await uow.connection.execute(INSERT, {"body": "bot"})
        await uow.commit()
    await releaser
    assert bodies(path) == ["worker", "bot"]


async def test_lock_held_past_the_busy_timeout_fails_with_database_is_locked(
    path: str, other: sqlite3.Connection
) -> None:
    """A BEGIN IMMEDIATE against a lock held longer than the busy timeout (0.2 s) raises
    sqlite3.OperationalError "database is locked" once that much time has passed on the
    driver's clock, after waits of 1 ms doubling up to 50 ms, and the loop runs other work
    while it waits."""
    virtual = VirtualTime()
    connect = sqlite_driver.connector(
        path, uri=False, busy_timeout_s=0.2, clock=virtual, sleep=virtual.sleep
    )
    conn = await connect()
    other.execute("BEGIN IMMEDIATE")
    stop = asyncio.Event()
    ticker = asyncio.create_task(ticking(stop))
    try:
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            await asyncio.wait_for(conn.execute(sqlite_driver.BEGIN_WRITE), TIMEOUT)
    finally:
        stop.set()
        other.execute("ROLLBACK")
        await conn.close()
    assert virtual.waits[:7] == [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.05]
    assert set(virtual.waits[6:]) == {0.05}
    assert 0.2 <= sum(virtual.waits) < 0.2 + 0.05
    assert await ticker >= len(virtual.waits)


async def test_committed_write_is_durable_and_a_rolled_back_one_leaves_nothing(
    db: Database, path: str
) -> None:
    """A committed write transaction (driver, or unit of work) is visible to a fresh plain
    connection; one rolled back (explicitly, or a unit left without commit) writes nothing."""
    conn = await sqlite_driver.connector(path, uri=False, busy_timeout_s=1.0)()
    for body, keep in (("driver kept", True), ("driver rolled back", False)):
        await conn.execute(sqlite_driver.BEGIN_WRITE)
        await conn.execute("INSERT INTO notes (body) VALUES (?)", (body,))
        await (conn.commit() if keep else conn.rollback())
    await conn.close()
    async with UnitOfWork(db) as uow:
        await uow.connection.execute(INSERT, {"body": "kept"})
        await uow.commit()
    async with UnitOfWork(db) as uow:
        await uow.connection.execute(INSERT, {"body": "rolled back"})
        await uow.rollback()
    async with UnitOfWork(db) as uow:
        await uow.connection.execute(INSERT, {"body": "abandoned"})
    assert bodies(path) == ["driver kept", "kept"]


async def test_read_transaction_keeps_its_snapshot_while_another_connection_commits(
    db: Database, other: sqlite3.Connection
) -> None:
    """A read-only unit of work (deferred BEGIN, WAL) keeps seeing the rows as of its first
    read while another connection commits; the next unit sees the new row."""
    count = sa.text("SELECT count(*) FROM notes")
    other.execute("INSERT INTO notes (body) VALUES ('first')")
    async with UnitOfWork(db, read_only=True) as uow:
        assert (await uow.connection.execute(count)).scalar_one() == 1
        other.execute("INSERT INTO notes (body) VALUES ('second')")
        assert (await uow.connection.execute(count)).scalar_one() == 1
    async with UnitOfWork(db, read_only=True) as uow:
        assert (await uow.connection.execute(count)).scalar_one() == 2


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELEC 1", sqlite3.OperationalError),
        ("INSERT INTO notes (body) VALUES ('dup')", sqlite3.IntegrityError),
    ],
)
async def test_errors_other_than_locked_are_raised_at_once(
    path: str, sql: str, error: type[Exception]
) -> None:
    """A syntax error or a constraint violation in a write transaction is
    raised at once, not retried until the busy timeout (10 s): the driver never sleeps."""
    virtual = VirtualTime()
    connect = sqlite_driver.connector(
        path, uri=False, busy_timeout_s=10.0, clock=virtual, sleep=virtual.sleep
    )
    conn = await connect()
    await conn.execute("INSERT INTO notes (body) VALUES ('dup')")
    await conn.execute(sqlite_driver.BEGIN_WRITE)
    try:
        with pytest.raises(error):
            await asyncio.wait_for(conn.execute(sql), TIMEOUT)
    finally:
        await conn.rollback()
        await conn.close()
    assert virtual.waits == []


async def test_a_lock_wait_ending_in_another_error_raises_it_when_the_lock_is_freed(
    path: str, other: sqlite3.Connection
) -> None:
    """A statement that waited for the lock and then fails otherwise (the other connection
    dropped the table) raises that error at the first try after the lock is freed, not at the
    busy timeout."""
    virtual = VirtualTime()
    connect = sqlite_driver.connector(
        path, uri=False, busy_timeout_s=10.0, clock=virtual, sleep=virtual.sleep
    )
    conn = await connect()
    other.execute("BEGIN IMMEDIATE")
    other.execute("DROP TABLE notes")
    virtual.on_sleep = lambda count: other.execute("COMMIT") if count == 3 else None
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await asyncio.wait_for(conn.execute("INSERT INTO notes (body) VALUES ('x')"), TIMEOUT)
    finally:
        await conn.close()
    assert len(virtual.waits) == 3


async def test_write_commit_runs_off_the_loop_thread(db: Database) -> None:
    """The COMMIT of a writing unit of work (BEGIN IMMEDIATE) runs in a worker thread, so its
    fsync does not stall the loop; a read-only unit commits on the loop's thread."""
    threads: list[int] = []

    def trace(statement: str) -> None:
        if statement == "COMMIT":
            threads.append(threading.get_ident())

    for read_only in (True, False):
        async with UnitOfWork(db, read_only=read_only) as uow:
            raw = (await uow.connection.get_raw_connection()).driver_connection
            assert isinstance(raw, sqlite_driver.Connection)
            raw._open().set_trace_callback(trace)
            if not read_only:
                await uow.connection.execute(INSERT, {"body": "x"})
            await uow.commit()
    loop_thread = threading.get_ident()
    assert threads[0] == loop_thread
    assert len(threads) == 2
    assert threads[1] != loop_thread
