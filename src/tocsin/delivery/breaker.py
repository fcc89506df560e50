"""A circuit breaker per destination.

closed ──(``threshold`` failures in a row)──▶ open ──(``open_seconds`` later)──▶ half-open
half-open ──(the one probe delivery succeeds)──▶ closed;  ──(it fails)──▶ open again, for twice
as long each time (up to ``max_open_seconds``), so a long outage is probed less often and a short
one is noticed quickly.

While open, the worker claims nothing for the destination, so an outage neither burns the rows'
attempts nor hammers a service that is down; the rows wait, pending, and drain once a probe gets
through. Only signs that the destination is down count as failures (timeouts, connection errors,
5xx); a 429 or a 4xx means it is up and answering. The state is exported as the
``circuit_breaker_state`` gauge and reported by ``/health`` as a soft check.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CLOSED, HALF_OPEN, OPEN = "closed", "half-open", "open"


class CircuitBreaker:
    def __init__(
        self,
        destination: str,
        *,
        threshold: int = 5,
        open_seconds: float = 5.0,
        max_open_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, str], None] | None = None,
    ) -> None:
        self.destination = destination
        self.threshold = threshold
        self.base_open_seconds = open_seconds
        self.max_open_seconds = max(max_open_seconds, open_seconds)
        self.open_seconds = open_seconds
        self.clock = clock
        self.on_change = on_change
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self.last_error = ""
        self.probing = False

    def _set(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self.on_change is not None:
                self.on_change(self.destination, state)

    def permits(self) -> int | None:
        """How many deliveries may start now: None for no limit, 0 while open or while the
        half-open probe is out, 1 for the probe."""
        if self.state == OPEN and self.clock() - self.opened_at >= self.open_seconds:
            self._set(HALF_OPEN)
            self.probing = False
        if self.state == CLOSED:
            return None
        if self.state == HALF_OPEN and not self.probing:
            return 1
        return 0

    def started(self) -> None:
        """A delivery started; in half-open it is the probe."""
        if self.state == HALF_OPEN:
            self.probing = True

    def abandoned(self) -> None:
        """The probe ended without an answer (shutdown): let another probe go."""
        self.probing = False

    def record_success(self) -> None:
        self.failures = 0
        self.probing = False
        self.last_error = ""
        self.open_seconds = self.base_open_seconds
        self._set(CLOSED)

    def record_failure(self, reason: str) -> None:
        self.last_error = reason
        self.failures += 1
        self.probing = False
        if self.state == HALF_OPEN:
            self.open_seconds = min(self.open_seconds * 2, self.max_open_seconds)
        if self.state == HALF_OPEN or (self.state == CLOSED and self.failures >= self.threshold):
            self.opened_at = self.clock()
            self._set(OPEN)

    def seconds_until_probe(self) -> float | None:
        """While open, how long until the half-open probe may go."""
        if self.state != OPEN:
            return None
        return max(0.0, self.open_seconds - (self.clock() - self.opened_at))

    def problem(self) -> str | None:
        """None when closed; otherwise a line for ``/health``."""
        if self.state == CLOSED:
            return None
        if self.state == HALF_OPEN:
            return f"circuit half-open: probing {self.destination} (last error: {self.last_error})"
        wait = self.seconds_until_probe() or 0.0
        return (
            f"circuit open after {self.failures} failures in a row (last error: "
            f"{self.last_error}); next probe in {wait:.0f}s"
        )
