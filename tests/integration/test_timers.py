"""Timers as data on SQLite and PostgreSQL: schedule, cancel, fire once, retry, survive restarts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from fakes.delivery_kit import eventually, now
from tocsin.delivery.timers import TimerContext, TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.storage.db import Database
from tocsin.storage.timers import Timer, TimerStore
from tocsin.storage.uow import UnitOfWork


async def schedule(db: Database, key: str, kind: str = "reminder", **kw: object) -> bool:
    due = kw.pop("due_at", now())
    async with UnitOfWork(db) as uow:
        added = await uow.timers.schedule(key, kind, due, **kw)  # type: ignore[arg-type]
        await uow.commit()
    return added


async def timer(db: Database, key: str) -> Timer:
    async with UnitOfWork(db, read_only=True) as uow:
        found = await TimerStore(uow.connection).get(key)
    assert found is not None
    return found


def runner(db: Database, handlers: TimerHandlers, **kw: object) -> TimerRunner:
    return TimerRunner(db, handlers, Wakeup(), worker_id="t1", poll=0.05, **kw)  # type: ignore[arg-type]


async def test_schedule_is_idempotent_by_key_and_replace_rearms(db: Database) -> None:
    """The same key twice keeps the first timer; ``replace`` re-arms it with the new time."""
    later = now() + timedelta(minutes=15)
    assert await schedule(db, "reminder:INC-1", incident=1, due_at=later, payload={"n": 1})
    assert not await schedule(db, "reminder:INC-1", incident=1, payload={"n": 2})
    assert (await timer(db, "reminder:INC-1")).payload == {"n": 1}
    even_later = later + timedelta(minutes=15)
    assert await schedule(
        db, "reminder:INC-1", incident=1, due_at=even_later, payload={"n": 3}, replace=True
    )
    found = await timer(db, "reminder:INC-1")
    assert found.payload == {"n": 3}
    assert abs((found.due_at - even_later).total_seconds()) < 0.001


async def test_cancel_by_key_and_for_an_incident_by_kind(db: Database) -> None:
    """Resolving cancels reminders: cancel_for_incident(incident, kinds) leaves other kinds."""
    await schedule(db, "reminder:INC-1", incident=1)
    await schedule(db, "escalate:INC-1", "escalation", incident=1)
    await schedule(db, "reminder:INC-2", incident=2)
    await schedule(db, "archive:INC-1", "archive", incident=1)
    async with UnitOfWork(db) as uow:
        store = uow.timers
        assert await store.cancel_for_incident(1, ["reminder", "escalation"]) == 2
        assert await store.cancel("archive:INC-1")
        assert not await store.cancel("archive:INC-1")
        assert await store.cancel_for_incident(2) == 1
        await uow.commit()
    async with UnitOfWork(db, read_only=True) as uow:
        assert await TimerStore(uow.connection).find() == []
        cancelled = await TimerStore(uow.connection).find(incident=1, states=["cancelled"])
    assert len(cancelled) == 3


async def test_due_timers_fire_once_and_future_ones_wait(db: Database) -> None:
    """The runner fires what is due, with the handler's writes in the same transaction."""
    fired: list[str] = []
    handlers = TimerHandlers()

    @handlers.handler("reminder")
    async def remind(t: Timer, tx: TimerContext) -> None:
        fired.append(t.key)
        # A recurring reminder schedules its next round from its own handler.
        await tx.timers.schedule(
            t.key, t.kind, tx.now + timedelta(hours=1), incident=t.incident, replace=True
        )

    await schedule(db, "reminder:INC-1", incident=1)
    await schedule(db, "reminder:INC-2", incident=2, due_at=now() + timedelta(hours=1))
    run = runner(db, handlers)
    assert await run.fire_due() == 1
    assert await run.fire_due() == 0
    assert fired == ["reminder:INC-1"]
    again = await timer(db, "reminder:INC-1")
    assert again.state == "pending"
    assert again.due_at > now() + timedelta(minutes=59)


async def test_a_failing_handler_is_rolled_back_retried_then_given_up(db: Database) -> None:
    """A handler error rolls back its writes, records the error, retries, and after
    max_attempts leaves the timer failed."""
    handlers = TimerHandlers()
    calls = 0

    @handlers.handler("escalation")
    async def escalate(t: Timer, tx: TimerContext) -> None:
        nonlocal calls
        calls += 1
        await tx.timers.schedule(f"side-effect-{calls}", "other", tx.now)
        raise RuntimeError("pager config missing")

    await schedule(db, "escalate:INC-1", "escalation", incident=1)
    assert await runner(db, handlers, max_attempts=3, retry_base=3600).fire_due() == 1
    first = await timer(db, "escalate:INC-1")
    assert (first.state, first.attempts) == ("pending", 1)
    assert first.last_error == "RuntimeError: pager config missing"
    assert first.due_at > now()  # backed off
    later = runner(db, handlers, max_attempts=3, retry_base=0, clock=lambda: now() + _2H)
    assert await later.fire_due() == 2
    last = await timer(db, "escalate:INC-1")
    assert (last.state, last.attempts) == ("failed", 3)
    assert calls == 3
    async with UnitOfWork(db, read_only=True) as uow:
        assert await TimerStore(uow.connection).get("side-effect-1") is None


async def test_timers_survive_a_restart_and_unknown_kinds_wait(db: Database) -> None:
    """A timer due while no runner ran fires when one starts; kinds nobody handles stay pending."""
    fired: list[str] = []
    handlers = TimerHandlers()

    async def remind(t: Timer, tx: TimerContext) -> None:
        fired.append(t.key)

    handlers.register("reminder", remind)
    with pytest.raises(ValueError, match="already registered"):
        handlers.register("reminder", remind)
    await schedule(db, "reminder:INC-1", due_at=now() + timedelta(seconds=0.3))
    await schedule(db, "mystery:INC-1", "mystery")
    first = runner(db, handlers)
    first.start()
    await first.stop()  # stopped before the timer was due: a restart follows
    assert fired == []
    second = runner(db, handlers)
    second.start()
    try:
        await eventually(lambda: _true(fired == ["reminder:INC-1"]), within=3)
    finally:
        await second.stop()
    assert (await timer(db, "mystery:INC-1")).state == "pending"


async def test_a_crash_inside_the_handler_leaves_the_timer_due(db: Database) -> None:
    """The firing commits with the handler's work: a crash mid-handler (the task dies) rolls
    back, so the timer fires again later instead of being lost."""
    handlers = TimerHandlers()
    entered = asyncio.Event()

    @handlers.handler("reminder")
    async def hang(t: Timer, tx: TimerContext) -> None:
        entered.set()
        await asyncio.sleep(30)

    await schedule(db, "reminder:INC-1")
    task = asyncio.create_task(runner(db, handlers).fire_due())
    await asyncio.wait_for(entered.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await timer(db, "reminder:INC-1")).state == "pending"


async def test_two_runners_fire_each_timer_once(db: Database) -> None:
    """Two runners with their own connections (two replicas) fire 40 due timers exactly once."""
    fired: list[str] = []
    handlers = TimerHandlers()

    @handlers.handler("reminder")
    async def remind(t: Timer, tx: TimerContext) -> None:
        fired.append(t.key)
        await asyncio.sleep(0.001)

    async with UnitOfWork(db) as uow:
        for i in range(40):
            await uow.timers.schedule(f"r{i}", "reminder", now(), incident=i)
        await uow.commit()
    other = Database(db.url)
    try:
        results = await asyncio.gather(
            runner(db, handlers).fire_due(), runner(other, handlers).fire_due()
        )
    finally:
        await other.dispose()
    assert sum(results) == 40
    assert sorted(fired) == sorted(f"r{i}" for i in range(40))


_2H = timedelta(hours=2)


async def _true(value: bool) -> bool:
    return value
