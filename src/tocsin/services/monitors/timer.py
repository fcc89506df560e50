"""Each monitor's durable check timer: kind :data:`CHECK_TIMER`, key ``monitor:<name>``, in the
timers table the delivery timers use. Its first due time is spread over the interval by a jitter
derived from the name, so monitors do not all start at once. Adding or resuming a monitor arms
it, deleting or pausing one cancels it, in the same transaction as the change.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from tocsin.domain.monitors import Monitor
from tocsin.services.ports import UnitOfWork

CHECK_TIMER = "monitor_check"
PREFIX = "monitor:"


def timer_key(name: str) -> str:
    return f"{PREFIX}{name}"


def jitter(name: str, interval_seconds: int) -> timedelta:
    """A stable offset within the interval, from the monitor's name."""
    digest = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")
    return timedelta(milliseconds=digest % (interval_seconds * 1000))


async def arm_check(
    uow: UnitOfWork, monitor: Monitor, now: datetime, *, replace: bool = False
) -> None:
    """Give ``monitor`` its timer, first due within one interval; ``replace`` re-arms one that
    was cancelled or fired (otherwise a timer it has keeps its due time)."""
    due = now + jitter(monitor.name, monitor.interval_seconds)
    await uow.timers.schedule(timer_key(monitor.name), CHECK_TIMER, due, replace=replace)


async def disarm_check(uow: UnitOfWork, name: str) -> None:
    await uow.timers.cancel(timer_key(name))
