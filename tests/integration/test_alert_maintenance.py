"""Alerts during maintenance, against the real database with an injected clock: a group whose
component a maintenance window holds is stored silenced "under maintenance" and pages nobody;
outside the window, or for another component, it pages as its route says."""

from __future__ import annotations

from datetime import timedelta

from conftest import Clock
from fakes.alerts_kit import generic, groups, intake_client, integration, path_of, routed, runner
from tocsin.adapters.cli.alerts import _line
from tocsin.domain.model import Actor
from tocsin.services import maintenance as service
from tocsin.services.alerts.views import group_dict
from tocsin.services.context import Context
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork

ONCALL = [{"name": "default", "levels": [["slack:U0ONCALL"]]}]
PAGE = {"match": {"team": "db"}, "action": "page", "severity": "P1"}
OPERATOR = Actor("cli", "root", "root")


def _ctx(db: Database, clock: Clock) -> Context:
    policy = routed(PAGE, escalation=ONCALL, component=[{"name": "API"}, {"name": "Payments"}])
    return Context(db, policy, clock=clock, destinations=frozenset({"slack"}))


async def _post(ctx: Context, path: str, *bodies: bytes) -> None:
    async with intake_client(ctx) as client:
        for body in bodies:
            ctx.clock.advance(seconds=1)  # type: ignore[attr-defined]  # the tests' Clock
            assert (await client.post(path, content=body)).status_code == 202
    await runner(ctx).fire_due()


async def _pages(db: Database) -> int:
    async with UnitOfWork(db, read_only=True) as uow:
        rows = await uow.outbox.rows(("pending",), limit=100)
    return sum(1 for row in rows if row.kind == "page_dm")


async def test_a_group_of_a_component_under_maintenance_is_silenced_and_pages_nobody(
    db: Database, clock: Clock
) -> None:
    """Inside the window (even before its start timer fired) the API group is silenced with the
    reason shown in the API's JSON and the CLI line, and pages nobody; a Payments group pages."""
    ctx = _ctx(db, clock)
    start, end = clock.now + timedelta(hours=1), clock.now + timedelta(hours=2)
    await service.create(ctx, OPERATOR, "DB upgrade", start.isoformat(), end.isoformat(), ["API"])
    clock.advance(minutes=61)
    made = await integration(ctx)
    await _post(ctx, path_of(made), generic("api", labels={"team": "db", "component": "API"}))
    assert await _pages(db) == 0
    [kept] = await groups(ctx)
    assert kept.group.status.value == "silenced"
    data = group_dict(kept)
    assert data["silenced_reason"] == "under maintenance: API"
    assert "silenced (under maintenance: API)" in _line(kept)
    labels = {"team": "db", "component": "Payments"}
    await _post(ctx, path_of(made), generic("pay", labels=labels))
    assert await _pages(db) == 1


async def test_after_the_window_the_group_pages_again(db: Database, clock: Clock) -> None:
    """Once the window has ended, the same group firing again is no longer silenced and pages;
    its silenced reason is cleared."""
    ctx = _ctx(db, clock)
    end = clock.now + timedelta(minutes=30)
    await service.create(ctx, OPERATOR, "Patch", clock.now.isoformat(), end.isoformat(), ["API"])
    made = await integration(ctx)
    labels = {"team": "db", "component": "API"}
    await _post(ctx, path_of(made), generic("api", labels=labels))
    assert await _pages(db) == 0
    clock.advance(minutes=31)
    await _post(ctx, path_of(made), generic("api", "resolved"), generic("api", labels=labels))
    assert await _pages(db) == 1
    [kept] = await groups(ctx)
    assert (kept.group.status.value, kept.group.silenced_reason) == ("firing", "")
