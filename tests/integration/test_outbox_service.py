"""The delivery service as a whole: the circuit breaker in /health and metrics, queue gauges,
and two workers (two replicas) sharing one database, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from fakes.delivery_kit import (
    all_delivered,
    all_rows,
    burst,
    effect,
    enqueue,
    eventually,
    now,
    per_incident,
    service,
    sink_on,
)
from fakes.http_fake import FakeServer, Reply
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.delivery.timers import TimerContext, TimerHandlers
from tocsin.domain.policy import default_policy
from tocsin.observability.metrics import CIRCUIT_CLOSED, CIRCUIT_OPEN, create_metrics
from tocsin.services.context import Context
from tocsin.storage.db import Database
from tocsin.storage.timers import Timer
from tocsin.storage.uow import UnitOfWork


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


def gauge(metrics: object, name: str, destination: str) -> float | None:
    return metrics.registry.get_sample_value(name, {"destination": destination})  # type: ignore[attr-defined]


async def test_breaker_opens_stops_hammering_half_opens_and_recovers(
    db: Database, fake: FakeServer
) -> None:
    """After 3 failures the breaker opens: no requests while open, /health and the gauge say
    so; one probe after the open time; once the destination is back everything drains."""
    sink = sink_on(fake)
    fake.outage(Reply(503))
    metrics = create_metrics(process=False)
    await enqueue(db, [effect(1, i) for i in range(1, 6)])
    svc = service(
        db, fake, metrics=metrics, breaker_threshold=3, breaker_open_seconds=0.4, concurrency=1
    )
    breaker = svc.breakers["webhook"]
    seconds = [1000.0]  # the breaker's clock, moved by hand
    breaker.clock = lambda: seconds[0]
    refusals: list[int] = []  # each time the worker asked to start a delivery and got 0
    permits = breaker.permits

    def counted() -> int | None:
        allowed = permits()
        if allowed == 0:
            refusals.append(0)
        return allowed

    breaker.permits = counted  # type: ignore[method-assign]

    async def refused_again(times: int = 3) -> None:
        refusals.clear()
        await eventually(lambda: _true(len(refusals) >= times), within=5)

    runtime = Runtime(migrations_ok=True, workers_running=True)
    runtime.soft_checks.update(svc.soft_checks())
    app = create_app(Context(db=db, policy=default_policy()), metrics, runtime)
    await svc.start()
    try:
        await fake.wait_for(lambda: svc.breakers["webhook"].state == "open", within=3)
        assert len(fake.requests) == 3
        assert gauge(metrics, "circuit_breaker_state", "webhook") == CIRCUIT_OPEN
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            body = (await client.get("/health")).json()
        assert body["status"] == "healthy"  # a soft check informs, it does not fail
        check = body["checks"]["delivery_webhook"]
        assert check["status"] == "degraded"
        assert check["error"].startswith("circuit open after 3 failures in a row")
        await refused_again()
        assert len(fake.requests) == 3  # nothing sent while open
        seconds[0] += 0.5  # past the 0.4 s open time
        await fake.wait_for(lambda: len(fake.requests) == 4, within=5)  # the half-open probe
        await fake.wait_for(lambda: breaker.state == "open", within=5)  # it failed: open again
        await refused_again()
        assert len(fake.requests) == 4  # and only one
        fake.restore()
        seconds[0] += 1.0  # past the open time, doubled to 0.8 s by the failed probe
        await all_delivered(db, 5)
        assert svc.breakers["webhook"].state == "closed"
        assert gauge(metrics, "circuit_breaker_state", "webhook") == CIRCUIT_CLOSED
        assert sink.applied == [f"INC-{i}:1" for i in range(1, 6)]
        sample = metrics.registry.get_sample_value
        assert sample("deliveries_total", {"destination": "webhook", "outcome": "delivered"}) == 5
        assert sample("deliveries_total", {"destination": "webhook", "outcome": "retry"}) >= 4
    finally:
        await svc.stop()


async def test_queue_gauges_show_depth_and_oldest_age_per_destination(
    db: Database, fake: FakeServer
) -> None:
    """outbox_pending and outbox_oldest_pending_seconds per destination, zero once drained."""
    metrics = create_metrics(process=False)
    await enqueue(
        db, [effect(1, key="sp", destination="statuspage")], at=now() - timedelta(minutes=5)
    )
    await enqueue(db, [effect(1), effect(2)])
    svc = service(db, fake, metrics=metrics)
    await svc.refresh_stats()
    assert gauge(metrics, "outbox_pending", "webhook") == 2
    assert gauge(metrics, "outbox_pending", "statuspage") == 1
    assert gauge(metrics, "outbox_oldest_pending_seconds", "statuspage") >= 295
    sink_on(fake)
    await svc.start()
    try:
        await all_delivered(db, 2)
        await svc.refresh_stats()
        assert gauge(metrics, "outbox_pending", "webhook") == 0
        assert gauge(metrics, "outbox_oldest_pending_seconds", "webhook") == 0
    finally:
        await svc.stop()


async def test_two_workers_on_one_database_deliver_each_row_once_in_order(
    db: Database, fake: FakeServer
) -> None:
    """Two services with their own engines (two replicas) share 120 rows: no row is sent twice,
    every incident's rows arrive in order, and due timers fire once."""
    sink = sink_on(fake)
    effects = burst(incidents=12, per_incident=10)
    await enqueue(db, effects)
    fired: list[str] = []
    handlers = TimerHandlers()

    @handlers.handler("reminder")
    async def remind(t: Timer, tx: TimerContext) -> None:
        fired.append(t.key)

    async with UnitOfWork(db) as uow:
        for i in range(20):
            await uow.timers.schedule(f"reminder:{i}", "reminder", now(), incident=i)
        await uow.commit()
    other = Database(db.url)
    a = service(db, fake, timer_handlers=handlers)
    b = service(other, fake, timer_handlers=handlers)
    await asyncio.gather(a.start(), b.start())
    try:
        await all_delivered(db, len(effects), within=20)
    finally:
        await asyncio.gather(a.stop(), b.stop())
        await other.dispose()
    assert sink.repeats == 0
    assert len(fake.requests) == len(effects)
    assert all(order == list(range(1, 11)) for order in per_incident(sink.applied).values())
    claimed_by = {r.idempotency_key: r for r in await all_rows(db)}
    assert len(claimed_by) == len(effects)
    assert sorted(fired) == sorted(f"reminder:{i}" for i in range(20))


async def _true(value: bool) -> bool:
    return value
