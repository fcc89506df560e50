"""Staying inside Discord's rate limits, and far away from its ban on invalid requests.

Discord limits each route (bucket) and, globally, 50 requests per second per bot. Every answer
says how much of its bucket is left (``X-RateLimit-Bucket``, ``-Remaining``, ``-Reset-After``);
:class:`RateLimiter` keeps that per bucket and its major parameter (channel, guild, webhook) and
makes a request wait when its bucket is empty, rather than collect a 429. A 429 (``retry_after``,
float seconds; ``global`` when it is the bot-wide limit) empties the bucket, or pauses everything,
for that long. A wait longer than ``max_wait`` is not slept through inline: the request is not
sent and :class:`~tocsin.delivery.base.RetryableError` carries the wait back to the outbox.

Discord bans for a while an IP that makes 10,000 invalid requests (401, 403, 429 except
``shared`` ones) in 10 minutes. :class:`InvalidRequestGuard` stops long before that:

* a 401 on a bot request means the token is wrong: everything stops until tocsin restarts;
* ``FORBIDDEN_IN_A_ROW`` 403s in a row (no success between) mean the bot lacks permissions: bot
  requests stop for ``FORBIDDEN_PAUSE`` seconds, then one is let through to see;
* past ``INVALID_BUDGET`` invalid answers in 10 minutes (a tenth of the ban), requests wait.

While stopped, requests fail at once with :class:`DiscordStopped`, without being sent.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from tocsin.delivery.base import PermanentError, RetryableError

GLOBAL_PER_SECOND = 50.0
INVALID_WINDOW = 600.0
INVALID_BUDGET = 1000
FORBIDDEN_IN_A_ROW = 3
FORBIDDEN_PAUSE = 600.0
MAX_INLINE_WAIT = 5.0
_MAJOR = {"channels": 1, "guilds": 1, "webhooks": 2}  # segment -> how many values after it


class DiscordRefused(PermanentError):
    """Discord answered a 4xx that retrying cannot fix; ``code`` is Discord's JSON error code."""

    def __init__(self, route: str, status: int, code: int = 0, message: str = "") -> None:
        detail = f": {message}" if message else ""
        super().__init__(f"Discord {route}: HTTP {status} (code {code}){detail}")
        self.route = route
        self.status = status
        self.code = code


class DiscordStopped(PermanentError):
    """tocsin has stopped sending to Discord: its answers say the bot token or the bot's
    permissions are wrong, and more requests would only bring this IP nearer Discord's ban on
    invalid requests. ``stop_destination`` is the signal for the delivery worker."""

    stop_destination = True


def route_key(method: str, path: str) -> tuple[str, str]:
    """``(label, major)``: the route with ids as ``{id}`` (and webhook tokens as ``{token}``, so
    the label is safe to log), and the major parameters that split its bucket."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    label: list[str] = []
    major: list[str] = []
    keep = 0
    for part in parts:
        if keep:
            major.append(part)
            label.append("{id}" if part.isdigit() else "{token}")
            keep -= 1
            continue
        keep = _MAJOR.get(part, 0)
        label.append("{id}" if part.isdigit() else part)
    return f"{method.upper()} /" + "/".join(label), "/".join(major)


@dataclass
class _Bucket:
    remaining: int | None = None
    reset_at: float = 0.0


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


class RateLimiter:
    def __init__(
        self,
        *,
        per_second: float = GLOBAL_PER_SECOND,
        max_wait: float = MAX_INLINE_WAIT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep
        self._interval = 1.0 / per_second
        self._tolerance = (per_second - 1.0) * self._interval  # a burst of one second's worth
        self._tat = 0.0
        self._global_until = 0.0
        self._hashes: dict[str, str] = {}
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, route: str, major: str) -> _Bucket:
        name = f"{self._hashes.get(route, route)}|{major}"
        return self._buckets.setdefault(name, _Bucket())

    def wait_for(self, route: str, major: str) -> float:
        """Seconds before a request to ``route`` may go."""
        now = self.clock()
        wait = max(0.0, self._global_until - now)
        bucket = self._bucket(route, major)
        if bucket.remaining is not None and bucket.remaining <= 0 and bucket.reset_at > now:
            wait = max(wait, bucket.reset_at - now)
        return wait

    async def acquire(self, route: str, major: str) -> None:
        """Wait for room in the route's bucket and in the global limit; take it."""
        wait = self.wait_for(route, major)
        if wait > self.max_wait:
            raise RetryableError(f"Discord rate limit: {route} is limited for {wait:.1f}s", wait)
        if wait > 0:
            await self.sleep(wait)
        now = self.clock()
        tat = max(self._tat, now)
        self._tat = tat + self._interval
        if tat - self._tolerance > now:
            await self.sleep(tat - self._tolerance - now)
        bucket = self._bucket(route, major)
        if bucket.remaining is not None and bucket.remaining > 0:
            bucket.remaining -= 1  # held until Discord's answer says how many are left

    def update(self, route: str, major: str, headers: Mapping[str, str]) -> None:
        """Learn the bucket's state from an answer's ``X-RateLimit-*`` headers."""
        name = headers.get("x-ratelimit-bucket")
        if name:
            self._hashes[route] = name
        remaining = _number(headers.get("x-ratelimit-remaining"))
        reset_after = _number(headers.get("x-ratelimit-reset-after"))
        if remaining is not None and reset_after is not None:
            bucket = self._bucket(route, major)
            bucket.remaining = int(remaining)
            bucket.reset_at = self.clock() + max(0.0, reset_after)

    def limited(self, route: str, major: str, retry_after: float, *, everything: bool) -> None:
        """A 429: nothing goes out for ``retry_after`` (bot-wide when ``everything``)."""
        until = self.clock() + max(0.0, retry_after)
        if everything:
            self._global_until = max(self._global_until, until)
            return
        bucket = self._bucket(route, major)
        bucket.remaining = 0
        bucket.reset_at = max(bucket.reset_at, until)


# 403 error codes that refuse one recipient, not the bot (50007: the user's DMs are closed).
USER_REFUSALS = frozenset({50007})


class InvalidRequestGuard:
    def __init__(
        self,
        *,
        budget: int = INVALID_BUDGET,
        window: float = INVALID_WINDOW,
        forbidden_in_a_row: int = FORBIDDEN_IN_A_ROW,
        forbidden_pause: float = FORBIDDEN_PAUSE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget = budget
        self.window = window
        self.forbidden_in_a_row = forbidden_in_a_row
        self.forbidden_pause = forbidden_pause
        self.clock = clock
        self.invalid: deque[float] = deque()
        self.forbidden = 0
        self.reason = ""
        self.until = 0.0

    @property
    def stopped(self) -> bool:
        return bool(self.reason) and self.clock() < self.until

    def check(self, *, auth: bool = True) -> None:
        """Raise instead of sending when stopped (bot requests) or over the invalid budget."""
        if auth and self.stopped:
            raise DiscordStopped(self.reason)
        now = self.clock()
        while self.invalid and self.invalid[0] <= now - self.window:
            self.invalid.popleft()
        if len(self.invalid) >= self.budget:
            wait = self.invalid[0] + self.window - now
            raise RetryableError(
                f"{len(self.invalid)} invalid requests to Discord in the last "
                f"{self.window / 60:g} minutes; waiting to stay far from Discord's ban",
                wait,
            )

    def record(self, status: int, *, auth: bool, scope: str = "", code: object = None) -> None:
        """Count an answer; stop on a bad token or on repeated refusals.

        A 403 that refuses one user (``code`` 50007, "Cannot send messages to this user": their
        DMs are closed) says nothing about the bot's permissions, so it does not count towards
        the pause; it still counts towards the invalid-request budget, as Discord counts it."""
        if status in (401, 403) or (status == 429 and scope != "shared"):
            self.invalid.append(self.clock())
        if not auth:
            return
        if status < 400:
            self.forbidden = 0
        elif status == 401:
            self._stop(
                "Discord refused the bot token (HTTP 401). Nothing more is sent to Discord until "
                "tocsin restarts with a working TOCSIN_DISCORD_BOT_TOKEN; then "
                "`tocsin deliveries retry` sends what was missed.",
                math.inf,
            )
        elif status == 403 and code in USER_REFUSALS:
            return
        elif status == 403:
            self.forbidden += 1
            if self.forbidden >= self.forbidden_in_a_row:
                self._stop(
                    f"Discord refused {self.forbidden} requests in a row (HTTP 403): the bot "
                    "lacks permissions or access (see docs/discord-setup.md). Sending to Discord "
                    f"pauses for {self.forbidden_pause / 60:g} minutes.",
                    self.clock() + self.forbidden_pause,
                )

    def _stop(self, reason: str, until: float) -> None:
        self.reason = reason
        self.until = until
