"""Optional Redis (``TOCSIN_REDIS_URL``): shared cache and rate limiter for several replicas.

tocsin never needs Redis to be correct (the database holds every durable fact), so Redis being
down degrades ``/health`` (a soft check) instead of failing it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

PING_TIMEOUT = 1.0


def connect(url: str) -> Redis:
    """A lazily-connecting client with short timeouts (a slow cache must not slow commands)."""
    return Redis.from_url(
        url,
        socket_connect_timeout=PING_TIMEOUT,
        socket_timeout=PING_TIMEOUT,
        decode_responses=False,
    )


def redis_check(client: Redis) -> Callable[[], Awaitable[str | None]]:
    """A health check: None when Redis answers PING, else the reason."""

    async def check() -> str | None:
        try:
            await client.ping()
        except Exception as exc:  # noqa: BLE001 - reported as the check's reason
            return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None

    return check
