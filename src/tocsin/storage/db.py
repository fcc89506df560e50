"""The database handle: one async engine for SQLite (aiosqlite) or PostgreSQL (asyncpg).

SQLite is opened in WAL mode with foreign keys on, a busy timeout and ``synchronous=FULL`` (an
acknowledged command survives a power cut, not only a process crash). Write transactions start with
``BEGIN IMMEDIATE`` so that writers queue on the database lock up front instead of failing with
"database is locked" when a read transaction tries to upgrade; read-only units of work use a plain
deferred ``BEGIN`` and never block writers.

Within one process, SQLite writers take turns in the event loop on one open transaction and share
its commit (:mod:`tocsin.storage.group_commit`, :meth:`Database.group_commit`): SQLite has one
writer at a time anyway, waiting in the loop is FIFO and immediate, and one ``fsync`` serves
everyone who arrived while the last one ran. Other processes (``tocsin worker``, the CLI) wait for
the lock in :mod:`tocsin.storage.sqlite_driver`, sleeping in the loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from tocsin.storage import sqlite_driver
from tocsin.storage.group_commit import GroupCommit

READ_ONLY = "tocsin_read_only"
BUSY_TIMEOUT_MS = 10_000


def to_async_url(url: str) -> str:
    """``sqlite:///x`` → ``sqlite+aiosqlite:///x``; ``postgresql://`` → ``postgresql+asyncpg://``."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


class Database:
    """Owns the engine. Create one per process at start-up and pass it down."""

    def __init__(
        self, url: str, *, synchronous: str = "FULL", pool_size: int = 10, echo: bool = False
    ) -> None:
        self.url = to_async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            _make_parent_dir(self.url)
        kwargs: dict[str, Any] = {
            "echo": echo,
            "json_serializer": _json_text,
            "json_deserializer": orjson.loads,
        }
        if self.is_sqlite:
            kwargs["async_creator"] = _sqlite_connector(self.url)
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _install_sqlite_hooks(self.engine, synchronous)
        self._groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GroupCommit]
        self._groups = weakref.WeakKeyDictionary()
        # Told (members, seconds) after each SQLite group COMMIT; the server points it at its
        # metrics (Metrics.group_committed).
        self.on_group_commit: Callable[[int, float], None] | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def connect(self, *, read_only: bool = False) -> AsyncConnection:
        conn = await self.engine.connect()
        if read_only:
            await conn.execution_options(**{READ_ONLY: True})
        return conn

    def group_commit(self) -> GroupCommit | None:
        """Where SQLite writers of this process take turns and share commits (one per event
        loop); None on PostgreSQL, whose writers run in parallel."""
        if not self.is_sqlite:
            return None
        loop = asyncio.get_running_loop()
        group = self._groups.get(loop)
        if group is None:
            group = self._groups[loop] = GroupCommit(self.connect, self._group_committed)
        return group

    def _group_committed(self, members: int, seconds: float) -> None:
        if self.on_group_commit is not None:
            self.on_group_commit(members, seconds)

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _json_text(value: Any) -> str:
    """JSON columns are written with orjson; keys that are not strings are written as strings,
    as ``json.dumps`` did."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _make_parent_dir(url: str) -> None:
    """``sqlite:///./data/tocsin.db`` works on a fresh clone: create ``./data`` if missing."""
    path = sa.engine.make_url(url).database
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_connector(url: str) -> Any:
    """Connections come from :mod:`tocsin.storage.sqlite_driver` (SQLite calls on the loop's
    thread) rather than aiosqlite (a thread hop per call)."""
    parsed = sa.engine.make_url(url)
    path = parsed.database or ":memory:"
    uri = path.startswith("file:") or parsed.query.get("uri") == "true"
    return sqlite_driver.connector(path, uri=uri, busy_timeout_s=BUSY_TIMEOUT_MS / 1000)


def _install_sqlite_hooks(engine: AsyncEngine, synchronous: str) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver opens connections with isolation_level=None (BEGIN is ours to issue) and
        # busy_timeout=0 (it waits for other processes' locks in the loop, not in SQLite).
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA foreign_keys=ON",
            f"PRAGMA synchronous={synchronous}",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        options: Mapping[str, Any] = conn.get_execution_options()
        conn.exec_driver_sql("BEGIN" if options.get(READ_ONLY) else sqlite_driver.BEGIN_WRITE)
