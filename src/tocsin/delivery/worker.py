"""The outbox worker for one destination: claim due rows, send them, record what happened.

One loop per destination. Each round it reads when the next row is due (a read that never blocks
writers), claims up to ``concurrency`` rows that head their ordering queue (see
:mod:`tocsin.storage.outbox`), and starts one task per row: pace, send through the
destination's :class:`~tocsin.delivery.base.Sender`, then record the outcome in its own
transaction (delivered with remote ids and refs / retry later / dead). A finished task wakes the
loop, because it may have unblocked the next row of its queue.

Stopping: :meth:`DestinationWorker.stop` stops claiming, lets running deliveries finish within a
timeout, cancels the rest and hands their rows back to pending (``maybe_sent`` when the request
had gone out), so nothing waits for a lease to expire after a clean shutdown.

Crashes: a claim lasts only ``3 * heartbeat`` seconds; the delivery service renews the claims of
the rows this worker is working on every ``heartbeat`` (:meth:`DestinationWorker.held`), up to
``lease`` seconds per row. A worker killed mid-delivery stops renewing, so its rows are free
again a few seconds later instead of after the whole lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from tocsin.clock import utcnow
from tocsin.delivery.base import Delivery, RetryableError, Sender, Sent, Skip
from tocsin.delivery.breaker import CircuitBreaker
from tocsin.delivery.errors import classify
from tocsin.delivery.pacing import Pacer
from tocsin.delivery.retry import RetryPolicy
from tocsin.delivery.wake import Wakeup, wait
from tocsin.observability.metrics import Metrics
from tocsin.storage.db import Database
from tocsin.storage.outbox import OutboxRow
from tocsin.storage.uow import UnitOfWork

log = structlog.get_logger("tocsin.delivery")


@dataclass(frozen=True)
class WorkerConfig:
    worker_id: str
    lease: float = 60.0  # the longest a claim is renewed for one row
    concurrency: int = 8  # deliveries in flight per destination
    poll: float = 0.5  # seconds between looks for due work when nothing wakes the loop
    send_timeout: float = 30.0  # one attempt may take this long (must stay under ``lease``)
    clock: Callable[[], datetime] = field(default=utcnow)
    heartbeat: float = 5.0  # seconds between renewals of the claims this worker holds

    @property
    def claim_for(self) -> float:
        """Seconds a claim (or its renewal) lasts: three missed heartbeats, at most the lease."""
        return min(self.lease, 3 * self.heartbeat)


class MappingRefs:
    """:class:`~tocsin.delivery.base.RemoteRefs` over a dict loaded before the send."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)

    def get(self, name: str) -> str | None:
        return self.values.get(name)


def to_delivery(row: OutboxRow) -> Delivery:
    return Delivery(
        id=row.id,
        incident=row.incident,
        destination=row.destination,
        kind=row.kind,
        payload=row.payload,
        idempotency_key=row.idempotency_key,
        attempts=row.attempts,
        remote_ids=row.remote_ids,
        maybe_sent=row.maybe_sent,
    )


class DestinationWorker:
    def __init__(
        self,
        db: Database,
        sender: Sender,
        config: WorkerConfig,
        *,
        retry: RetryPolicy,
        breaker: CircuitBreaker,
        pacer: Pacer,
        wakeup: Wakeup,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.sender = sender
        self.destination = sender.destination
        self.config = config
        self.retry = retry
        self.breaker = breaker
        self.pacer = pacer
        self.wakeup = wakeup
        self.metrics = metrics
        self._event = wakeup.subscribe()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._sending: set[int] = set()
        self._claimed_at: dict[int, datetime] = {}  # row id -> when it was claimed
        self._stopping = False
        self._idle = True
        self._loop: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name=f"tocsin-outbox-{self.destination}")

    async def _run(self) -> None:
        while not self._stopping:
            try:
                timeout = await self._round()
            except Exception as exc:  # noqa: BLE001 - the database may be away; keep going
                log.warning("outbox round failed", destination=self.destination, error=str(exc))
                timeout = max(self.config.poll, 1.0)
            await wait(self._event, timeout)

    async def _round(self) -> float:
        """Start what may start now; return the seconds until the next look."""
        poll = self.config.poll
        while not self._stopping:
            permits = self.breaker.permits()
            free = self.config.concurrency - len(self._tasks)
            limit = free if permits is None else min(free, permits)
            if permits == 0:
                return min(poll, self.breaker.seconds_until_probe() or poll)
            if limit <= 0:
                return poll  # a finishing task wakes the loop
            now = self.config.clock()
            if self._idle:  # a read first, so an idle worker never takes the write lock
                due = await self._next_due()
                if due is None or due > now:
                    return poll if due is None else min(poll, (due - now).total_seconds())
            rows, refs = await self._claim(now, limit)
            if not rows:  # nothing claimable: look again via the read (another worker may
                was_idle, self._idle = self._idle, True  # hold them, or they wait for a retry)
                return min(poll, 0.05) if was_idle else 0.0
            self._idle = False
            for row in rows:
                task = self._deliver(row, refs.get(row.incident, {}))
                self._tasks[row.id] = asyncio.create_task(task)
                self._claimed_at[row.id] = now
        return 0.0

    def held(self) -> list[int]:
        """The rows this worker is working on whose claim may still be renewed (held for less
        than the lease): what the service's heartbeat renews."""
        oldest = self.config.clock() - timedelta(seconds=self.config.lease)
        return [row_id for row_id, at in self._claimed_at.items() if at > oldest]

    async def _next_due(self) -> datetime | None:
        async with UnitOfWork(self.db, read_only=True) as uow:
            store = uow.outbox
            return await store.next_due(self.destination)

    async def _claim(
        self, now: datetime, limit: int
    ) -> tuple[list[OutboxRow], dict[int | None, dict[str, str]]]:
        """Claim rows, with the refs of their incidents as of now: the rows before them in
        their queue are done, so what they created is already stored."""
        async with UnitOfWork(self.db) as uow:
            store = uow.outbox
            rows = await store.claim(
                self.destination, self.config.worker_id, now, self.config.claim_for, limit
            )
            refs = {n: await store.refs(n, self.destination) for n in {r.incident for r in rows}}
            await uow.commit()
        return rows, refs

    async def _deliver(self, row: OutboxRow, refs: dict[str, str]) -> None:
        try:
            await self._attempt(row, refs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # recording failed; the claim runs out and the row comes back
            log.error("could not record a delivery", id=row.id, error=str(exc), exc_info=exc)
        finally:
            self._tasks.pop(row.id, None)
            self._claimed_at.pop(row.id, None)
            self._sending.discard(row.id)
            self._idle = False  # the next row of its queue may be claimable now
            self._event.set()

    async def _attempt(self, row: OutboxRow, refs: dict[str, str]) -> None:
        if self.retry.too_old(row.age_from, self.config.clock()):
            await self._dead(row, self.retry.expired_reason(), attempted=False)
            return
        delivery = to_delivery(row)
        await self.pacer.acquire(delivery)
        self.breaker.started()
        self._sending.add(row.id)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.config.send_timeout):
                sent = await self.sender.send(delivery, MappingRefs(refs))
        except Skip as skip:
            await self._delivered(row, Sent(), note=f"skipped: {skip}")
        except Exception as exc:  # noqa: BLE001 - every failure is classified
            await self._failed(row, delivery, exc)
        else:
            await self._delivered(row, sent)
        finally:
            if self.metrics is not None:
                self.metrics.delivery_duration_seconds.labels(self.destination).observe(
                    time.perf_counter() - started
                )

    async def _delivered(self, row: OutboxRow, sent: Sent, note: str | None = None) -> None:
        self.breaker.record_success()
        async with UnitOfWork(self.db) as uow:
            store = uow.outbox
            now = self.config.clock()
            first = await store.delivered(row.id, now, sent.remote_ids, note)
            if sent.refs and row.incident is not None:
                await store.save_refs(row.incident, self.destination, sent.refs)
            if first and sent.follow_ups:  # e.g. archive the channel some hours after resolve
                await uow.outbox.add(sent.follow_ups, now)
            await uow.commit()
        self._count("delivered")
        log.debug("delivered", id=row.id, destination=self.destination, kind=row.kind)

    async def _failed(self, row: OutboxRow, delivery: Delivery, exc: Exception) -> None:
        error = classify(exc, self.destination)
        if type(error) is not type(exc) and not isinstance(exc, TimeoutError):
            log.debug("sender raised", id=row.id, exc_info=exc)
        if isinstance(error, RetryableError) and error.retry_after is not None:
            self.pacer.pause(delivery, error.retry_after)  # rate limited: it is up, slow down
            self.breaker.abandoned()
        elif isinstance(error, RetryableError):
            self.breaker.record_failure(str(error))
        else:
            self.breaker.record_success()  # it answered; the request was wrong
        now = self.config.clock()
        decision = self.retry.decide(error, row.attempts, row.age_from, now)
        if not decision.retry or decision.at is None:
            await self._dead(row, decision.reason)
            return
        async with UnitOfWork(self.db) as uow:
            await uow.outbox.retry_later(
                row.id, self.config.worker_id, decision.at, decision.reason,
                maybe_sent=decision.maybe_sent,
            )  # fmt: skip
            await uow.commit()
        self._count("retry")
        log.info(
            "delivery will be retried",
            id=row.id,
            destination=self.destination,
            attempt=row.attempts + 1,
            error=decision.reason,
            in_seconds=round((decision.at - now).total_seconds(), 2),
        )

    async def _dead(self, row: OutboxRow, reason: str, *, attempted: bool = True) -> None:
        async with UnitOfWork(self.db) as uow:
            await uow.outbox.dead(row.id, self.config.worker_id, reason, attempted=attempted)
            await uow.commit()
        self._count("dead")
        log.warning("delivery is dead", id=row.id, destination=self.destination, reason=reason)

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.deliveries_total.labels(self.destination, outcome).inc()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def stop(self, grace: float) -> int:
        """Stop claiming, finish within ``grace`` seconds, release the rest; how many were."""
        self._stopping = True
        self._event.set()
        if self._loop is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        self.wakeup.unsubscribe(self._event)
        tasks = dict(self._tasks)
        if tasks:
            await asyncio.wait(tasks.values(), timeout=grace)
        unfinished = [row_id for row_id, task in tasks.items() if not task.done()]
        sending = [row_id for row_id in unfinished if row_id in self._sending]
        for row_id in unfinished:
            tasks[row_id].cancel()
        await asyncio.gather(*(tasks[i] for i in unfinished), return_exceptions=True)
        if unfinished:
            self.breaker.abandoned()
            await self._release(unfinished, sending)
        return len(unfinished)

    async def _release(self, unfinished: list[int], sending: list[int]) -> None:
        async with UnitOfWork(self.db) as uow:
            store = uow.outbox
            waiting = [i for i in unfinished if i not in sending]
            await store.release(self.config.worker_id, sending, maybe_sent=True)
            await store.release(self.config.worker_id, waiting, maybe_sent=False)
            await uow.commit()
        log.info(
            "released unfinished deliveries", destination=self.destination, count=len(unfinished)
        )
