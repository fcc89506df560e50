"""Acknowledging through a link: spend the token once, then ``ack`` as the person it names.

The token format and its checks are in :mod:`tocsin.services.ack_tokens`; docs/oncall.md
("Acknowledge links") describes the links. A spent nonce is kept only while its link could
still be valid: the first use arms an hourly durable ``ack_link_prune`` timer that deletes, in
bounded batches, the uses older than a link's lifetime (plus an hour for clocks that differ
between processes); a link cannot outlive its first use by more than its lifetime.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from tocsin.domain.commands import parse
from tocsin.domain.model import Actor
from tocsin.services.ack_tokens import LINK_LIFETIME, AckLinkError, read_token
from tocsin.services.context import Context, Outcome
from tocsin.services.dispatch import execute
from tocsin.services.ports import UnitOfWork
from tocsin.storage.timers import Timer

if TYPE_CHECKING:
    from tocsin.delivery.timers import TimerContext, TimerHandlers

__all__ = ["acknowledge_by_link", "register_pruning"]

log = structlog.get_logger("tocsin.ack_links")
PRUNE_TIMER, PRUNE_KEY = "ack_link_prune", "ack-link-prune"
EVERY = timedelta(hours=1)
KEEP = LINK_LIFETIME + timedelta(hours=1)
BATCH = 1000  # rows per transaction


async def arm_pruning(uow: UnitOfWork, now: datetime) -> None:
    """Arm the pruning timer unless it exists (it re-arms itself for ever)."""
    await uow.timers.schedule(PRUNE_KEY, PRUNE_TIMER, now + EVERY)


async def prune_uses(timer: Timer, tx: TimerContext, batch: int = BATCH) -> int:
    """Delete a batch of expired uses; due again at once while batches come back full."""
    gone = await tx.uow.ack_links.prune(tx.now - KEEP, batch)
    due = tx.now if gone == batch else tx.now + EVERY
    await tx.timers.schedule(timer.key, PRUNE_TIMER, due, replace=True)
    if gone:
        log.info("pruned spent acknowledge links", rows=gone)
    return gone


def register_pruning(handlers: TimerHandlers, batch: int = BATCH) -> TimerHandlers:
    async def handle(timer: Timer, tx: TimerContext) -> None:
        await prune_uses(timer, tx, batch)

    handlers.register(PRUNE_TIMER, handle)
    return handlers


async def acknowledge_by_link(ctx: Context, secret: str, token: str) -> Outcome:
    """Spend the token and acknowledge its incident as its person (the ``ack`` command)."""
    now = ctx.clock()
    claim = read_token(secret, token, now)
    async with ctx.uow() as uow:
        fresh = await uow.ack_links.spend(claim.nonce, claim.incident, claim.person, now)
        await arm_pruning(uow, now)
        await uow.commit()
    if not fresh:
        raise AckLinkError("This acknowledge link was already used.")
    actor = Actor.from_key(claim.person)
    return await execute(ctx, actor, parse(f"ack INC-{claim.incident}"))
