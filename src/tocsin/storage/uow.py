"""The unit of work: one transaction, the repositories on it, commit or roll back as a whole."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.storage.db import BUSY_TIMEOUT_MS, Database
from tocsin.storage.group_commit import GroupCommit, Savepoint, _Group
from tocsin.storage.incidents import (
    AuditRepository,
    DedupRepository,
    IncidentRepository,
    OutboxRepository,
    TimelineRepository,
)


class UnitOfWork:
    """``async with uow: ...; await uow.commit()``. Leaving without commit rolls back.

    A read-only unit (``read_only=True``) opens a deferred transaction that never blocks writers
    on SQLite. A writing one on SQLite takes its turn in this process's open write transaction,
    inside a savepoint, and its ``commit()`` returns once the group's COMMIT is on disk
    (:mod:`tocsin.storage.group_commit`); on PostgreSQL it is a transaction of its own.
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
        self._turn: tuple[GroupCommit, _Group, Savepoint] | None = None

    @property
    def connection(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open")
        return self._conn

    async def __aenter__(self) -> UnitOfWork:
        groups = None if self.read_only else self.db.group_commit()
        if groups is not None:
            group, savepoint = await groups.enter(BUSY_TIMEOUT_MS / 1000)
            self._turn = (groups, group, savepoint)
            conn = group.conn
        else:
            conn = await self.db.connect(read_only=self.read_only)
            try:
                await conn.begin()
            except BaseException:
                await conn.close()
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
        self._done = True
        turn, self._turn = self._turn, None
        if turn is not None:
            groups, group, savepoint = turn
            await groups.commit(group, savepoint)
        else:
            await self.connection.commit()

    async def rollback(self) -> None:
        self._done = True
        turn, self._turn = self._turn, None
        if turn is not None:
            groups, group, savepoint = turn
            await groups.rollback(group, savepoint)
        else:
            await self.connection.rollback()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if not self.read_only and self.db.is_sqlite:  # a group member: the group owns conn
            if self._turn is not None:  # left without commit or rollback
                await self.rollback()
            return
        try:
            if not self._done:
                await conn.rollback()
        finally:
            await conn.close()
