"""The delivery service: every destination's worker, the timer runner, the wake-up listener and
the queue metrics, started and stopped together.

The same code runs inside ``tocsin serve`` (as a lifespan starter) and alone as ``tocsin worker``
(:func:`tocsin.app.worker_main`); the composition root (:mod:`tocsin.app`) passes in the senders
and the timer handlers, so this package knows no platform and no service. Stopping stops
claiming, lets in-flight deliveries finish within TOCSIN_SHUTDOWN_TIMEOUT and hands the rest back
to pending.

After a crash nothing waits for a lease: every ``heartbeat`` seconds the service renews the
claims its workers hold (see :mod:`tocsin.delivery.worker`), so a dead process's claims run out
after three missed beats and the surviving or restarted workers take them; on SQLite, where one
process delivers, starting takes back at once the rows of a holder whose process is gone
(:mod:`tocsin.delivery.holders`). Either way the rows come back marked ``maybe_sent``, so
senders look up what the dead process may have done first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from tocsin.clock import utcnow
from tocsin.config import Settings
from tocsin.delivery import holders
from tocsin.delivery.base import Sender
from tocsin.delivery.breaker import CircuitBreaker
from tocsin.delivery.pacing import Pacer, Rule
from tocsin.delivery.retry import RetryPolicy
from tocsin.delivery.timers import TimerHandlers, TimerRunner
from tocsin.delivery.wake import PostgresListener, Wakeup
from tocsin.delivery.worker import DestinationWorker, WorkerConfig
from tocsin.observability import metrics as m
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork

log = structlog.get_logger("tocsin.delivery")

Check = Callable[[], Awaitable[str | None]]
_GAUGE = {"closed": m.CIRCUIT_CLOSED, "half-open": m.CIRCUIT_HALF_OPEN, "open": m.CIRCUIT_OPEN}


@dataclass(frozen=True)
class DeliveryConfig:
    worker_id: str = field(default_factory=holders.new_worker_id)
    lease: float = 60.0
    heartbeat: float = 5.0
    concurrency: int = 8
    poll: float = 0.5
    send_timeout: float = 30.0
    shutdown_timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker_threshold: int = 5
    breaker_open_seconds: float = 5.0  # doubles while probes fail, up to 60 s
    stats_interval: float = 5.0
    pacing: Mapping[str, Rule] | None = None  # None: the platforms' published limits
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> DeliveryConfig:
        """SQLite polls every 0.5 s for rows other processes wrote; PostgreSQL is notified and
        only polls every 2 s as a safety net."""
        return cls(
            lease=settings.delivery_lease,
            heartbeat=settings.delivery_heartbeat,
            send_timeout=min(30.0, settings.delivery_lease / 2),
            shutdown_timeout=settings.shutdown_timeout,
            poll=0.5 if db.is_sqlite else 2.0,
            retry=RetryPolicy(
                max_attempts=settings.delivery_max_attempts, max_age=settings.delivery_max_age
            ),
        )

    def worker(self) -> WorkerConfig:
        return WorkerConfig(
            worker_id=self.worker_id,
            lease=self.lease,
            heartbeat=self.heartbeat,
            concurrency=self.concurrency,
            poll=self.poll,
            send_timeout=self.send_timeout,
            clock=self.clock,
        )


class DeliveryService:
    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        *,
        config: DeliveryConfig | None = None,
        metrics: m.Metrics | None = None,
        timer_handlers: TimerHandlers | None = None,
    ) -> None:
        self.db = db
        self.senders = dict(senders)
        self.config = config = config or DeliveryConfig()
        self.metrics = metrics
        self.wakeup = Wakeup()
        self.pacer = Pacer(config.pacing)
        self.breakers = {
            name: CircuitBreaker(
                name,
                threshold=config.breaker_threshold,
                open_seconds=config.breaker_open_seconds,
                on_change=self._breaker_changed,
            )
            for name in self.senders
        }
        self.workers = {
            name: DestinationWorker(
                db,
                sender,
                config.worker(),
                retry=config.retry,
                breaker=self.breakers[name],
                pacer=self.pacer,
                wakeup=self.wakeup,
                metrics=metrics,
            )
            for name, sender in self.senders.items()
        }
        self.timers = TimerRunner(
            db,
            timer_handlers or TimerHandlers(),
            self.wakeup,
            worker_id=config.worker_id,
            metrics=metrics,
            poll=config.poll,
            clock=config.clock,
        )
        self.listener = PostgresListener(db.url, self.wakeup) if not db.is_sqlite else None
        self._stats_task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._seen: set[str] = set()

    def wake(self) -> None:
        """New work was committed in this process: look now."""
        self.wakeup.notify()

    async def start(self) -> Callable[[], Awaitable[None]]:
        """Start everything; returns :meth:`stop` (the shape of a web app starter)."""
        for name in self.senders:
            self._breaker_changed(name, "closed")
        holders.RUNNING.add(self.config.worker_id)
        if self.db.is_sqlite:
            await self._take_back_orphans()
        if self.listener is not None:
            self.listener.start()
        for worker in self.workers.values():
            worker.start()
        self.timers.start()
        self._heartbeat_task = asyncio.create_task(self._heartbeat_loop(), name="tocsin-beat")
        if self.metrics is not None:
            self._stats_task = asyncio.create_task(self._stats_loop(), name="tocsin-outbox-stats")
        log.info(
            "delivery workers started",
            destinations=sorted(self.senders),
            timer_kinds=self.timers.handlers.kinds,
            worker_id=self.config.worker_id,
        )
        return self.stop

    async def stop(self) -> None:
        """Stop claiming, finish in-flight work within the shutdown timeout, release the rest."""
        timeout = self.config.shutdown_timeout
        released = await asyncio.gather(
            *(w.stop(timeout) for w in self.workers.values()), self.timers.stop()
        )
        for task in (self._stats_task, self._heartbeat_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.listener is not None:
            await self.listener.stop()
        holders.RUNNING.discard(self.config.worker_id)
        for sender in self.senders.values():
            with contextlib.suppress(Exception):
                await sender.aclose()
        log.info("delivery workers stopped", released=sum(r or 0 for r in released))

    async def _take_back_orphans(self) -> None:
        """SQLite has one delivering process: rows in flight whose holder is gone come back."""
        try:
            async with UnitOfWork(self.db) as uow:
                store = uow.outbox
                gone = [worker for worker in await store.holders() if holders.is_gone(worker)]
                count = await store.release_orphans(gone)
                await uow.commit()
        except Exception as exc:  # noqa: BLE001 - not migrated yet: their claims run out soon
            log.warning("could not take back deliveries left in flight", error=str(exc))
            return
        if count:
            log.warning("took back deliveries a stopped process held", count=count)

    async def heartbeat(self) -> int:
        """Renew the claims of the rows the workers are working on; how many were renewed."""
        held = [row_id for worker in self.workers.values() for row_id in worker.held()]
        if not held:
            return 0
        until = self.config.clock() + timedelta(seconds=self.config.worker().claim_for)
        async with UnitOfWork(self.db) as uow:
            count = await uow.outbox.renew(self.config.worker_id, held, until)
            await uow.commit()
        return count

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat)
            try:
                await self.heartbeat()
            except Exception as exc:  # noqa: BLE001 - the database may be away; keep beating
                log.warning("delivery heartbeat failed", error=str(exc))

    def soft_checks(self) -> dict[str, Check]:
        """One ``/health`` soft check per destination: its circuit breaker's state."""

        def check_for(breaker: CircuitBreaker) -> Check:
            async def check() -> str | None:
                return breaker.problem()

            return check

        return {f"delivery_{name}": check_for(b) for name, b in self.breakers.items()}

    def _breaker_changed(self, destination: str, state: str) -> None:
        if state != "closed" or destination in self.breakers:
            log.info("circuit breaker", destination=destination, state=state)
        if self.metrics is not None:
            self.metrics.circuit_breaker_state.labels(destination).set(_GAUGE[state])

    async def refresh_stats(self) -> None:
        """Queue depth and oldest waiting row per destination, into the gauges."""
        if self.metrics is None:
            return
        async with UnitOfWork(self.db, read_only=True) as uow:
            stats = await uow.outbox.stats()
        now = self.config.clock()
        for destination in self._seen | set(stats) | set(self.senders):
            count, oldest = stats.get(destination, (0, None))
            age = (now - oldest).total_seconds() if oldest is not None else 0.0
            self.metrics.outbox_pending.labels(destination).set(count)
            self.metrics.outbox_oldest_pending_seconds.labels(destination).set(max(age, 0.0))
        self._seen |= set(stats)

    async def _stats_loop(self) -> None:
        while True:
            try:
                await self.refresh_stats()
            except Exception as exc:  # noqa: BLE001 - metrics must not stop delivery
                log.warning("outbox metrics refresh failed", error=str(exc))
            await asyncio.sleep(self.config.stats_interval)
