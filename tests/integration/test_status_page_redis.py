"""Status page cache invalidation shared through Redis pub/sub (TOCSIN_REDIS_URL): a change
committed on one replica drops every replica's cache at once; without Redis the database marker
still catches up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace

import pytest

from tocsin.adapters.web.status import build_cache, page_info
from tocsin.adapters.web.status.cache import StatusCache
from tocsin.adapters.web.status.invalidation import RedisInvalidation, subscriber_client
from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Severity
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage import redis

ALICE = Actor("slack", "U0ALICE", "alice")
PAGE = page_info("https://example.test")


@dataclass
class Replica:
    ctx: Context
    cache: StatusCache
    shared: RedisInvalidation
    stop: Callable[[], Awaitable[None]]


async def replica(ctx: Context, url: str, recheck: float = 3600.0) -> Replica:
    """A replica: its own context (hooks), page cache and Redis link, on the shared database."""
    own = replace(ctx, on_commit=[])
    cache = build_cache(own, PAGE, b"k" * 32)
    cache.recheck = recheck  # only Redis (not the marker) can make a change show quickly
    shared = RedisInvalidation(redis.connect(url), subscriber_client(url), cache.invalidate)
    own.on_commit.append(shared.publish_soon)
    stop = await shared.starter()()
    return Replica(own, cache, shared, stop)


@pytest.fixture
async def replicas(ctx: Context, redis_url: str) -> AsyncIterator[tuple[Replica, Replica]]:
    first, second = await replica(ctx, redis_url), await replica(ctx, redis_url)
    await asyncio.wait_for(first.shared.subscribed.wait(), 5)
    await asyncio.wait_for(second.shared.subscribed.wait(), 5)
    yield first, second
    await first.stop()
    await second.stop()


async def summary(cache: StatusCache) -> str:
    return (await cache.get("summary")).body.decode()


async def until(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.02)


async def test_redis_change_on_one_replica_drops_the_others_cache(
    replicas: tuple[Replica, Replica],
) -> None:
    """Replica A declares a P1; replica B, whose marker recheck is an hour away, shows it at
    once because A's commit was published on Redis; A ignores its own message."""
    a, b = replicas
    assert "Checkout" not in await summary(b.cache)
    await execute(a.ctx, ALICE, Command("declare", text="Checkout down", severity=Severity.P1))
    assert "Checkout down" in await summary(a.cache)

    async def shown_on_b() -> bool:
        return "Checkout down" in await summary(b.cache)

    await until(shown_on_b)
    assert b.shared.received == 1
    assert a.shared.received == 0


async def test_redis_messages_for_every_change(replicas: tuple[Replica, Replica]) -> None:
    """Each commit on A invalidates B again: an update and a resolve both show on B."""
    a, b = replicas
    await execute(a.ctx, ALICE, Command("declare", text="API down", severity=Severity.P2))
    for text in ("Failing over", "Recovered"):
        await execute(a.ctx, ALICE, Command("update", incident=1, text=text))

        async def shown(expected: str = text) -> bool:
            return expected in await summary(b.cache)

        await until(shown)

    async def all_received() -> bool:  # publishes are tasks of their own: they may trail
        return b.shared.received == 3

    await until(all_received)
    assert b.shared.received == 3


async def test_redis_unreachable_falls_back_to_the_database_marker(ctx: Context) -> None:
    """With Redis down, publishing fails quietly: the other replica keeps its page until its
    recheck interval (an hour, on its clock) passes, then sees the change through the database
    marker."""
    down = "redis://127.0.0.1:1/0"
    a, b = await replica(ctx, down), await replica(ctx, down)
    seconds = [1000.0]
    b.cache.clock = lambda: seconds[0]
    try:
        assert "Search" not in await summary(b.cache)
        await execute(a.ctx, ALICE, Command("declare", text="Search slow", severity=Severity.P1))
        seconds[0] += b.cache.recheck - 1
        assert "Search" not in await summary(b.cache)
        seconds[0] += 1
        assert "Search slow" in await summary(b.cache)
        assert not b.shared.subscribed.is_set()
    finally:
        await a.stop()
        await b.stop()
