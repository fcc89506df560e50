"""Timers as data: the handler registry and the runner that fires due timers.

Other features schedule and cancel timers through :class:`~tocsin.storage.timers.TimerStore`
on their own unit of work (``uow.timers``), in the same transaction as the change that makes
the timer (un)necessary. Resolving an incident calls ``cancel_for_incident(number, kinds)``.

A handler is ``async def handler(timer: Timer, tx: TimerContext) -> None``, registered by kind.
It runs inside the transaction that marks the timer fired, so everything it writes (outbox rows
for a reminder message, the next timer of a recurring reminder, an escalation) commits together
with the firing, or not at all: a timer fires once across replicas and after a crash it fires
again because it never committed. Handlers must only touch the database; anything outside goes
through the outbox. A handler that raises is retried with backoff and given up (state
``failed``, with the error) after ``max_attempts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from tocsin.clock import utcnow
from tocsin.delivery.wake import Wakeup, wait
from tocsin.observability.metrics import Metrics
from tocsin.storage.db import Database
from tocsin.storage.timers import Timer, TimerStore
from tocsin.storage.uow import UnitOfWork

log = structlog.get_logger("tocsin.timers")


@dataclass(frozen=True, slots=True)
class TimerContext:
    """What a handler gets besides its timer: the open transaction and the time of firing."""

    uow: UnitOfWork
    timers: TimerStore
    now: datetime


Handler = Callable[[Timer, TimerContext], Awaitable[None]]


class TimerHandlers:
    """Handlers by timer kind. Kinds without a handler are left pending, never dropped."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, kind: str, handler: Handler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for timer kind {kind!r} is already registered")
        self._handlers[kind] = handler

    def handler(self, kind: str) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`register`."""

        def decorate(func: Handler) -> Handler:
            self.register(kind, func)
            return func

        return decorate

    def get(self, kind: str) -> Handler | None:
        return self._handlers.get(kind)

    @property
    def kinds(self) -> list[str]:
        return sorted(self._handlers)

    def __iter__(self) -> Iterator[str]:
        return iter(self.kinds)


class TimerRunner:
    def __init__(
        self,
        db: Database,
        handlers: TimerHandlers,
        wakeup: Wakeup,
        *,
        worker_id: str,
        metrics: Metrics | None = None,
        poll: float = 0.5,
        max_attempts: int = 10,
        retry_base: float = 5.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.handlers = handlers
        self.wakeup = wakeup
        self.worker_id = worker_id
        self.metrics = metrics
        self.poll = poll
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self.clock = clock
        self._event = wakeup.subscribe()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="tocsin-timers")

    async def stop(self) -> None:
        """Stop after the timer being fired (if any) commits or rolls back."""
        self._stopping = True
        self._event.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.wakeup.unsubscribe(self._event)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                timeout = await self._round()
            except Exception as exc:  # noqa: BLE001 - keep the loop alive through outages
                log.warning("timer round failed", error=str(exc))
                timeout = max(self.poll, 1.0)
            await wait(self._event, timeout)

    async def _round(self) -> float:
        kinds = self.handlers.kinds
        if not kinds:
            return self.poll
        async with UnitOfWork(self.db, read_only=True) as uow:
            due = await uow.timers.next_due(kinds)
        now = self.clock()
        if due is None or due > now:
            return self.poll if due is None else min(self.poll, (due - now).total_seconds())
        await self.fire_due()
        return 0.0

    async def fire_due(self) -> int:
        """Fire every timer due now, one transaction each; how many fired (or failed)."""
        fired = 0
        while not self._stopping and await self._fire_one():
            fired += 1
        return fired

    async def _fire_one(self) -> bool:
        kinds = self.handlers.kinds
        failure: Exception | None = None
        async with UnitOfWork(self.db) as uow:
            store = uow.timers
            now = self.clock()
            timer = await store.claim_due(kinds, now, self.worker_id)
            if timer is None:
                return False
            handler = self.handlers.get(timer.kind)
            assert handler is not None  # claim_due only returns kinds we handle
            try:
                await handler(timer, TimerContext(uow, store, now))
            except Exception as exc:  # noqa: BLE001 - a failing handler is retried, not fatal
                await uow.rollback()
                failure = exc
            else:
                await uow.commit()
        if failure is not None:  # recorded in a transaction of its own, after the rollback
            await self._failed(timer, failure)
            return True
        if self.metrics is not None:
            self.metrics.timers_fired_total.labels(timer.kind).inc()
        log.info("timer fired", key=timer.key, kind=timer.kind, incident=timer.incident)
        self.wakeup.notify()  # the handler may have queued deliveries or timers
        return True

    async def _failed(self, timer: Timer, exc: Exception) -> None:
        attempt = timer.attempts + 1
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        retry_at: datetime | None = None
        if attempt < self.max_attempts:
            delay = random.random() * min(3600.0, self.retry_base * 2 ** (attempt - 1))
            retry_at = self.clock() + timedelta(seconds=delay)
        async with UnitOfWork(self.db) as uow:
            await uow.timers.failed(timer.id, error, retry_at)
            await uow.commit()
        log.error(
            "timer handler failed",
            key=timer.key,
            kind=timer.kind,
            attempt=attempt,
            gave_up=retry_at is None,
            error=error,
            exc_info=exc,
        )
