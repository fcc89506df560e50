"""Update reminders and commander nags through the real services and timers (SQLite and
PostgreSQL), with a hand-moved clock: the cadence by severity, re-armed by every update, stopped
by resolve; a polite nag while nobody (human) has command."""

from __future__ import annotations

from conftest import Clock
from tocsin.delivery.timers import TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.domain.commands import parse
from tocsin.domain.model import Actor
from tocsin.domain.policy import default_policy
from tocsin.services.context import Context, Outcome
from tocsin.services.declare import declare
from tocsin.services.dispatch import execute
from tocsin.services.paging import Paging, PagingConfig
from tocsin.storage.db import Database
from tocsin.storage.outbox import OutboxRow, OutboxStore
from tocsin.storage.timers import TimerStore

ALICE = Actor("slack", "U0ALICE", "alice")
BOT = Actor("api", "alertmanager", "alertmanager")
DESTINATIONS = frozenset({"slack", "discord"})


def context(db: Database, clock: Clock) -> Context:
    return Context(db=db, policy=default_policy(), clock=clock, destinations=DESTINATIONS)


def runner(db: Database, clock: Clock, nag_minutes: int = 10) -> TimerRunner:
    """A timer runner for reminders and nags only (escalations have their own tests)."""
    paging = Paging(PagingConfig(default_policy(), DESTINATIONS, nag_minutes=nag_minutes))
    handlers = TimerHandlers()
    handlers.register("update_reminder", paging.remind)
    handlers.register("commander_nag", paging.nag)
    return TimerRunner(db, handlers, Wakeup(), worker_id="w1", clock=clock)


async def run(ctx: Context, text: str, actor: Actor = ALICE) -> Outcome:
    return await execute(ctx, actor, parse(text))


async def reminders(db: Database, reason: str = "update") -> list[OutboxRow]:
    async with db.engine.connect() as conn:
        found = await OutboxStore(conn).rows(limit=100000)
    return [r for r in found if r.kind == "remind" and r.payload["reason"] == reason]


async def test_no_update_within_the_cadence_reminds_the_commander_in_each_channel(
    db: Database, clock: Clock
) -> None:
    """P1 (every 15 min): at 15 minutes without an update, a ``remind`` goes to the Slack and
    Discord incident channels, naming the commander, with a Post update button; and again 15
    minutes later."""
    ctx, timers = context(db, clock), runner(db, clock)
    await run(ctx, "declare Checkout is down P1")
    clock.advance(minutes=14)
    assert await timers.fire_due() == 0
    clock.advance(minutes=1)
    assert await timers.fire_due() == 1
    sent = await reminders(db)
    assert sorted(r.destination for r in sent) == ["discord", "slack"]
    payload = sent[0].payload
    assert payload["person"]["user_id"] == "U0ALICE"
    assert payload["buttons"] == ["update"]
    assert "no update has been posted for INC-1 yet" in payload["text"]
    clock.advance(minutes=15)
    assert await timers.fire_due() == 1
    assert len(await reminders(db)) == 4


async def test_each_update_pushes_the_next_reminder_a_full_cadence_away(
    db: Database, clock: Clock
) -> None:
    """An update at minute 10 means no reminder at 15, but one at 25."""
    ctx, timers = context(db, clock), runner(db, clock)
    await run(ctx, "declare Checkout is down P1")
    clock.advance(minutes=10)
    await run(ctx, "update INC-1 Rolling back the deploy")
    clock.advance(minutes=5)
    assert await timers.fire_due() == 0
    clock.advance(minutes=10)
    assert await timers.fire_due() == 1
    assert "in the last 15 minutes" in (await reminders(db))[0].payload["text"]


async def test_resolve_stops_reminders_and_a_severity_change_follows_the_new_cadence(
    db: Database, clock: Clock
) -> None:
    """Lowered to P3 the cadence is 60 minutes (from the declaration); resolved, nothing more."""
    ctx, timers = context(db, clock), runner(db, clock)
    await run(ctx, "declare Search is slow P1")
    clock.advance(minutes=5)
    await run(ctx, "severity INC-1 P3")
    clock.advance(minutes=20)
    assert await timers.fire_due() == 0
    clock.advance(minutes=35)
    assert await timers.fire_due() == 1
    await run(ctx, "resolve INC-1 Index rebuilt")
    clock.advance(hours=3)
    assert await timers.fire_due() == 0
    assert len(await reminders(db)) == 2  # the one at 60 minutes, in two channels
    await run(ctx, "declare Typo on the status page P4")
    async with db.engine.connect() as conn:
        assert await TimerStore(conn).find(incident=2) == []


async def test_nag_while_nobody_has_command_and_stop_once_someone_takes_it(
    db: Database, clock: Clock
) -> None:
    """Declared by an API token (alerting), the incident has no human commander: after 10
    minutes, and every 10 minutes after, the channel is asked politely; once a person takes
    command the nag stops."""
    ctx, timers = context(db, clock), runner(db, clock)
    await declare(ctx, BOT, parse("declare Error rate above 5% P3"))
    assert await timers.fire_due() == 1  # the check at declaration waits for the cadence
    assert await reminders(db, "commander") == []
    clock.advance(minutes=10)
    assert await timers.fire_due() == 1
    nags = await reminders(db, "commander")
    assert len(nags) == 2
    assert "INC-1 has no commander yet" in nags[0].payload["text"]
    assert nags[0].payload["buttons"] == []
    clock.advance(minutes=3)
    await run(ctx, "commander INC-1 @slack:U0ALICE", BOT)
    clock.advance(minutes=30)
    assert await timers.fire_due() == 0
    assert len(await reminders(db, "commander")) == 2


async def test_a_person_who_declares_is_never_nagged_and_zero_turns_nagging_off(
    db: Database, clock: Clock
) -> None:
    """The declarer takes command, so no nag; with nag_minutes = 0 nobody is nagged at all."""
    ctx = context(db, clock)
    await run(ctx, "declare Checkout is down P4")
    await declare(ctx, BOT, parse("declare Disk almost full P4"))
    clock.advance(hours=1)
    assert await runner(db, clock, nag_minutes=0).fire_due() == 1  # INC-2's check, silently
    assert await reminders(db, "commander") == []
