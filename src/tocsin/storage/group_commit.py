"""Group commit: this process's SQLite write transactions share one durable COMMIT.

SQLite has one writer at a time, and with ``synchronous=FULL`` every COMMIT waits for ``fsync``.
Measured on the development machine, those waits, not the statements, were most of the time a
write held the lock (docs/performance.md). So writers of one process take *turns* on one open
transaction, each in its own ``SAVEPOINT``:

- A unit of work waits for its turn (FIFO), starts ``BEGIN IMMEDIATE`` if no group is open, and
  runs inside ``SAVEPOINT``. Its rollback is ``ROLLBACK TO`` that savepoint and touches nobody
  else's work; its commit is ``RELEASE``.
- When it is done and another writer is waiting, the turn passes on and the group stays open;
  when nobody waits (or the group has :data:`MAX_MEMBERS`), the holder commits the group, one
  ``fsync`` for all of them, and every member's ``commit()`` returns. If that COMMIT fails, every
  member's ``commit()`` raises: nothing is reported done that is not on disk.

A member's ``commit()`` therefore returns only after its work is durable, exactly as before; what
changes is that writers arriving during one ``fsync`` are committed together by the next.
Writers in other processes (``tocsin worker``, the CLI) wait for the group's COMMIT as they
waited for any other writer. PostgreSQL, whose writers run in parallel, does not use this.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.storage.direct import writing_sqlite

MAX_MEMBERS = 32


class Savepoint:
    """One member's savepoint, issued on the driver: members hold the turn one at a time, so
    one fixed name serves (SQLAlchemy's ``begin_nested`` compiled a fresh name for each)."""

    def __init__(self, conn: AsyncConnection) -> None:
        raw = writing_sqlite(conn)
        if raw is None:
            raise RuntimeError("a group member needs the group's open SQLite write transaction")
        self._raw = raw
        raw.execute("SAVEPOINT member")

    async def commit(self) -> None:
        self._raw.execute("RELEASE SAVEPOINT member")

    async def rollback(self) -> None:
        self._raw.execute("ROLLBACK TO SAVEPOINT member")
        self._raw.execute("RELEASE SAVEPOINT member")


@dataclass
class _Group:
    conn: AsyncConnection
    done: asyncio.Future[None]
    members: int = 0
    failed: BaseException | None = None


class GroupCommit:
    """The turns and the open group of one database in one event loop."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[AsyncConnection]],
        observe: Callable[[int, float], None] | None = None,
    ) -> None:
        self._connect = connect
        self._observe = observe  # (members, seconds the COMMIT took), after each success
        self._busy = False
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._group: _Group | None = None
        self._closing: set[asyncio.Task[None]] = set()

    async def enter(self, patience: float) -> tuple[_Group, Savepoint]:
        """Wait for the turn; return the open group and a savepoint in it."""
        await self._take_turn(patience)
        try:
            group = self._group
            if group is None:
                conn = await self._connect()
                try:
                    await conn.begin()
                except BaseException:
                    await conn.close()
                    raise
                group = self._group = _Group(conn, asyncio.get_running_loop().create_future())
            return group, Savepoint(group.conn)
        except BaseException as error:
            await self._leave(failed=error)
            raise

    async def commit(self, group: _Group, savepoint: Savepoint) -> None:
        """Release the savepoint, pass the turn on, return once the group is on disk."""
        try:
            await savepoint.commit()
        except BaseException as error:
            await self._leave(failed=error)
            raise
        group.members += 1
        await self._leave()
        await asyncio.shield(group.done)

    async def rollback(self, group: _Group, savepoint: Savepoint) -> None:
        """Undo this member's work only, and pass the turn on."""
        try:
            await savepoint.rollback()
        except BaseException as error:
            await self._leave(failed=error)
            raise
        await self._leave()

    async def _leave(self, failed: BaseException | None = None) -> None:
        """End this turn: hand it to the next writer with the group still open, or commit the
        group first if nobody waits, it is full, or it cannot go on."""
        group = self._group
        if group is not None and failed is not None:
            group.failed = group.failed or failed
        closing = group is not None and (
            group.failed is not None or group.members >= MAX_MEMBERS or not self._live_waiters()
        )
        if not closing:
            self._pass_turn()
            return
        # The COMMIT runs in a task of its own that a cancelled member cannot interrupt: the
        # members learn its real outcome, and the turn passes on only once it is over.
        task = asyncio.get_running_loop().create_task(self._close_group())
        self._closing.add(task)
        task.add_done_callback(self._closed)
        await asyncio.shield(task)

    def _closed(self, task: asyncio.Task[None]) -> None:
        self._closing.discard(task)
        self._pass_turn()

    async def _close_group(self) -> None:
        group, self._group = self._group, None
        if group is None:
            return
        try:
            if group.failed is not None:
                raise group.failed
            started = time.perf_counter()
            await group.conn.commit()
            if self._observe is not None:
                self._observe(group.members, time.perf_counter() - started)
        except BaseException as error:
            if not group.done.done():
                told = error if isinstance(error, Exception) else RuntimeError("commit interrupted")
                group.done.set_exception(told)
                group.done.exception()  # retrieved: a group without members has no one to tell
            with contextlib.suppress(Exception):  # the connection is going away anyway
                await group.conn.rollback()
            if not isinstance(error, Exception):
                raise  # cancelled: the members were told, the cancellation goes on
        else:
            group.done.set_result(None)
        finally:
            await group.conn.close()

    # -- turns: a FIFO lock whose holder hands over directly --------------------------------

    def _live_waiters(self) -> bool:
        return any(not f.done() for f in self._waiting)

    async def _take_turn(self, patience: float) -> None:
        if not self._busy and not self._live_waiters():
            self._busy = True
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            async with asyncio.timeout(patience):
                await turn
        except BaseException:
            if turn.done() and not turn.cancelled():
                self._give_back()  # handed to us as we gave up: pass it on, close if need be
            else:
                turn.cancel()
            raise

    def _pass_turn(self) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._busy = False

    def _give_back(self) -> None:
        """A turn handed to a task that is being cancelled: end it like any other, in a task
        of its own (the group may need committing)."""
        task = asyncio.get_running_loop().create_task(self._leave())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
