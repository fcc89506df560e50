"""The unit of work: one transaction, every store on it, commit or roll back as a whole.

Naming: a store is a class ``XxxStore`` taking the unit's connection, in a module of
``tocsin.storage`` named after what it keeps (``incidents``, ``outbox``, ``timers``, ``status``,
``overrides``, ``access``, ``chat_refs``, ``alerts``, ``alert_groups``); the unit of work exposes
it as the attribute named for its rows (``uow.incidents``, ``uow.outbox``, ``uow.timers``, ...).
Code outside ``storage`` uses those attributes and never builds a store from ``uow.connection``.
The services see the same attributes through the protocols of :mod:`tocsin.services.ports`.

Stores are built on first use in each unit and kept for the rest of it, so a unit that touches
two stores builds two small objects and the others cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.storage.access import ReadStore, TokenStore, UserStore
from tocsin.storage.ack_links import AckLinkStore
from tocsin.storage.alert_groups import AlertGroupStore
from tocsin.storage.alerts import AlertInboxStore, IntegrationStore, SilenceStore
from tocsin.storage.chat_refs import ChatRefStore
from tocsin.storage.db import BUSY_TIMEOUT_MS, Database
from tocsin.storage.group_commit import GroupCommit, Savepoint, _Group
from tocsin.storage.incidents import AuditStore, DedupStore, IncidentStore, TimelineStore
from tocsin.storage.maintenance import MaintenanceStore
from tocsin.storage.monitors import MonitorStore
from tocsin.storage.outbox import OutboxStore
from tocsin.storage.overrides import OverrideStore
from tocsin.storage.people import PeopleStore
from tocsin.storage.status import StatusStore
from tocsin.storage.subscribers import SubscriberStore
from tocsin.storage.timers import TimerStore

S = TypeVar("S")


class _Store(Generic[S]):
    """A store attribute of the unit of work: built from the open connection on first access,
    then cached in the instance (a plain attribute lookup from then on)."""

    def __init__(self, build: Callable[[AsyncConnection], S]) -> None:
        self.build = build
        self.name = ""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name
        _STORES.append(name)

    @overload
    def __get__(self, unit: None, owner: type[Any]) -> _Store[S]: ...
    @overload
    def __get__(self, unit: UnitOfWork, owner: type[Any]) -> S: ...
    def __get__(self, unit: UnitOfWork | None, owner: type[Any]) -> _Store[S] | S:
        if unit is None:
            return self
        store = self.build(unit.connection)
        unit.__dict__[self.name] = store
        return store


_STORES: list[str] = []


class UnitOfWork:
    """``async with uow: ...; await uow.commit()``. Leaving without commit rolls back.

    A read-only unit (``read_only=True``) opens a deferred transaction that never blocks writers
    on SQLite. A writing one on SQLite takes its turn in this process's open write transaction,
    inside a savepoint, and its ``commit()`` returns once the group's COMMIT is on disk
    (:mod:`tocsin.storage.group_commit`); on PostgreSQL it is a transaction of its own.
    """

    incidents = _Store(IncidentStore)
    timeline = _Store(TimelineStore)
    audit = _Store(AuditStore)
    outbox = _Store(OutboxStore)
    dedup = _Store(DedupStore)
    timers = _Store(TimerStore)
    overrides = _Store(OverrideStore)
    status = _Store(StatusStore)
    users = _Store(UserStore)
    tokens = _Store(TokenStore)
    reads = _Store(ReadStore)
    refs = _Store(ChatRefStore)
    ack_links = _Store(AckLinkStore)
    people = _Store(PeopleStore)
    maintenance = _Store(MaintenanceStore)
    subscribers = _Store(SubscriberStore)
    integrations = _Store(IntegrationStore)
    alert_inbox = _Store(AlertInboxStore)
    alert_groups = _Store(AlertGroupStore)
    silences = _Store(SilenceStore)
    monitors = _Store(MonitorStore)

    def __init__(self, db: Database, *, read_only: bool = False) -> None:
        self.db = db
        self.read_only = read_only
        self._conn: AsyncConnection | None = None
        self._done = False
        self._turn: tuple[GroupCommit, _Group, Savepoint] | None = None
        self._entered = False

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
        if self._entered:  # entered again: drop the stores built on the previous connection
            for name in _STORES:
                self.__dict__.pop(name, None)
        self._conn = conn
        self._done = False
        self._entered = True
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
