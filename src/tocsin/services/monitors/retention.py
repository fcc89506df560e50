"""Retention of check results: an hourly durable timer folds week-old checks into hourly
aggregates and drops what is past 90 days (:func:`tocsin.domain.monitors.plan_retention`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tocsin.domain.monitors import plan_retention
from tocsin.domain.monitors.retention import AGGREGATE_DAYS, DETAIL_DAYS
from tocsin.services.ports import UnitOfWork
from tocsin.storage.timers import Timer

if TYPE_CHECKING:
    from tocsin.delivery.timers import TimerContext, TimerHandlers

RETENTION_TIMER = "monitor_retention"
RETENTION_KEY = "monitor-retention"
EVERY = timedelta(hours=1)


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


async def apply_retention(uow: UnitOfWork, now: datetime) -> int:
    """Fold and drop the results due at ``now`` in ``uow``; how many result rows went."""
    cutoff = _hour(now - timedelta(days=DETAIL_DAYS))
    oldest = _hour(now - timedelta(days=AGGREGATE_DAYS))
    plan = plan_retention(await uow.monitors.rows_before(cutoff), now)
    return await uow.monitors.apply_retention(plan, cutoff, oldest)


async def arm_retention(uow: UnitOfWork, now: datetime) -> None:
    await uow.timers.schedule(RETENTION_KEY, RETENTION_TIMER, now + EVERY)


async def _handle(timer: Timer, tx: TimerContext) -> None:
    await apply_retention(tx.uow, tx.now)
    await tx.timers.schedule(RETENTION_KEY, RETENTION_TIMER, tx.now + EVERY, replace=True)


def register_retention(handlers: TimerHandlers) -> TimerHandlers:
    handlers.register(RETENTION_TIMER, _handle)
    return handlers
