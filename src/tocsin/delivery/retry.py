"""When to try a failed delivery again, and when to give up.

Exponential backoff with full jitter: the n-th retry waits a uniformly random time between 0 and
``min(cap, base * 2**(n-1))``, which spreads the retries of many rows after an outage instead of
sending them back in waves. A destination's own word wins: ``Retry-After`` (or Discord's
``retry_after``) is honoured as a floor, with up to 10 % jitter on top. A row is dead once it has
been tried ``max_attempts`` times or is older than ``max_age`` seconds.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tocsin.delivery.base import DeliveryError, PermanentError, RetryableError


@dataclass(frozen=True, slots=True)
class Decision:
    """``retry`` at ``at``, or dead with ``reason``."""

    retry: bool
    reason: str
    at: datetime | None = None
    maybe_sent: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    base: float = 1.0
    cap: float = 300.0
    max_attempts: int = 25
    max_age: float = 86400.0
    rng: Callable[[], float] = random.random

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failed try (1 for the first failure)."""
        ceiling = min(self.cap, self.base * 2 ** min(max(attempt - 1, 0), 60))
        return float(self.rng() * ceiling)

    def too_old(self, since: datetime, now: datetime) -> bool:
        return (now - since).total_seconds() > self.max_age

    def expired_reason(self) -> str:
        return f"expired: not delivered within {_duration(self.max_age)} of being queued"

    def decide(
        self, error: DeliveryError, attempts_before: int, since: datetime, now: datetime
    ) -> Decision:
        """What to do with a row whose attempt number ``attempts_before + 1`` failed."""
        reason = str(error) or type(error).__name__
        if isinstance(error, PermanentError) or not isinstance(error, RetryableError):
            return Decision(False, reason)
        attempt = attempts_before + 1
        if attempt >= self.max_attempts:
            return Decision(False, f"gave up after {attempt} attempts; last error: {reason}")
        delay = self.backoff(attempt)
        if error.retry_after is not None:
            delay = error.retry_after * (1.0 + 0.1 * self.rng())
        at = now + timedelta(seconds=delay)
        if self.too_old(since, at):
            return Decision(False, f"{self.expired_reason()}; last error: {reason}")
        return Decision(True, reason, at, error.maybe_sent)


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' if hours != 1 else ''}"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} minutes"
    return f"{seconds:g} seconds"
