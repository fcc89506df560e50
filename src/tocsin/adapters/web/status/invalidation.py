"""Shared cache invalidation through Redis pub/sub (TOCSIN_REDIS_URL), for several replicas.

A replica that commits a change publishes its id on :data:`CHANNEL`; every replica subscribed
drops its status page cache on the message (its own messages are ignored: it dropped the cache
already). A replica that (re)subscribes drops its cache too, since it may have missed messages
while it was away. Redis is never needed for correctness: without it, or while it is down, each
replica notices changes through the database marker within the cache's ``recheck`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable

import structlog
from redis.asyncio import Redis

log = structlog.get_logger("tocsin.status")

CHANNEL = b"tocsin:status:changed"
RETRY_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0
POLL_SECONDS = 5.0


def subscriber_client(url: str) -> Redis:
    """A client for a long-lived subscription: short connect timeout, no read timeout (a quiet
    channel is not an error)."""
    return Redis.from_url(url, socket_connect_timeout=1.0, health_check_interval=30)


class RedisInvalidation:
    """Publishes this replica's changes and applies the other replicas'."""

    def __init__(
        self,
        publisher: Redis,
        subscriber: Redis,
        on_change: Callable[[], None],
        *,
        origin: str | None = None,
    ) -> None:
        self.publisher = publisher
        self.subscriber = subscriber
        self.on_change = on_change
        self.origin = (origin or uuid.uuid4().hex).encode()
        self.received = 0
        self.subscribed = asyncio.Event()
        self._pending: set[asyncio.Task[None]] = set()

    def publish_soon(self) -> None:
        """Tell the other replicas (from a synchronous ``on_commit`` hook)."""
        task = asyncio.get_running_loop().create_task(self.publish())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def publish(self) -> None:
        try:
            await self.publisher.publish(CHANNEL, self.origin)
        except Exception as exc:  # noqa: BLE001 - the others fall back to the database marker
            log.warning("could not publish a status page change", error=str(exc))

    async def listen(self) -> None:
        """Apply the other replicas' messages until cancelled; reconnect with backoff."""
        delay = RETRY_SECONDS
        while True:
            try:
                async with self.subscriber.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self.on_change()  # we may have missed messages while not subscribed
                    self.subscribed.set()
                    delay = RETRY_SECONDS
                    await self._receive(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis is optional; keep trying
                self.subscribed.clear()
                log.warning("status page invalidation: Redis unavailable", error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    async def _receive(self, pubsub: object) -> None:
        get_message = pubsub.get_message  # type: ignore[attr-defined]
        while True:
            message = await get_message(ignore_subscribe_messages=True, timeout=POLL_SECONDS)
            if message is None or message.get("type") != "message":
                continue
            if message.get("data") != self.origin:
                self.received += 1
                self.on_change()

    def starter(self) -> Callable[[], Awaitable[Callable[[], Awaitable[None]]]]:
        """A web app starter: listen in the background; the stopper closes the clients."""

        async def start() -> Callable[[], Awaitable[None]]:
            task = asyncio.create_task(self.listen(), name="tocsin-status-invalidation")

            async def stop() -> None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await asyncio.gather(*self._pending, return_exceptions=True)
                await self.subscriber.aclose()
                await self.publisher.aclose()

            return stop

        return start
