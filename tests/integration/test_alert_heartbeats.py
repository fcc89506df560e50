"""Heartbeats, a dead man's switch: each call (GET or POST) resets a durable timer; no call
within period + grace raises a firing alert through the same routing; the next call resolves it."""

from __future__ import annotations

from datetime import timedelta

from fakes.alerts_kit import groups, intake_client, path_of, runner
from tocsin.services.alerts.integrations import create_integration
from tocsin.services.context import Context
from tocsin.storage.uow import UnitOfWork


async def _heartbeat(ctx: Context) -> str:
    made = await create_integration(
        ctx,
        "heartbeat",
        "nightly-backup",
        "cli:test",
        period=timedelta(minutes=10),
        grace=timedelta(minutes=2),
    )
    return path_of(made)


async def test_calls_on_time_raise_nothing(ctx: Context) -> None:
    """Calls within period + grace keep pushing the deadline: no alert group ever appears."""
    path = await _heartbeat(ctx)
    async with intake_client(ctx) as client:
        for _ in range(3):
            ctx.clock.advance(minutes=11)  # type: ignore[attr-defined]  # late by period, not grace
            assert (await client.get(path)).status_code == 202
            assert await runner(ctx).fire_due() == 0
    assert await groups(ctx) == []


async def test_a_missed_call_fires_and_the_next_call_resolves(ctx: Context) -> None:
    """No call for period + grace: a HeartbeatMissed alert fires from when the call was due,
    and is routed (proposed by default); the next call (POST works too) resolves it."""
    path = await _heartbeat(ctx)
    start = ctx.clock()
    ctx.clock.advance(minutes=12, seconds=1)  # type: ignore[attr-defined]
    assert await runner(ctx).fire_due() >= 1
    [kept] = await groups(ctx)
    assert kept.group.status.value == "firing"
    [alert] = kept.group.firing
    assert alert.labels == {"alertname": "HeartbeatMissed", "heartbeat": "nightly-backup"}
    assert alert.starts_at == start + timedelta(minutes=10)
    async with intake_client(ctx) as client:
        assert (await client.post(path, content=b"")).status_code == 202
    await runner(ctx).fire_due()
    [kept] = await groups(ctx)
    assert kept.group.status.value == "resolved"


async def test_a_wrong_secret_does_not_reset_the_timer(ctx: Context) -> None:
    """A call with the wrong secret is 401 and leaves the deadline where it was."""
    path = await _heartbeat(ctx)
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        [before] = await uow.timers.find()
    ctx.clock.advance(minutes=5)  # type: ignore[attr-defined]
    async with intake_client(ctx) as client:
        assert (await client.get(path.rsplit("/", 1)[0] + "/wrong")).status_code == 401
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        [after] = await uow.timers.find()
    assert after.due_at == before.due_at


async def test_get_on_other_kinds_is_405(ctx: Context) -> None:
    """Only heartbeats take GET; an Alertmanager URL answers 405 and stores nothing."""
    made = await create_integration(ctx, "alertmanager", "am", "cli:test")
    async with intake_client(ctx) as client:
        answer = await client.get(path_of(made))
    assert answer.status_code == 405
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        assert await uow.alert_inbox.rows(("pending", "done")) == []
