"""Pacing: keep tocsin under each destination's published rate limits, so it does not cause its
own 429s.

Each delivery takes a slot from every bucket that applies to it before it is sent. A bucket
lets ``burst`` requests through at once and then ``rate`` per second; reservations are made
synchronously, so concurrent deliveries queue fairly, each waiting for its own slot. A 429
pauses the buckets of the delivery that got it for the ``Retry-After`` time.

Defaults (from the platforms' documentation, see tests/fixtures/README.md):

- Slack: ``chat.postMessage`` about 1 per second per channel (one bucket per incident channel
  and one for the announcement channel); ``conversations.create`` and friends are Tier 2
  (20 per minute); ``chat.update`` is Tier 3 (50 per minute).
- Discord: 50 requests per second per bot, globally; tocsin keeps 40 for deliveries and leaves
  the rest to interaction replies.
- Statuspage: 1 request per second per token.
- PagerDuty Events v2: 120 events per minute per routing key.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping

from tocsin.delivery.base import Delivery

UNPACED = 1e9  # requests per second: no pacing
# (bucket key, rate per second, burst)
Limit = tuple[str, float, float]
Rule = Callable[[Delivery], Iterable[Limit]]


def _slack(d: Delivery) -> list[Limit]:
    if d.kind == "open_channel":
        return [("slack:tier2", 20 / 60, 3)]
    if d.kind == "refresh_announcement":
        return [("slack:tier3", 50 / 60, 5)]
    if d.kind == "announce":
        return [("slack:channel:announce", 1.0, 2)]
    return [(f"slack:channel:{d.incident or 0}", 1.0, 2)]


DEFAULT_RULES: Mapping[str, Rule] = {
    "slack": _slack,
    "discord": lambda d: [("discord:global", 40.0, 10)],
    "statuspage": lambda d: [("statuspage", 1.0, 1)],
    "pagerduty": lambda d: [("pagerduty", 2.0, 4)],
    # Status-page subscribers: a gentle pace, so a notice to thousands does not flood the mail
    # server (which often limits per minute) or look like a burst to the receivers.
    "email": lambda d: [("email", 5.0, 10)],
    "subscriber_webhook": lambda d: [("subscriber_webhook", 20.0, 20)],
}


class TokenBucket:
    """``rate`` per second with bursts of ``burst``, as a generic cell rate algorithm: each
    reservation moves the theoretical arrival time on by ``1/rate``; a caller may go once it is
    within the burst tolerance of now."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (max(burst, 1.0) - 1.0) * self.interval
        self.clock = clock
        self.tat = 0.0  # theoretical arrival time of the next request
        self.blocked_until = 0.0

    def reserve(self) -> float:
        """Take the next slot; the seconds to wait before using it."""
        now = self.clock()
        start = max(now, self.blocked_until)
        tat = max(self.tat, start)
        allowed = max(start, tat - self.tolerance)
        self.tat = tat + self.interval
        return allowed - now

    def pause(self, seconds: float) -> None:
        """Nothing goes out for ``seconds`` (a 429 said so), and no burst follows."""
        self.blocked_until = max(self.blocked_until, self.clock() + seconds)
        self.tat = max(self.tat, self.blocked_until + self.tolerance)


class Pacer:
    def __init__(
        self,
        rules: Mapping[str, Rule] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rules = DEFAULT_RULES if rules is None else rules
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}

    def _buckets(self, delivery: Delivery) -> list[TokenBucket]:
        rule = self.rules.get(delivery.destination)
        # A destination without published limits is not paced, but a 429 still pauses it.
        limits = rule(delivery) if rule is not None else [(delivery.destination, UNPACED, UNPACED)]
        found = []
        for key, rate, burst in limits:
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = TokenBucket(rate, burst, self.clock)
            found.append(bucket)
        return found

    async def acquire(self, delivery: Delivery) -> float:
        """Wait until ``delivery`` may be sent; returns the seconds waited."""
        wait = max((b.reserve() for b in self._buckets(delivery)), default=0.0)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait

    def pause(self, delivery: Delivery, seconds: float) -> None:
        for bucket in self._buckets(delivery):
            bucket.pause(seconds)
