"""The outbox as an operator runs it from the CLI (``tocsin deliveries list|retry``): list rows
by state, queue dead ones again. The web's admin view of the queue is
:func:`tocsin.services.access.reads.deliveries`."""

from __future__ import annotations

from datetime import datetime

from tocsin.services.context import Context
from tocsin.storage.outbox import (
    DEAD,
    IN_FLIGHT,
    OPEN,
    PENDING,
    STATES,
    OutboxRow,
)

STATE_CHOICES = (*STATES, "open", "all")


def _states(state: str) -> tuple[str, ...]:
    if state == "all":
        return STATES
    if state == "open":
        return (*OPEN, DEAD)
    return (state,)


def shown_at(row: OutboxRow) -> datetime:
    """The time that tells a row's story: when it was delivered or died, when a pending one is
    next tried, when one in flight was written."""
    at: datetime | None = row.delivered_at if row.state not in (PENDING, IN_FLIGHT) else None
    return at or (row.next_attempt_at if row.state == PENDING else row.created_at)


async def list_deliveries(ctx: Context, state: str, limit: int) -> list[OutboxRow]:
    """Rows in ``state`` (one of :data:`STATE_CHOICES`; "open" is pending, in flight and dead),
    newest first."""
    async with ctx.uow(read_only=True) as uow:
        return await uow.outbox.rows(_states(state), limit)


async def retry_deliveries(ctx: Context, ids: tuple[int, ...]) -> tuple[int, list[str]]:
    """Dead rows named by id (every dead row when ``ids`` is empty) back to pending with fresh
    attempts; pending ones due now. Returns (how many, problems); with any problem, nothing
    changes."""
    async with ctx.uow() as uow:
        store = uow.outbox
        problems = []
        for row_id in ids:
            row = await store.get(row_id)
            if row is None:
                problems.append(f"there is no delivery {row_id}")
            elif row.state not in (DEAD, PENDING):
                problems.append(f"delivery {row_id} is {row.state.replace('_', ' ')}")
        if problems:
            return 0, problems
        count = await store.requeue(list(ids) if ids else None, ctx.clock())
        await uow.commit()
    ctx.committed()
    return count, []
