"""Paging and escalation through the real services, timers and database (SQLite and PostgreSQL),
with a hand-moved clock: level by level, stopped by an acknowledgement, a downgrade or a resolve,
picked up after a restart, and fired once by two workers on PostgreSQL."""

from __future__ import annotations

import asyncio

from conftest import Clock
from tocsin.delivery.timers import TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.domain.commands import parse
from tocsin.domain.model import Actor
from tocsin.domain.policy import Policy
from tocsin.domain.policy_file import parse_policy
from tocsin.observability.metrics import Metrics, create_metrics
from tocsin.services import oncall
from tocsin.services.context import Context, Outcome
from tocsin.services.dispatch import execute
from tocsin.services.paging import Paging, PagingConfig
from tocsin.storage import migrate
from tocsin.storage.db import Database
from tocsin.storage.outbox import OutboxRow, OutboxStore
from tocsin.storage.timers import TimerStore

ALICE, BOB = "slack:U0ALICE", "discord:700000000000000005"
LEAD = "slack:U0LEAD"
CAROL = Actor("slack", "U0CAROL", "carol")
POLICY: Policy = parse_policy(
    {
        "schedule": [
            {
                "name": "primary",
                "timezone": "Europe/Berlin",
                "rotation": "weekly",
                "handoff": "monday 09:00",
                "members": [ALICE, BOB],
            }
        ],
        "escalation": [
            {
                "name": "default",
                "levels": [["schedule:primary"], [LEAD]],
                "escalate_after_minutes": 5,
                "repeat": 1,
            }
        ],
    }
)
DESTINATIONS = frozenset({"slack", "discord", "pagerduty"})


def context(db: Database, clock: Clock) -> Context:
    return Context(db=db, policy=POLICY, clock=clock, destinations=DESTINATIONS)


def runner(
    db: Database, clock: Clock, metrics: Metrics | None = None, worker: str = "w1"
) -> TimerRunner:
    """A timer runner for escalations and metrics only (reminders have their own tests)."""
    config = PagingConfig(POLICY, DESTINATIONS | {"webhook"}, "https://tocsin.test")
    paging = Paging(config, metrics)
    handlers = TimerHandlers()
    handlers.register("escalation", paging.escalate)
    handlers.register("incident_metrics", paging.observe)
    return TimerRunner(db, handlers, Wakeup(), worker_id=worker, metrics=metrics, clock=clock)


async def run(ctx: Context, text: str, actor: Actor = CAROL) -> Outcome:
    return await execute(ctx, actor, parse(text))


async def rows(db: Database, kind: str | None = None) -> list[OutboxRow]:
    async with db.engine.connect() as conn:
        found = await OutboxStore(conn).rows(limit=100000)
    return sorted((r for r in found if kind is None or r.kind == kind), key=lambda r: r.id)


async def paged(db: Database, incident: int = 1) -> list[str]:
    """Who got a DM page for ``incident``, in order."""
    dms = [r for r in await rows(db, "page_dm") if r.incident == incident]
    return [f"{r.payload['person']['platform']}:{r.payload['person']['user_id']}" for r in dms]


async def timer_state(db: Database, key: str) -> str:
    async with db.engine.connect() as conn:
        found = await TimerStore(conn).get(key)
    assert found is not None
    return found.state


async def test_unacknowledged_page_escalates_level_by_level_then_stops(
    db: Database, clock: Clock
) -> None:
    """P1: whoever is on call is paged at once (DM with the button, webhook, timeline note), the
    lead after 5 minutes, the ladder again (repeat 1), then a note that paging stopped."""
    ctx, metrics = context(db, clock), create_metrics(process=False)
    timers = runner(db, clock, metrics)
    await run(ctx, "declare Checkout is down P1")
    assert await timers.fire_due() == 1
    first = await oncall.who(ctx)
    on_call_now = first[0].now[0].person
    assert await paged(db) == [on_call_now]
    dm = (await rows(db, "page_dm"))[0]
    assert dm.payload["buttons"] == ["ack"]
    assert dm.payload["level"] == 1
    hook = await rows(db, "page")
    assert [r.destination for r in hook] == ["webhook"]
    assert hook[0].payload["targets"] == [on_call_now]
    clock.advance(minutes=4, seconds=59)
    assert await timers.fire_due() == 0  # not yet
    clock.advance(seconds=1)
    assert await timers.fire_due() == 1  # level 2
    clock.advance(minutes=5)
    assert await timers.fire_due() == 1  # level 1, round 2
    clock.advance(minutes=5)
    assert await timers.fire_due() == 1  # level 2, round 2
    assert await paged(db) == [on_call_now, LEAD, on_call_now, LEAD]
    clock.advance(minutes=5)
    assert await timers.fire_due() == 1  # the final step: nobody acknowledged
    clock.advance(minutes=30)
    assert await timers.fire_due() == 0
    assert len(await paged(db)) == 4
    outcome = await run(ctx, "show INC-1")
    notes = [e.text for e in outcome.timeline if e.actor.platform == "tocsin"]
    assert len(notes) == 5
    assert notes[1].startswith(f"Paged {LEAD} (level 2 of 2, round 1 of 2")
    assert "stopped paging" in notes[-1]
    escalated = metrics.escalations_total
    assert escalated.labels("2")._value.get() == 2
    assert escalated.labels("1")._value.get() == 1
    on_slack = sum(person.startswith("slack:") for person in await paged(db))
    assert metrics.pages_sent_total.labels("slack")._value.get() == on_slack
    assert metrics.pages_sent_total.labels("webhook")._value.get() == 4
    assert metrics.pages_sent_total.labels("pagerduty")._value.get() == 1


async def test_acknowledging_stops_the_escalation_at_once(db: Database, clock: Clock) -> None:
    """ack (any surface: it goes through the same pipeline) cancels the pending escalation in the
    same transaction; PagerDuty gets acknowledge; time to acknowledge is observed from the real
    timestamps by whichever process runs the timers."""
    ctx, metrics = context(db, clock), create_metrics(process=False)
    timers = runner(db, clock, metrics)
    await run(ctx, "declare Payments failing P1")
    assert await timers.fire_due() == 1
    clock.advance(minutes=2)
    await run(ctx, "ack INC-1", Actor("slack", "U0ALICE", "alice"))
    assert await timer_state(db, "escalation:INC-1") == "cancelled"
    assert await timers.fire_due() == 1  # the metric
    clock.advance(minutes=30)
    assert await timers.fire_due() == 0
    assert len(await paged(db)) == 1
    pagerduty = [r.kind for r in await rows(db) if r.destination == "pagerduty"]
    assert pagerduty == ["trigger", "acknowledge"]
    histogram = metrics.time_to_acknowledge_seconds.labels("P1")
    assert histogram._sum.get() == 120.0  # type: ignore[attr-defined]


async def test_a_downgrade_stops_paging_and_an_upgrade_starts_it(
    db: Database, clock: Clock
) -> None:
    """P3 does not page; raised to P1 it does; lowered to P3 again the escalation is cancelled
    and the PagerDuty alert resolved; no page goes out after the downgrade."""
    ctx = context(db, clock)
    timers = runner(db, clock)
    await run(ctx, "declare Slow search P3")
    assert await timers.fire_due() == 0
    assert await paged(db) == []
    await run(ctx, "severity INC-1 P1")
    assert await timers.fire_due() == 1
    assert len(await paged(db)) == 1
    clock.advance(minutes=1)
    await run(ctx, "severity INC-1 P3")
    assert await timer_state(db, "escalation:INC-1") == "cancelled"
    clock.advance(minutes=10)
    assert await timers.fire_due() == 0
    assert len(await paged(db)) == 1
    pagerduty = [r.kind for r in await rows(db) if r.destination == "pagerduty"]
    assert pagerduty == ["trigger", "resolve"]


async def test_resolving_stops_paging_and_records_time_to_resolve(
    db: Database, clock: Clock
) -> None:
    """Resolve cancels every timer of the incident; the resolve metric is observed."""
    ctx, metrics = context(db, clock), create_metrics(process=False)
    timers = runner(db, clock, metrics)
    await run(ctx, "declare Queue stuck P2")
    await timers.fire_due()
    clock.advance(minutes=3)
    await run(ctx, "resolve INC-1 restarted the consumer")
    async with db.engine.connect() as conn:
        pending = await TimerStore(conn).find(incident=1)
    assert {t.kind for t in pending} == {"incident_metrics"}
    assert await timers.fire_due() == 2
    clock.advance(hours=2)
    assert await timers.fire_due() == 0
    assert metrics.time_to_resolve_seconds.labels("P2")._sum.get() == 180.0  # type: ignore[attr-defined]


async def test_an_override_changes_who_is_paged(db: Database, clock: Clock) -> None:
    """An override in the schedule puts its person on call: they get the page."""
    ctx = context(db, clock)
    await oncall.add_override(ctx, CAROL, "slack:U0SUB", "now", "+8h", schedule="primary")
    await run(ctx, "declare Login broken P1")
    await runner(db, clock).fire_due()
    assert await paged(db) == ["slack:U0SUB"]


async def test_a_restart_mid_escalation_loses_nothing(db: Database, clock: Clock) -> None:
    """The first worker pages level 1 and goes away; a new process (new engine, new runner)
    finds the due escalation in the database and pages level 2."""
    ctx = context(db, clock)
    await run(ctx, "declare Disk full P1")
    assert await runner(db, clock, worker="before").fire_due() == 1
    await db.dispose()
    clock.advance(minutes=6)
    again = Database(db.url)
    try:
        assert await runner(again, clock, worker="after").fire_due() == 1
        assert (await paged(again))[-1] == LEAD
    finally:
        await again.dispose()


async def test_two_workers_on_postgres_fire_each_escalation_once(pg_url: str, clock: Clock) -> None:
    """Two processes' timer runners on one PostgreSQL, racing over 12 incidents: every level is
    paged exactly once (FOR UPDATE SKIP LOCKED claims)."""
    one, two = Database(pg_url), Database(pg_url)
    try:
        await migrate.upgrade(one)
        ctx = context(one, clock)
        for n in range(12):
            await run(ctx, f"declare Outage {n} P1")
        first, second = runner(one, clock, worker="one"), runner(two, clock, worker="two")
        fired = await asyncio.gather(first.fire_due(), second.fire_due())
        assert sum(fired) == 12
        clock.advance(minutes=5)
        fired = await asyncio.gather(first.fire_due(), second.fire_due())
        assert sum(fired) == 12
        for number in range(1, 13):
            assert len(await paged(one, number)) == 2
            assert (await paged(one, number))[1] == LEAD
        keys = [r.idempotency_key for r in await rows(one, "page_dm")]
        assert len(keys) == len(set(keys)) == 24
    finally:
        await one.dispose()
        await two.dispose()
