"""Group commit on SQLite (tocsin.storage.group_commit): writers of one process take turns in one
open transaction, each in a savepoint, and share its COMMIT. Every member's ``commit()`` returns
only once the group is on disk, a failed group COMMIT fails every member, a member's rollback
undoes only its own work, and a cancelled or timed-out waiter does not wedge the others."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tocsin.storage import group_commit, migrate, sqlite_driver
from tocsin.storage import uow as uow_module
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TIMEOUT = 10.0  # seconds; a lost wake-up fails the test instead of hanging it


class Boom(Exception):
    pass


class Commits:
    """Counts the write transactions' COMMITs (the fsyncs); ``fail`` of them raise instead."""

    def __init__(self) -> None:
        self.count = 0
        self.fail = 0


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "t.db"


@pytest.fixture
async def db(path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{path}")
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def commits(db: Database, monkeypatch: pytest.MonkeyPatch) -> Commits:
    """Watch the driver's COMMIT of write transactions (read-only commits are not counted)."""
    watched = Commits()
    original = sqlite_driver.Connection.commit

    async def commit(self: sqlite_driver.Connection) -> None:
        if self._writing:
            watched.count += 1
            if watched.fail:
                watched.fail -= 1
                raise sqlite3.OperationalError("disk I/O error")
        await original(self)

    monkeypatch.setattr(sqlite_driver.Connection, "commit", commit)
    return watched


def on_disk(path: Path) -> set[str]:
    """The committed keys, as a separate plain sqlite3 connection sees them."""
    with closing(sqlite3.connect(path)) as conn:
        return {key for (key,) in conn.execute("SELECT key FROM seen_requests")}


async def write(db: Database, key: str, *, linger: bool = True, fail: bool = False) -> None:
    """One writer; with ``linger`` it yields inside its turn so that others queue behind it."""
    async with UnitOfWork(db) as uow:
        assert await uow.dedup.first_time(key, T0)
        if linger:
            await asyncio.sleep(0)
        if fail:
            raise Boom(key)
        await uow.commit()


async def test_concurrent_writers_share_fewer_commits(
    db: Database, path: Path, commits: Commits
) -> None:
    """20 concurrent writers all commit, every row is visible to a fresh sqlite3 connection,
    and they needed fewer COMMITs than writers."""
    keys = [f"k{i}" for i in range(20)]
    await asyncio.wait_for(asyncio.gather(*(write(db, k, linger=False) for k in keys)), TIMEOUT)
    assert on_disk(path) == set(keys)
    assert 1 <= commits.count < len(keys)


async def test_commit_returns_only_after_the_group_commit(
    db: Database, path: Path, commits: Commits
) -> None:
    """The moment a member's commit() returns, its row is visible to another connection: it
    waited for the group's COMMIT, not just for the RELEASE of its savepoint."""

    async def write_and_look(key: str) -> bool:
        async with UnitOfWork(db) as uow:
            await uow.dedup.first_time(key, T0)
            await asyncio.sleep(0)
            await uow.commit()
            return key in on_disk(path)  # no await in between: nothing else ran

    seen = await asyncio.wait_for(
        asyncio.gather(*(write_and_look(f"k{i}") for i in range(8))), TIMEOUT
    )
    assert seen == [True] * 8
    assert commits.count < 8  # some members were not the one that committed


async def test_a_members_rollback_undoes_only_its_own_work(
    db: Database, path: Path, commits: Commits
) -> None:
    """A member raising inside its unit of work loses its row; the members before and after
    it in the same group are committed."""
    keys = [f"k{i}" for i in range(9)]
    results = await asyncio.wait_for(
        asyncio.gather(*(write(db, k, fail=k == "k4") for k in keys), return_exceptions=True),
        TIMEOUT,
    )
    assert [type(r) for r in results] == [type(None)] * 4 + [Boom] + [type(None)] * 4
    assert on_disk(path) == set(keys) - {"k4"}
    assert commits.count == 1  # k4 was in the middle of one shared group


async def test_failed_group_commit_fails_every_member(
    db: Database, path: Path, commits: Commits
) -> None:
    """When the group's COMMIT fails, every member's commit() raises, none of their rows are on
    disk, and the next writer starts a new group that commits normally."""
    commits.fail = 1
    keys = [f"k{i}" for i in range(6)]
    results = await asyncio.wait_for(
        asyncio.gather(*(write(db, k) for k in keys), return_exceptions=True), TIMEOUT
    )
    assert commits.count == 1  # all six were in the group whose COMMIT failed
    assert all(isinstance(r, sa.exc.OperationalError) for r in results), results
    assert all("disk I/O error" in str(r) for r in results)
    assert on_disk(path) == set()

    await asyncio.wait_for(write(db, "after"), TIMEOUT)
    assert on_disk(path) == {"after"}
    assert commits.count == 2


async def _hold_turn(db: Database, key: str, entered: asyncio.Event, go: asyncio.Event) -> None:
    async with UnitOfWork(db) as uow:
        await uow.dedup.first_time(key, T0)
        entered.set()
        await go.wait()
        await uow.commit()


@pytest.mark.parametrize("how", ["cancelled", "timed out"])
async def test_a_waiter_giving_up_does_not_wedge_the_others(
    db: Database, path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A writer cancelled, or timed out, while waiting for its turn leaves nothing behind; the
    holder, the writer queued behind it and later writers all commit."""
    entered, go = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold_turn(db, "a", entered, go))
    await asyncio.wait_for(entered.wait(), TIMEOUT)
    if how == "timed out":
        monkeypatch.setattr(uow_module, "BUSY_TIMEOUT_MS", 50)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(write(db, "b"), TIMEOUT)
        monkeypatch.setattr(uow_module, "BUSY_TIMEOUT_MS", 10_000)
        behind = asyncio.create_task(write(db, "c"))
        await asyncio.sleep(0)
    else:
        waiter = asyncio.create_task(write(db, "b"))
        behind = asyncio.create_task(write(db, "c"))
        await asyncio.sleep(0)  # both are queued for the turn
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    go.set()
    await asyncio.wait_for(asyncio.gather(holder, behind), TIMEOUT)
    await asyncio.wait_for(write(db, "d"), TIMEOUT)
    assert on_disk(path) == {"a", "c", "d"}


async def test_a_turn_handed_to_a_cancelled_waiter_is_passed_on(
    db: Database, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A waiter cancelled just as the turn is handed to it gives the turn back: the writer
    behind it gets it, and the group, holder included, still commits."""
    groups = db.group_commit()
    assert groups is not None
    entered, go = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold_turn(db, "a", entered, go))
    await asyncio.wait_for(entered.wait(), TIMEOUT)
    waiter = asyncio.create_task(write(db, "b"))
    behind = asyncio.create_task(write(db, "c"))
    await asyncio.sleep(0)
    original = groups._pass_turn

    def pass_then_cancel() -> None:
        original()  # the holder hands the turn to the waiter...
        monkeypatch.setattr(groups, "_pass_turn", original)
        waiter.cancel()  # ...which is cancelled before it could run

    monkeypatch.setattr(groups, "_pass_turn", pass_then_cancel)
    go.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiter, TIMEOUT)
    await asyncio.wait_for(asyncio.gather(holder, behind), TIMEOUT)
    await asyncio.wait_for(write(db, "d"), TIMEOUT)
    assert on_disk(path) == {"a", "c", "d"}


async def test_max_members_caps_a_group(
    db: Database, path: Path, commits: Commits, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With MAX_MEMBERS = 3, seven writers queued behind each other need at least three
    COMMITs, and all of them are committed."""
    monkeypatch.setattr(group_commit, "MAX_MEMBERS", 3)
    keys = [f"k{i}" for i in range(7)]
    await asyncio.wait_for(asyncio.gather(*(write(db, k) for k in keys)), TIMEOUT)
    assert commits.count >= 3
    assert on_disk(path) == set(keys)


async def read_keys(db: Database) -> set[str]:
    async with UnitOfWork(db, read_only=True) as ro:
        rows = await ro.connection.execute(sa.text("SELECT key FROM seen_requests"))
        return {key for (key,) in rows}


async def test_read_only_units_do_not_join_the_group(db: Database, path: Path) -> None:
    """While a group is open (one member released, another holding the turn), a read-only unit
    of work neither waits for the turn nor uses the group's connection, and sees only committed
    data."""
    await write(db, "old")
    entered, go = asyncio.Event(), asyncio.Event()
    member = asyncio.create_task(write(db, "a"))  # released, waiting for the group's COMMIT
    holder = asyncio.create_task(_hold_turn(db, "b", entered, go))
    await asyncio.wait_for(entered.wait(), TIMEOUT)
    groups = db.group_commit()
    assert groups is not None
    assert groups._group is not None
    async with asyncio.timeout(TIMEOUT), UnitOfWork(db, read_only=True) as ro:
        assert ro.connection is not groups._group.conn
    assert await asyncio.wait_for(read_keys(db), TIMEOUT) == {"old"}
    assert not member.done()
    go.set()
    await asyncio.wait_for(asyncio.gather(member, holder), TIMEOUT)
    assert await asyncio.wait_for(read_keys(db), TIMEOUT) == {"old", "a", "b"}


async def test_group_commit_is_per_loop_on_sqlite_only(db: Database) -> None:
    """SQLite: one GroupCommit per event loop; PostgreSQL: none (its writers run in parallel)."""
    assert db.group_commit() is db.group_commit() is not None
    postgres = Database("postgresql://nobody@127.0.0.1:1/none")
    try:
        assert postgres.group_commit() is None
    finally:
        await postgres.dispose()


async def test_a_writer_cancelled_during_the_commit_neither_wedges_nor_misreports(
    db: Database, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last member is cancelled (a dropped request) while the group's COMMIT is running:
    the COMMIT still completes (its row is on disk), the turn is passed on when it is over, and
    the next writer commits instead of waiting for a turn nobody holds."""
    original = sqlite_driver.Connection.commit
    committing, fsynced = asyncio.Event(), asyncio.Event()

    async def slow_commit(self: sqlite_driver.Connection) -> None:
        if self._writing:
            committing.set()
            await fsynced.wait()  # a slow fsync or checkpoint, until the test lets it end
        await original(self)

    monkeypatch.setattr(sqlite_driver.Connection, "commit", slow_commit)
    monkeypatch.setattr(uow_module, "BUSY_TIMEOUT_MS", 2000)
    writer = asyncio.create_task(write(db, "a", linger=False))
    await asyncio.wait_for(committing.wait(), TIMEOUT)  # inside the group's COMMIT now
    writer.cancel()
    fsynced.set()
    await asyncio.gather(writer, return_exceptions=True)
    await asyncio.wait_for(write(db, "b", linger=False), TIMEOUT)
    assert on_disk(path) == {"a", "b"}


async def test_each_group_commit_is_reported_with_its_size(db: Database) -> None:
    """``Database.on_group_commit`` hears (members, seconds) once per successful COMMIT, and the
    members add up to every unit of work that committed (the server feeds these to metrics)."""
    seen: list[tuple[int, float]] = []
    db.on_group_commit = lambda members, seconds: seen.append((members, seconds))
    keys = [f"m{i}" for i in range(12)]
    await asyncio.wait_for(asyncio.gather(*(write(db, key) for key in keys)), TIMEOUT)
    assert sum(members for members, _ in seen) == len(keys)
    assert len(seen) < len(keys)
    assert all(seconds >= 0 for _, seconds in seen)
