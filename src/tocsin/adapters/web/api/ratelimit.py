"""Rate limiting of failed authentication, per client IP: a token bucket.

Each client starts with ``capacity`` tries; every failed attempt (a wrong bearer token, a wrong
password) takes one, and they come back at ``refill_per_second``. With none left, the client gets
429 and ``Retry-After`` until one has come back, right or wrong credentials alike, so guessing is
slow. Successful attempts cost nothing.

:class:`MemoryLimiter` keeps the buckets in this process (bounded: the least recently used are
dropped). :class:`RedisLimiter` shares them between replicas through ``TOCSIN_REDIS_URL`` with one
atomic Lua script; if Redis does not answer it falls back to its own in-process buckets, because
tocsin must not need Redis to work.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import structlog

if TYPE_CHECKING:  # redis is imported only when TOCSIN_REDIS_URL is set (memory: ~20 MB)
    from redis.asyncio import Redis

log = structlog.get_logger("tocsin.web")

CAPACITY = 10
REFILL_PER_SECOND = 1 / 6  # ten failures a minute, sustained
MAX_KEYS = 10_000

Clock = Callable[[], float]


class FailureLimiter(Protocol):
    async def retry_after(self, key: str) -> int:
        """Seconds ``key`` must wait before trying again; 0 when it may try now."""
        ...

    async def failed(self, key: str) -> int:
        """Record a failed attempt by ``key``; returns :meth:`retry_after` afterwards."""
        ...


def _wait(tokens: float, rate: float) -> int:
    return 0 if tokens >= 1 else max(1, math.ceil((1 - tokens) / rate))


class MemoryLimiter:
    """Token buckets in this process."""

    def __init__(
        self,
        capacity: int = CAPACITY,
        refill_per_second: float = REFILL_PER_SECOND,
        *,
        clock: Clock = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.capacity = capacity
        self.rate = refill_per_second
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _tokens(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self.capacity), now))
        return min(float(self.capacity), tokens + max(0.0, now - at) * self.rate)

    async def retry_after(self, key: str) -> int:
        if key not in self._buckets:
            return 0
        return _wait(self._tokens(key, self.clock()), self.rate)

    async def failed(self, key: str) -> int:
        now = self.clock()
        tokens = max(0.0, self._tokens(key, now) - 1)
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return _wait(tokens, self.rate)


# KEYS[1] bucket; ARGV: capacity, refill per second, now (seconds), cost (0 = look, 1 = take).
# Returns the milliseconds to wait (0 = may try now). Integers only: Redis truncates Lua floats.
_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then
  if cost == 0 then return 0 end
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
if cost > 0 then
  tokens = math.max(0, tokens - cost)
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000))
end
if tokens >= 1 then return 0 end
return math.ceil((1 - tokens) / rate * 1000)
"""


class RedisLimiter:
    """Token buckets in Redis, shared by every replica; in-process buckets if Redis fails."""

    def __init__(
        self,
        client: Redis,
        capacity: int = CAPACITY,
        refill_per_second: float = REFILL_PER_SECOND,
        *,
        prefix: str = "tocsin:authfail:",
        clock: Clock = time.time,
    ) -> None:
        self.client = client
        self.capacity = capacity
        self.rate = refill_per_second
        self.prefix = prefix
        self.clock = clock
        self.fallback = MemoryLimiter(capacity, refill_per_second)
        self.degraded = False  # Redis failed last time (logged once per outage)
        self._script = client.register_script(_SCRIPT)
        from redis.exceptions import RedisError  # only with Redis configured

        self._failures: tuple[type[BaseException], ...] = (RedisError, OSError)

    async def _run(self, key: str, cost: int) -> int | None:
        args: list[str | int] = [self.capacity, repr(self.rate), repr(self.clock()), cost]
        try:
            millis = await self._script(keys=[self.prefix + key], args=args)
        except self._failures as exc:
            if not self.degraded:
                log.warning("rate limiter: Redis unavailable, limiting in-process", error=str(exc))
            self.degraded = True
            return None
        if self.degraded:
            log.info("rate limiter: Redis is back")
            self.degraded = False
        return math.ceil(int(millis) / 1000)

    async def retry_after(self, key: str) -> int:
        shared = await self._run(key, 0)
        return await self.fallback.retry_after(key) if shared is None else shared

    async def failed(self, key: str) -> int:
        shared = await self._run(key, 1)
        return await self.fallback.failed(key) if shared is None else shared
