"""A ``declare`` route's ``escalation`` is the escalation that pages for the incident it declares
(docs/alerts.md), on the real database with a hand-moved clock: the first page goes to that
escalation's level-1 person, and while nobody acknowledges it goes on along its levels with its
``escalate_after_minutes``, not the severity's escalation. The choice is stored on the incident,
so the timer handlers of another process (or after a restart) page the same people."""

from __future__ import annotations

from conftest import Clock
from fakes.alerts_kit import generic, groups, intake_client, integration, path_of, routed
from fakes.alerts_kit import runner as alert_runner
from tocsin.delivery.timers import TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.domain.commands import parse
from tocsin.domain.model import Actor
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.services.paging import Paging, PagingConfig
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork

ESCALATIONS = [
    {"name": "default", "levels": [["slack:U0DEFAULT"]], "escalate_after_minutes": 5},
    {"name": "db-team", "levels": [["slack:U0DBA1"], ["slack:U0DBA2"]],
     "escalate_after_minutes": 10},
]  # fmt: skip
DB_ROUTE = {"match": {"team": "db"}, "action": "declare", "severity": "P1",
            "escalation": "db-team"}  # fmt: skip
PLAIN_ROUTE = {"match": {"team": "web"}, "action": "declare", "severity": "P1"}


def _ctx(db: Database, clock: Clock) -> Context:
    policy = routed(DB_ROUTE, PLAIN_ROUTE, escalation=ESCALATIONS)
    return Context(db, policy, clock=clock, destinations=frozenset({"slack"}))


def _paging_runner(ctx: Context, clock: Clock) -> TimerRunner:
    """The incident escalation handler alone, as the delivery workers run it."""
    paging = Paging(PagingConfig(ctx.policy, frozenset({"slack"}), "https://tocsin.test"))
    handlers = TimerHandlers()
    handlers.register("escalation", paging.escalate)
    return TimerRunner(ctx.db, handlers, Wakeup(), worker_id="paging", clock=clock)


async def _fire(ctx: Context, team: str) -> None:
    made = await integration(ctx, name=f"src-{team}")
    async with intake_client(ctx) as http:
        body = generic(f"{team}-down", labels={"team": team})
        assert (await http.post(path_of(made), content=body)).status_code == 202
    await alert_runner(ctx).fire_due()


async def _paged(ctx: Context, incident: int = 1) -> list[str]:
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        rows = await uow.outbox.rows(("pending",), limit=100)
    dms = sorted((r for r in rows if r.kind == "page_dm" and r.incident == incident),
                 key=lambda r: r.id)  # fmt: skip
    return [r.payload["person"]["user_id"] for r in dms]


async def test_the_route_escalation_pages_the_declared_incident(db: Database, clock: Clock) -> None:
    """team=db declares INC-1 commanded by db-team's level 1, stored with ``escalation``
    db-team; its page goes to U0DBA1 (not the severity's "default"), then after db-team's 10
    minutes (not default's 5) to U0DBA2, and once acknowledged nobody else is paged."""
    ctx = _ctx(db, clock)
    await _fire(ctx, "db")
    [kept] = await groups(ctx)
    assert kept.incident == 1
    async with UnitOfWork(db, read_only=True) as uow:
        incident = await uow.incidents.get(1)
    assert incident is not None
    assert incident.escalation == "db-team"
    assert incident.commander is not None
    assert incident.commander.user_id == "U0DBA1"
    timers = _paging_runner(ctx, clock)  # a fresh runner: what is stored is all it knows
    assert await timers.fire_due() == 1
    assert await _paged(ctx) == ["U0DBA1"]
    clock.advance(minutes=5)
    assert await timers.fire_due() == 0  # default's 5 minutes do not apply
    clock.advance(minutes=5)
    assert await timers.fire_due() == 1
    assert await _paged(ctx) == ["U0DBA1", "U0DBA2"]
    await execute(ctx, Actor("slack", "U0DBA2", "dana"), parse("ack INC-1"))
    clock.advance(minutes=30)
    await timers.fire_due()
    assert await _paged(ctx) == ["U0DBA1", "U0DBA2"]


async def test_a_route_without_escalation_pages_by_severity(db: Database, clock: Clock) -> None:
    """team=web's route names no escalation: the incident stores none and the severity's
    ("default") pages; a severity change keeps a route's escalation (INC-1 stays on db-team)."""
    ctx = _ctx(db, clock)
    await _fire(ctx, "db")
    await _fire(ctx, "web")
    async with UnitOfWork(db, read_only=True) as uow:
        web = await uow.incidents.get(2)
    assert web is not None
    assert web.escalation is None
    timers = _paging_runner(ctx, clock)
    assert await timers.fire_due() == 2
    assert await _paged(ctx, 2) == ["U0DEFAULT"]
    await execute(ctx, Actor("slack", "U0DBA1", "dba"), parse("severity INC-1 P2"))
    await execute(ctx, Actor("slack", "U0DBA1", "dba"), parse("severity INC-1 P1"))
    clock.advance(minutes=10)
    await timers.fire_due()
    assert "U0DEFAULT" not in await _paged(ctx, 1)
    assert (await _paged(ctx, 1))[0] == "U0DBA1"
