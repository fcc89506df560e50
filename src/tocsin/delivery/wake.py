"""Waking the workers within a second of new work.

- In the same process: the services call :meth:`Wakeup.notify` after every commit (the
  ``Context.on_commit`` hook), which wakes every worker loop at once.
- Across processes on PostgreSQL: an ``AFTER INSERT`` trigger on ``outbox`` and ``timers``
  (migration 0002) sends ``NOTIFY tocsin_wake``; :class:`PostgresListener` holds one asyncpg
  connection that LISTENs and calls ``notify``. So a CLI command or another replica's commit
  wakes this process's workers immediately.
- Across processes on SQLite there is no notification channel: the workers look for due work
  every 0.5 s (one cheap read), so new rows written by the CLI wait at most half a second.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import sqlalchemy as sa
import structlog

log = structlog.get_logger("tocsin.delivery")

CHANNEL = "tocsin_wake"


class Wakeup:
    """A broadcast signal: every subscriber's event is set on :meth:`notify`."""

    def __init__(self) -> None:
        self._events: set[asyncio.Event] = set()

    def subscribe(self) -> asyncio.Event:
        event = asyncio.Event()
        self._events.add(event)
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        self._events.discard(event)

    def notify(self, *_args: Any) -> None:
        for event in self._events:
            event.set()


async def wait(event: asyncio.Event, seconds: float) -> None:
    """Wait for ``event`` or ``seconds``, then clear it."""
    if not event.is_set() and seconds > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
    event.clear()


def asyncpg_dsn(url: str) -> str:
    """The plain ``postgresql://`` DSN asyncpg wants, from a SQLAlchemy URL."""
    parsed = sa.engine.make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


class PostgresListener:
    """LISTEN on ``tocsin_wake`` and relay notifications to a :class:`Wakeup`; reconnects."""

    def __init__(self, url: str, wakeup: Wakeup, retry_seconds: float = 2.0) -> None:
        self.dsn = asyncpg_dsn(url)
        self.wakeup = wakeup
        self.retry_seconds = retry_seconds
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="tocsin-pg-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        import asyncpg  # type: ignore[import-untyped]  # only with PostgreSQL

        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self.dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self.wakeup.notify)
                self.connected.set()
                self.wakeup.notify()  # catch up on anything queued while not listening
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep listening through outages
                log.warning("notification listener lost", error=str(exc).splitlines()[0:1])
            finally:
                self.connected.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2.0)
            await asyncio.sleep(self.retry_seconds)
