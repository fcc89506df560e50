"""Helpers for the delivery tests: queue outbox rows, read them back, fast worker settings, and a
webhook sink served by :class:`~fakes.http_fake.FakeServer`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fakes.http_fake import FakeServer, IdempotencySink
from tocsin.delivery.retry import RetryPolicy
from tocsin.delivery.service import DeliveryConfig, DeliveryService
from tocsin.domain.effects import Effect
from tocsin.platforms.webhook.sender import WebhookSender
from tocsin.storage.db import Database
from tocsin.storage.outbox import OutboxRow, OutboxStore
from tocsin.storage.uow import UnitOfWork

HOOK = "/hook"
SECRET = "s3cret-for-tests"


def now() -> datetime:
    return datetime.now(UTC)


def effect(n: int, incident: int = 1, destination: str = "webhook", **kw: Any) -> Effect:
    """The ``n``-th effect of ``incident``; its key says both, e.g. ``INC-1:3``."""
    payload = {"n": n, "incident": incident, **kw.pop("payload", {})}
    key = kw.pop("key", f"INC-{incident}:{n}")
    return Effect(destination, kw.pop("kind", "post"), payload, key, incident, **kw)


def burst(incidents: int, per_incident: int, destination: str = "webhook") -> list[Effect]:
    """Effects interleaved across incidents, in the order a busy day would make them."""
    return [
        effect(n, i, destination)
        for n in range(1, per_incident + 1)
        for i in range(1, incidents + 1)
    ]


async def enqueue(db: Database, effects: list[Effect], at: datetime | None = None) -> None:
    async with UnitOfWork(db) as uow:
        await uow.outbox.add(effects, at or now())
        await uow.commit()


async def all_rows(db: Database) -> list[OutboxRow]:
    async with UnitOfWork(db, read_only=True) as uow:
        return sorted(await OutboxStore(uow.connection).rows(limit=100000), key=lambda r: r.id)


async def states(db: Database) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in await all_rows(db):
        counts[row.state] = counts.get(row.state, 0) + 1
    return counts


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = 10.0, interval: float = 0.02
) -> None:
    """Await ``check()`` until it is true; AssertionError after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within}s")
        await asyncio.sleep(interval)


async def all_delivered(db: Database, count: int, within: float = 10.0) -> None:
    async def done() -> bool:
        return (await states(db)).get("delivered", 0) == count

    try:
        await eventually(done, within)
    except AssertionError:
        raise AssertionError(f"not all delivered: {await states(db)}") from None


def fast(**overrides: Any) -> DeliveryConfig:
    """Worker settings for tests: quick polls, short backoffs, a breaker that reopens fast."""
    retry = overrides.pop("retry", RetryPolicy(base=0.01, cap=0.05, max_attempts=50))
    values: dict[str, Any] = {
        "poll": 0.05,
        "lease": 5.0,
        "send_timeout": 2.0,
        "shutdown_timeout": 2.0,
        "breaker_threshold": 1000,
        "breaker_open_seconds": 0.2,
        "stats_interval": 0.1,
        "retry": retry,
    }
    values.update(overrides)
    return DeliveryConfig(**values)


def webhook(fake: FakeServer, **kw: Any) -> WebhookSender:
    return WebhookSender(fake.url + HOOK, SECRET, **kw)


def sink_on(fake: FakeServer) -> IdempotencySink:
    sink = IdempotencySink()
    fake.route("POST", HOOK, sink)
    return sink


def service(db: Database, fake: FakeServer, **config: Any) -> DeliveryService:
    metrics = config.pop("metrics", None)
    handlers = config.pop("timer_handlers", None)
    return DeliveryService(
        db,
        {"webhook": webhook(fake)},
        config=fast(**config),
        metrics=metrics,
        timer_handlers=handlers,
    )


def per_incident(keys: list[str]) -> dict[str, list[int]]:
    """``["INC-1:1", "INC-2:1", "INC-1:2"]`` → ``{"INC-1": [1, 2], "INC-2": [1]}``."""
    order: dict[str, list[int]] = {}
    for key in keys:
        incident, _, n = key.partition(":")
        order.setdefault(incident, []).append(int(n))
    return order
