"""A monitor's status-page component against what admins set by hand, on the real database with
real HTTP targets on 127.0.0.1: a monitor coming up (or paused or deleted while down) puts the
component back only if it still shows what the monitors set, and two monitors of one component
keep it at the worst status while either is down (docs/monitors.md#what-runs)."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from fakes.monitor_target import HttpTarget
from tocsin.domain.model import Actor
from tocsin.domain.policy_file import parse_policy
from tocsin.services.context import Context
from tocsin.services.monitors.checker import MonitorChecker
from tocsin.services.monitors.manage import add_monitor, delete_monitor
from tocsin.services.monitors.record import set_paused
from tocsin.services.public_status_page import ComponentChange, save_component
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork

ROOT = Actor("cli", "root", "root")
PAGE = {"match": {"alertname": "MonitorDown"}, "action": "ignore"}


def _monitor(name: str, target: HttpTarget, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "http", "url": target.url(), "interval_seconds": 30,
            "down_after": 1, "component": "Checkout", **extra}  # fmt: skip


def _ctx(db: Database, clock: Any, monitors: list[dict[str, Any]]) -> Context:
    policy = parse_policy(
        {"component": [{"name": "Checkout"}], "monitor": monitors, "alert_route": [PAGE]}
    )
    return Context(db, policy, clock=clock)


@pytest.fixture
async def web() -> AsyncIterator[HttpTarget]:
    server = await HttpTarget().start()
    yield server
    await server.stop()


@pytest.fixture
async def api() -> AsyncIterator[HttpTarget]:
    server = await HttpTarget().start()
    yield server
    await server.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


async def _round(checker: MonitorChecker, clock: Any) -> list[MutableMapping[str, Any]]:
    """One round 30 s later; its log entries. Every check of it was recorded (on PostgreSQL two
    monitors changing one component at once must not collide)."""
    clock.advance(seconds=30)
    with capture_logs() as logs:
        await checker.run_once()
    assert not [e for e in logs if e["event"] == "monitor check not recorded"]
    return logs


async def _component(ctx: Context) -> str:
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        row = await uow.status.component("Checkout")
    return row.status if row is not None else "operational"


async def _set(ctx: Context, status: str) -> None:
    await save_component(ctx, ROOT, "Checkout", ComponentChange(status=status))


async def test_a_status_set_by_hand_while_down_is_kept_when_the_monitor_comes_up(
    db: Database, clock: Any, web: HttpTarget, client: httpx.AsyncClient
) -> None:
    """The monitor sets major_outage; an admin then sets partial_outage by hand; the monitor
    coming up leaves partial_outage and logs why. Without the hand change it restores
    operational (the compare-and-set matches)."""
    ctx = _ctx(db, clock, [_monitor("web", web)])
    checker = MonitorChecker(ctx, "w1", client=client)
    await checker.arm()
    web.status = 503
    await _round(checker, clock)
    assert await _component(ctx) == "major_outage"
    await _set(ctx, "partial_outage")
    web.status = 200
    logs = await _round(checker, clock)
    assert await _component(ctx) == "partial_outage"
    [kept] = [e for e in logs if e["event"] == "component status set by hand kept"]
    assert kept["component"] == "Checkout"
    assert kept["status"] == "partial_outage"
    assert kept["monitors_set"] == "major_outage"
    await _set(ctx, "operational")
    web.status = 503
    await _round(checker, clock)
    assert await _component(ctx) == "major_outage"
    web.status = 200
    await _round(checker, clock)
    assert await _component(ctx) == "operational"


async def test_going_down_does_not_lower_a_worse_status_set_by_hand(
    db: Database, clock: Any, web: HttpTarget, client: httpx.AsyncClient
) -> None:
    """A monitor whose component_status is degraded_performance going down leaves an admin's
    major_outage, and coming up leaves it too: a monitor never makes a component look better
    than what a person set."""
    ctx = _ctx(db, clock, [_monitor("web", web, component_status="degraded_performance")])
    checker = MonitorChecker(ctx, "w1", client=client)
    await checker.arm()
    await _set(ctx, "major_outage")
    web.status = 503
    await _round(checker, clock)
    assert await _component(ctx) == "major_outage"
    web.status = 200
    await _round(checker, clock)
    assert await _component(ctx) == "major_outage"


async def test_pausing_or_deleting_a_down_monitor_keeps_a_status_set_by_hand(
    db: Database, clock: Any, web: HttpTarget, client: httpx.AsyncClient
) -> None:
    """Paused while down after an admin set under_maintenance, the monitor leaves the
    component under maintenance; a stored monitor deleted while down does the same."""
    ctx = _ctx(db, clock, [_monitor("web", web)])
    await add_monitor(ctx, _monitor("api", web), ROOT, restricted=False)
    checker = MonitorChecker(ctx, "w1", client=client)
    await checker.arm()
    web.status = 503
    await _round(checker, clock)
    assert await _component(ctx) == "major_outage"
    await _set(ctx, "under_maintenance")
    await set_paused(ctx, "web", True)
    assert await _component(ctx) == "under_maintenance"
    await delete_monitor(ctx, "api", ROOT)
    assert await _component(ctx) == "under_maintenance"


async def test_two_monitors_keep_their_component_at_the_worst_status_while_either_is_down(
    db: Database, clock: Any, web: HttpTarget, api: HttpTarget, client: httpx.AsyncClient
) -> None:
    """web (major_outage) and api (partial_outage) drive one component: both down, it shows
    major_outage; web up, partial_outage (api is still down); api up, operational. In the
    other order, api coming up first leaves major_outage for web."""
    monitors = [_monitor("web", web), _monitor("api", api, component_status="partial_outage")]
    ctx = _ctx(db, clock, monitors)
    checker = MonitorChecker(ctx, "w1", client=client)
    await checker.arm()
    web.status = api.status = 503
    await _round(checker, clock)
    assert await _component(ctx) == "major_outage"
    web.status = 200
    await _round(checker, clock)
    assert await _component(ctx) == "partial_outage"
    api.status = 200
    await _round(checker, clock)
    assert await _component(ctx) == "operational"
    web.status = api.status = 503
    await _round(checker, clock)
    assert await _component(ctx) == "major_outage"
    api.status = 200
    await _round(checker, clock)
    assert await _component(ctx) == "major_outage"
    web.status = 200
    await _round(checker, clock)
    assert await _component(ctx) == "operational"
