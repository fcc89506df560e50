"""The checker: every monitor (the policy's and the stored ones,
:mod:`~tocsin.services.monitor_catalog`) checked on its interval, by one process at a time.

Each monitor has a durable timer (kind :data:`CHECK_TIMER`, key ``monitor:<name>``,
:mod:`.timer`) in the timers table the delivery timers use. A round claims the due ones
(``claim_due``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, serialised on SQLite) and re-arms each
for its next interval in the same short transaction, then commits; only then are the checks
made, concurrently and outside any unit of work. So two replicas never check a monitor twice in
one interval, and after a restart the checks resume at the stored due times. Each result is
recorded in one short unit of work (:func:`record`) that stores it, advances the state machine
and, when the status changes, routes the alert batch like any alert
(:meth:`AlertProcessor.route_batch`) and sets the monitor's status-page component. First due
times are spread over the interval with a jitter derived from the name, so monitors do not all
start at once.

Monitors added or deleted through the API or the CLI are picked up without a restart: each round
reads a marker of the stored definitions (:meth:`definitions_marker`) and reloads them when it
moved, and once more when a claimed timer names a monitor it does not know. A timer whose
monitor is gone is deleted, and the reload drops the gone monitor's metric series
(:meth:`~tocsin.observability.metrics.Metrics.forget_monitor`). A paused monitor's timer is
cancelled by the pause (a claimed one is not re-armed), so it costs nothing until it is
resumed. Restricted monitors are probed under
the context's :class:`~tocsin.services.address_guard.AddressGuard`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import structlog

from tocsin.domain.monitors import Monitor, MonitorStatus, evaluate
from tocsin.observability.metrics import Metrics
from tocsin.services.alerts.process import AlertProcessor
from tocsin.services.context import Context
from tocsin.services.monitor_catalog import stored_monitors
from tocsin.services.monitors.probe import probe
from tocsin.services.monitors.record import record
from tocsin.services.monitors.retention import arm_retention
from tocsin.services.monitors.timer import CHECK_TIMER, PREFIX, arm_check, jitter, timer_key
from tocsin.services.ports import UnitOfWork

__all__ = ["CHECK_TIMER", "CLAIM_BATCH", "MonitorChecker", "jitter", "timer_key"]

log = structlog.get_logger("tocsin.monitors")

CLAIM_BATCH = 100  # monitor timers claimed per transaction


@dataclass
class MonitorChecker:
    """Checks the monitors of ``ctx.policy`` and the stored ones; :meth:`run_once` is one round
    (tests call it with an injected clock), :meth:`start` runs rounds until :meth:`stop`."""

    ctx: Context
    worker_id: str
    metrics: Metrics | None = None
    client: httpx.AsyncClient | None = None
    poll: float = 1.0
    concurrency: int = 200
    clock: Callable[[], datetime] | None = None
    counter: Callable[[], float] = time.perf_counter
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _marker: tuple[int, int] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.processor = AlertProcessor(self.ctx, self.metrics)
        self.monitors = {m.name: m for m in self.ctx.policy.monitors}
        self._limit = asyncio.Semaphore(self.concurrency)

    def now(self) -> datetime:
        return (self.clock or self.ctx.clock)()

    async def _refresh(self, uow: UnitOfWork, *, force: bool = False) -> None:
        """Reload the stored definitions when their marker moved (or ``force``)."""
        marker = await uow.monitors.definitions_marker()
        if marker == self._marker and not force:
            return
        stored = stored_monitors(self.ctx, await uow.monitors.definitions())
        monitors = {m.name: m for m in (*self.ctx.policy.monitors, *stored)}
        if self.metrics is not None:  # a deleted monitor's series are exported no more
            for gone in self.monitors.keys() - monitors.keys():
                self.metrics.forget_monitor(gone)
        self.monitors = monitors
        self._marker = marker

    async def arm(self) -> None:
        """Give every monitor a timer if it has none (a restart keeps its time; a paused one
        keeps its timer cancelled)."""
        now = self.now()
        async with self.ctx.uow() as uow:
            await self._refresh(uow)
            for monitor in self.monitors.values():
                await arm_check(uow, monitor, now)
            await arm_retention(uow, now)
            await uow.commit()

    async def run_once(self) -> int:
        """Claim the due monitors, check them outside any transaction, record each; how many."""
        due = await self._claim()
        client = self.client or httpx.AsyncClient(verify=True, follow_redirects=False)
        try:
            await asyncio.gather(*(self._check(client, monitor) for monitor in due))
        finally:
            if self.client is None:
                await client.aclose()
        return len(due)

    async def _claim(self) -> list[Monitor]:
        now = self.now()
        claimed: list[Monitor] = []
        async with self.ctx.uow() as uow:
            timers = uow.timers
            await self._refresh(uow)
            states = await uow.monitors.states()
            for _ in range(CLAIM_BATCH):
                timer = await timers.claim_due([CHECK_TIMER], now, self.worker_id)
                if timer is None:
                    break
                name = timer.key.removeprefix(PREFIX)
                if name not in self.monitors:  # added since the marker was read, or gone
                    await self._refresh(uow, force=True)
                monitor = self.monitors.get(name)
                if monitor is None:  # deleted, or no longer in the policy
                    await timers.delete(timer.key)
                    continue
                state = states.get(monitor.name)
                if state is not None and state.status is MonitorStatus.PAUSED:
                    continue  # left fired: resuming re-arms it
                step = timedelta(seconds=monitor.interval_seconds)
                due = max(timer.due_at + step, now + step / 2)
                await timers.schedule(timer.key, CHECK_TIMER, due, replace=True)
                claimed.append(monitor)
            await uow.commit()
        return claimed

    async def _check(self, client: httpx.AsyncClient, monitor: Monitor) -> None:
        try:
            async with self._limit:
                seen = await probe(monitor, client, self.now, self.counter, self.ctx.address_guard)
            outcome = evaluate(monitor, seen)
            await record(self.ctx, self.processor, monitor, outcome, self.metrics)
        except Exception as exc:  # noqa: BLE001 - one monitor's failure must not stop the round
            log.warning("monitor check not recorded", monitor=monitor.name, error=str(exc))

    async def next_due(self) -> datetime | None:
        async with self.ctx.uow(read_only=True) as uow:
            return await uow.timers.next_due([CHECK_TIMER])

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="tocsin-monitors")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        await self.arm()
        while not self._stopping.is_set():
            try:
                due = await self.next_due()  # a read: an idle checker writes nothing
                if due is not None and due <= self.now():
                    await self.run_once()
                    due = await self.next_due()
            except Exception as exc:  # noqa: BLE001 - keep checking through outages
                log.warning("monitor round failed", error=str(exc))
                due = None
            wait_for = self.poll
            if due is not None:
                wait_for = min(self.poll, max(0.0, (due - self.now()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), wait_for)
