"""The subscribers' fan-out off the change's transaction, against the real database with an
injected clock: a public change commits one ``subscriber_fanout`` timer and no notice row; the
timer's handler expands it into one row per confirmed subscriber, a batch per transaction; a
worker stopped between batches, or a crash inside one (rolled back), leaves exactly one row per
subscriber once another worker finishes; a younger fan-out waits for an older one."""

from __future__ import annotations

from collections import Counter

from tests.fakes.delivery_kit import all_rows

from conftest import Clock
from tocsin.delivery.timers import TimerContext, TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Severity
from tocsin.domain.policy import default_policy
from tocsin.services import subscribers
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.services.subscriber_notices import FANOUT, WAIT, expand_fanout, register_fanout
from tocsin.storage.db import Database
from tocsin.storage.timers import Timer
from tocsin.storage.uow import UnitOfWork

ALICE = Actor("slack", "U0ALICE", "alice")
ROOT = Actor("cli", "root", "root")
PUBLIC = "http://tocsin.test"
N = 7  # subscribers: batches of 3, 3 and 1


async def _setup(db: Database, clock: Clock, count: int = N) -> Context:
    ctx = Context(db=db, policy=default_policy(), clock=clock, public_url=PUBLIC)
    for n in range(count):
        await subscribers.add_subscriber(ctx, ROOT, f"u{n}@example.test")
    return ctx


async def _declare(ctx: Context) -> None:
    await execute(ctx, ALICE, Command("declare", text="Checkout down", severity=Severity.P1))


def _runner(ctx: Context, handlers: TimerHandlers | None = None) -> TimerRunner:
    handlers = handlers or register_fanout(TimerHandlers(), batch=3)
    return TimerRunner(ctx.db, handlers, Wakeup(), worker_id="t", clock=ctx.clock)


async def _mails(db: Database) -> Counter[str]:
    """How many notice rows each address has."""
    rows = [r for r in await all_rows(db) if r.kind == "notice"]
    return Counter(r.payload["mail"]["to"] for r in rows)


async def _fanouts(ctx: Context) -> list[Timer]:
    async with ctx.uow(read_only=True) as uow:
        return [t for t in await uow.timers.find(states=("pending",)) if t.kind == FANOUT]


EVERYONE = Counter({f"u{n}@example.test": 1 for n in range(N)})


async def test_a_change_commits_one_fanout_row_and_the_worker_makes_one_row_each(
    db: Database, clock: Clock
) -> None:
    """The declaration's transaction writes one fan-out timer and no notice row, whatever the
    number of subscribers; firing it (three batches) queues one notice per subscriber."""
    ctx = await _setup(db, clock)
    await _declare(ctx)
    (fanout,) = await _fanouts(ctx)
    assert [t["notice"]["event"] for t in fanout.payload["notices"]] == ["incident"]
    assert await _mails(db) == Counter()
    assert await _runner(ctx).fire_due() == 3
    assert await _mails(db) == EVERYONE
    assert await _fanouts(ctx) == []


async def test_nobody_confirmed_means_no_fanout(db: Database, clock: Clock) -> None:
    """Without a confirmed subscriber a change writes no fan-out timer at all."""
    ctx = await _setup(db, clock, count=0)
    await _declare(ctx)
    assert await _fanouts(ctx) == []


async def test_a_worker_stopped_between_batches_is_finished_by_another(
    db: Database, clock: Clock
) -> None:
    """A worker that stops after one batch leaves the fan-out pending past that batch; a new
    worker finishes it, and every subscriber has exactly one row."""
    ctx = await _setup(db, clock)
    await _declare(ctx)
    handlers = TimerHandlers()
    first = _runner(ctx, handlers)

    async def one_batch_then_stop(timer: Timer, tx: TimerContext) -> None:
        await expand_fanout(timer, tx, batch=3)
        await first.stop()

    handlers.register(FANOUT, one_batch_then_stop)
    assert await first.fire_due() == 1
    assert sum((await _mails(db)).values()) == 3
    (left,) = await _fanouts(ctx)
    assert left.payload["after"] == 3
    assert await _runner(ctx).fire_due() == 2
    assert await _mails(db) == EVERYONE


async def test_a_crash_inside_a_batch_loses_and_repeats_nothing(db: Database, clock: Clock) -> None:
    """A worker dying in the middle of its second batch (after writing its rows, before the
    commit) rolls that batch back with the cursor; the retry writes it once: one row each."""
    ctx = await _setup(db, clock)
    await _declare(ctx)
    handlers = TimerHandlers()
    firings = []

    async def crash_in_second(timer: Timer, tx: TimerContext) -> None:
        firings.append(timer.payload["after"])
        await expand_fanout(timer, tx, batch=3)
        if len(firings) == 2:
            raise RuntimeError("killed mid-batch")

    handlers.register(FANOUT, crash_in_second)
    assert await _runner(ctx, handlers).fire_due() == 2
    assert sum((await _mails(db)).values()) == 3
    (left,) = await _fanouts(ctx)
    assert (left.payload["after"], left.attempts) == (3, 1)
    clock.now = left.due_at  # the retry's backoff
    assert await _runner(ctx).fire_due() == 2
    assert await _mails(db) == EVERYONE


async def test_a_subscriber_confirmed_before_the_expansion_is_told(
    db: Database, clock: Clock
) -> None:
    """The list is the one of the expansion: someone confirmed after the change but before its
    fan-out ran receives the notice (docs/status-page.md says so)."""
    ctx = await _setup(db, clock, count=1)
    await _declare(ctx)
    await subscribers.add_subscriber(ctx, ROOT, "late@example.test")
    await _runner(ctx).fire_due()
    assert await _mails(db) == Counter({"u0@example.test": 1, "late@example.test": 1})


async def test_a_younger_fanout_waits_for_an_older_one(db: Database, clock: Clock) -> None:
    """While an older fan-out is pending (another process may be running it) a younger one
    queues nothing and comes back later, so each subscriber's notices keep the changes' order;
    once both ran, every subscriber's declaration row precedes its update row."""
    ctx = await _setup(db, clock)
    await _declare(ctx)
    await execute(ctx, ALICE, Command("update", incident=1, text="Rolling back"))
    older, younger = sorted(await _fanouts(ctx), key=lambda t: t.id)
    async with UnitOfWork(db) as uow:
        assert await expand_fanout(younger, TimerContext(uow, uow.timers, clock.now)) == 0
        await uow.commit()
    (moved,) = [t for t in await _fanouts(ctx) if t.id == younger.id]
    assert moved.due_at == clock.now + WAIT
    assert await _mails(db) == Counter()
    clock.advance(seconds=WAIT.total_seconds())
    assert await _runner(ctx).fire_due() == 6
    rows = [r for r in await all_rows(db) if r.kind == "notice"]
    firsts: dict[str, str] = {}
    for row in rows:  # by id: the order of delivery within each subscriber's queue
        firsts.setdefault(row.payload["mail"]["to"], row.payload["mail"]["text"])
    assert await _mails(db) == Counter(dict.fromkeys(EVERYONE, 2))
    assert not any("Rolling back" in text for text in firsts.values())
    assert older.id < younger.id
