"""Clocks for tests that must not depend on how fast the machine is."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class VirtualTime:
    """A monotonic clock and a sleep that moves only it, for code that takes both (``clock=``,
    ``sleep=``): each sleep adds what it was asked for, is recorded in ``waits``, calls
    ``on_sleep`` with the number of sleeps so far, and still yields to the loop once."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.waits: list[float] = []
        self.on_sleep: Callable[[int], None] = lambda count: None

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        self.on_sleep(len(self.waits))
        await asyncio.sleep(0)
