"""The unit of work: one transaction, the repositories on it, commit or roll back as a whole."""

from __future__ import annotations

import asyncio
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.storage.db import BUSY_TIMEOUT_MS, Database
from tocsin.storage.repositories import (
    AuditRepository,
    DedupRepository,
    IncidentRepository,
    OutboxRepository,
    TimelineRepository,
)


class UnitOfWork:
    """``async with uow: ...; await uow.commit()``. Leaving without commit rolls back.

    A read-only unit (``read_only=True``) opens a deferred transaction that never blocks writers
    on SQLite; a writing one queues for the write lock up front.
    """

    incidents: IncidentRepository
    timeline: TimelineRepository
    audit: AuditRepository
    outbox: OutboxRepository
    dedup: DedupRepository

    def __init__(self, db: Database, *, read_only: bool = False) -> None:
        self.db = db
        self.read_only = read_only
        self._conn: AsyncConnection | None = None
        self._done = False
        self._lock: asyncio.Lock | None = None

    @property
    def connection(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open")
        return self._conn

    async def __aenter__(self) -> UnitOfWork:
        await self._queue()
        try:
            conn = await self.db.connect(read_only=self.read_only)
            try:
                await conn.begin()
            except BaseException:
                await conn.close()
                raise
        except BaseException:
            self._unqueue()
            raise
        self._conn = conn
        self._done = False
        self.incidents = IncidentRepository(conn)
        self.timeline = TimelineRepository(conn)
        self.audit = AuditRepository(conn)
        self.outbox = OutboxRepository(conn)
        self.dedup = DedupRepository(conn)
        return self

    async def commit(self) -> None:
        await self.connection.commit()
        self._done = True

    async def rollback(self) -> None:
        await self.connection.rollback()
        self._done = True

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if not self._done:
                await conn.rollback()
        finally:
            try:
                await conn.close()
            finally:
                self._unqueue()

    async def _queue(self) -> None:
        """A SQLite writer waits its turn in the event loop (see :mod:`tocsin.storage.db`); as
        long as SQLite's own busy timeout, after which BEGIN IMMEDIATE would have failed too."""
        lock = None if self.read_only else self.db.write_lock()
        if lock is not None:
            await asyncio.wait_for(lock.acquire(), BUSY_TIMEOUT_MS / 1000)
            self._lock = lock

    def _unqueue(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()
