"""An aiosqlite-shaped driver that runs SQLite calls on the event loop's thread.

aiosqlite gives each connection a thread and sends every call there: a ``note`` command's dozen
statements (BEGIN, cursor, execute, fetchall, close, ..., COMMIT) were a dozen round trips through
a queue, a thread wake-up and ``call_soon_threadsafe`` back, and they dominated the write path
(see docs/performance.md). A statement on a local SQLite file in WAL mode is microseconds of work
with the pages in cache, so this driver runs it right where SQLAlchemy asks for it; the awaits
complete without yielding to the loop.

Two calls can take long, and those do leave the loop's thread or yield to it:

- The ``COMMIT`` of a write transaction (one begun with ``BEGIN IMMEDIATE``) runs in a thread:
  with ``synchronous=FULL`` it waits for ``fsync`` (and, now and then, a WAL checkpoint), and
  other requests are served meanwhile. Read transactions commit in place.
- Waiting for another process's lock. The connection's own busy timeout is 0 and a "database is
  locked" answer is retried after an ``asyncio.sleep`` (1 ms growing to 50 ms) until
  :data:`~tocsin.storage.db.BUSY_TIMEOUT_MS` has passed, so a ``tocsin worker`` or CLI holding
  the write lock never blocks the loop. Writers of this process already queue on
  :meth:`~tocsin.storage.db.Database.group_commit` before they get here.

Only the surface SQLAlchemy's aiosqlite dialect uses is implemented (``async_creator`` hands it
our connection). One connection is used by one unit of work at a time (the pool guarantees it),
so a connection made with ``check_same_thread=False`` is safe to commit from the thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

BEGIN_WRITE = "BEGIN IMMEDIATE"
_FIRST_WAIT = 0.001
_LONGEST_WAIT = 0.05
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def _is_locked(error: sqlite3.OperationalError) -> bool:
    text = str(error)
    return "database is locked" in text or "database table is locked" in text


class _Retrying:
    """Run a SQLite call; on "database is locked", sleep in the loop and try again.

    ``clock`` and ``sleep`` are :func:`time.monotonic` and :func:`asyncio.sleep` unless a test
    hands :func:`connector` others, to run the busy timeout on a clock it moves itself.
    """

    def __init__(self, timeout_s: float, clock: Clock, sleep: Sleep) -> None:
        self.timeout_s, self.clock, self.sleep = timeout_s, clock, sleep

    async def run(self, call: Callable[[], Any]) -> Any:
        try:
            return call()  # the common case: no lock held elsewhere, no sleep
        except sqlite3.OperationalError as error:
            if not _is_locked(error):
                raise
        return await self.run_async(lambda: _completed(call))

    async def run_async(self, call: Callable[[], Awaitable[Any]]) -> Any:
        deadline = self.clock() + self.timeout_s
        wait = _FIRST_WAIT
        while True:
            try:
                return await call()
            except sqlite3.OperationalError as error:
                if not _is_locked(error) or self.clock() >= deadline:
                    raise
            await self.sleep(wait)
            wait = min(wait * 2, _LONGEST_WAIT)


async def _completed(call: Callable[[], Any]) -> Any:
    return call()


class Cursor:
    """The async cursor SQLAlchemy's adapter expects, over a ``sqlite3.Cursor``."""

    __slots__ = ("_connection", "_cursor", "_retrying")

    def __init__(self, connection: Connection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor
        self._retrying = connection._retrying

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        cursor = self._cursor
        if sql == BEGIN_WRITE:
            self._connection._writing = True
        if parameters is None:
            await self._retrying.run(lambda: cursor.execute(sql))
        else:
            await self._retrying.run(lambda: cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        rows = list(rows)
        await self._retrying.run(lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _ImmediateQueue:
    """SQLAlchemy sets ``isolation_level`` by putting ``(future, function)`` on aiosqlite's
    private queue; run the function at once instead."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # noqa: BLE001 - handed to the awaiting caller
            future.set_exception(error)


class Connection:
    """The async connection SQLAlchemy's aiosqlite adapter expects, over ``sqlite3``."""

    def __init__(self, conn: sqlite3.Connection, retrying: _Retrying) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._tx = _ImmediateQueue()
        self._writing = False
        self._retrying = retrying

    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self._conn

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._open().isolation_level

    def cursor(self) -> Cursor:
        return Cursor(self, self._open().cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        cursor = self.cursor()
        return await cursor.execute(sql, parameters)

    async def commit(self) -> None:
        conn = self._open()
        if not self._writing:
            conn.commit()
            return
        self._writing = False
        loop = asyncio.get_running_loop()
        await self._retrying.run_async(lambda: loop.run_in_executor(None, conn.commit))

    async def rollback(self) -> None:
        self._writing = False
        self._open().rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._open().create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Force-close (SQLAlchemy's terminate)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def connector(
    path: str,
    *,
    uri: bool,
    busy_timeout_s: float,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> Callable[[], Any]:
    """The ``async_creator`` for :func:`sqlalchemy.ext.asyncio.create_async_engine`."""

    async def connect() -> Connection:
        conn = sqlite3.connect(path, uri=uri, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=0")
        return Connection(conn, _Retrying(busy_timeout_s, clock, sleep))

    return connect
