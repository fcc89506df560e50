"""Pruning spent acknowledge links (``ack_link_uses``) on the real database with an injected
clock: the first use arms the hourly ``ack_link_prune`` timer; it deletes the uses older than a
link's lifetime (plus an hour) in bounded batches, one transaction each, keeps the younger ones
(a link used a moment ago is still refused as used), and re-arms itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import Clock
from tocsin.delivery.timers import TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Severity
from tocsin.domain.policy import default_policy
from tocsin.services.ack_links import EVERY, KEEP, PRUNE_KEY, acknowledge_by_link, register_pruning
from tocsin.services.ack_tokens import LINK_LIFETIME, AckLinkError, sign_token
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage import tables as t
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork

ALICE = Actor("slack", "U0ALICE", "alice")
SECRET = "ack-link-secret-for-tests-0123456789"


async def _nonces(db: Database) -> set[str]:
    async with UnitOfWork(db, read_only=True) as uow:
        rows = await uow.connection.execute(sa.select(t.ack_link_uses.c.nonce))
        return {nonce for (nonce,) in rows}


async def _spend(db: Database, clock: Clock, *nonces: str) -> None:
    async with UnitOfWork(db) as uow:
        for nonce in nonces:
            assert await uow.ack_links.spend(nonce, 1, ALICE.key, clock.now)
        await uow.commit()


def _runner(ctx: Context, batch: int = 2) -> TimerRunner:
    handlers = register_pruning(TimerHandlers(), batch=batch)
    return TimerRunner(ctx.db, handlers, Wakeup(), worker_id="t", clock=ctx.clock)


async def test_expired_uses_go_in_batches_and_recent_ones_stay(db: Database, clock: Clock) -> None:
    """A use through the link arms the timer; a day and more later the three old uses go in
    two batches of at most two (two firings), the two recent ones stay, the timer is due again
    in an hour, and the link used recently is still refused as used."""
    ctx = Context(db=db, policy=default_policy(), clock=clock)
    await execute(ctx, ALICE, Command("declare", text="Checkout down", severity=Severity.P1))
    token = sign_token(SECRET, 1, ALICE.key, clock.now + LINK_LIFETIME)
    await acknowledge_by_link(ctx, SECRET, token)
    async with ctx.uow(read_only=True) as uow:
        armed = await uow.timers.get(PRUNE_KEY)
    assert armed is not None
    assert armed.due_at == clock.now + EVERY
    await _spend(db, clock, "old-a", "old-b")
    assert len(await _nonces(db)) == 3  # the link's nonce and two more
    clock.advance(hours=20)
    before = await _nonces(db)
    recent = sign_token(SECRET, 1, ALICE.key, clock.now + LINK_LIFETIME)
    await acknowledge_by_link(ctx, SECRET, recent)
    await _spend(db, clock, "new-a")
    kept = await _nonces(db) - before
    assert len(kept) == 2
    clock.advance(seconds=(KEEP - timedelta(hours=20)).total_seconds() + 60)
    assert await _runner(ctx).fire_due() == 2  # a full batch of two, then the last old one
    assert await _nonces(db) == kept
    async with ctx.uow(read_only=True) as uow:
        timer = await uow.timers.get(PRUNE_KEY)
    assert timer is not None
    assert timer.due_at == clock.now + EVERY
    with pytest.raises(AckLinkError, match="already used"):
        await acknowledge_by_link(ctx, SECRET, recent)


async def test_nothing_expired_prunes_nothing(db: Database, clock: Clock) -> None:
    """Uses younger than the lifetime and its margin are all kept."""
    ctx = Context(db=db, policy=default_policy(), clock=clock)
    await _spend(db, clock, "a", "b", "c")
    async with UnitOfWork(db) as uow:
        await uow.timers.schedule(PRUNE_KEY, "ack_link_prune", clock.now)
        await uow.commit()
    clock.advance(seconds=KEEP.total_seconds() - 60)
    assert await _runner(ctx).fire_due() == 1
    assert await _nonces(db) == {"a", "b", "c"}
