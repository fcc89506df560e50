"""The monitor checker end to end on the real database, against real HTTP and TCP targets on
127.0.0.1: checks on durable timers (an injected clock, no sleeps), the state machine, alert
routing of a monitor going down and up, the status-page component, pause and resume, and the
timer claims that keep two checkers from checking a monitor twice in one interval."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from fakes.alerts_kit import groups
from fakes.monitor_target import Counter, HttpTarget, TcpTarget
from tocsin.domain.monitors import MonitorStatus
from tocsin.domain.policy_file import parse_policy
from tocsin.domain.status_view import PageInfo
from tocsin.observability.metrics import create_metrics
from tocsin.services.context import Context
from tocsin.services.monitors.checker import CHECK_TIMER, MonitorChecker, timer_key
from tocsin.services.monitors.record import set_paused
from tocsin.services.monitors.retention import apply_retention
from tocsin.services.monitors.views import list_monitors, monitor_detail
from tocsin.services.public_status_page import load_page
from tocsin.storage.db import Database
from tocsin.storage.monitors import CheckResult
from tocsin.storage.uow import UnitOfWork

ONCALL = [{"name": "default", "levels": [["slack:U0ONCALL"]]}]
DECLARE = {"match": {"alertname": "MonitorDown"}, "action": "declare", "severity": "P2",
           "auto_resolve": True}  # fmt: skip


def _ctx(db: Database, clock: Any, monitors: list[dict[str, Any]], route: Any = DECLARE) -> Context:
    policy = parse_policy(
        {
            "component": [{"name": "Checkout"}],
            "monitor": monitors,
            "alert_route": [route],
            "escalation": ONCALL,
        }
    )
    return Context(db, policy, clock=clock, destinations=frozenset({"slack"}))


@pytest.fixture
async def target() -> AsyncIterator[HttpTarget]:
    server = await HttpTarget().start()
    yield server
    await server.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


def _web(target: HttpTarget, **extra: Any) -> dict[str, Any]:
    return {"name": "web", "kind": "http", "url": target.url(), "interval_seconds": 30,
            "timeout_seconds": 5, "keyword": "ok", "absent_keyword": "error",
            "max_response_ms": 2000, "down_after": 2, "component": "Checkout", **extra}  # fmt: skip


async def _round(checker: MonitorChecker, clock: Any, seconds: float = 30) -> int:
    clock.advance(seconds=seconds)
    return await checker.run_once()


async def _component(ctx: Context) -> str:
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        stored = {c.name: c.status for c in await uow.status.components()}
    return stored.get("Checkout", "operational")


async def _incident_status(ctx: Context) -> str | None:
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        incident = await uow.incidents.get(1)
    return None if incident is None else incident.status.value


async def test_going_down_declares_and_sets_the_component_and_coming_back_resolves(
    db: Database, clock: Any, target: HttpTarget, client: httpx.AsyncClient
) -> None:
    """Two failed checks in a row (the keyword gone) make the monitor down: its alert group
    fires, the declare route opens an incident and the component shows major_outage; a good
    check brings it up, resolves the group, the incident (auto_resolve) and the component."""
    ctx = _ctx(db, clock, [_web(target)])
    checker = MonitorChecker(ctx, "w1", client=client, counter=target.counter)
    await checker.arm()
    assert await _round(checker, clock) == 1
    [item] = await list_monitors(ctx)
    assert item["status"] == "up"
    target.body = "fine"  # the keyword "ok" is missing
    await _round(checker, clock)
    assert (await list_monitors(ctx))[0]["status"] == "up"  # one failure is not down yet
    await _round(checker, clock)
    assert (await list_monitors(ctx))[0]["status"] == "down"
    [group] = await groups(ctx)
    assert group.group.firing
    assert group.incident == 1
    assert await _incident_status(ctx) == "investigating"
    assert await _component(ctx) == "major_outage"
    target.body = "all ok"
    await _round(checker, clock)
    assert (await list_monitors(ctx))[0]["status"] == "up"
    [group] = await groups(ctx)
    assert not group.group.firing
    assert await _incident_status(ctx) == "resolved"
    assert await _component(ctx) == "operational"
    detail = await monitor_detail(ctx, "web")
    assert [r["ok"] for r in detail["results"]] == [True, False, False, True]
    assert detail["results"][1]["error"] == 'keyword "ok" missing'
    page = await load_page(ctx, PageInfo("p", "Status", "https://x.test/"), lambda i: "id")
    [checkout] = page.components
    assert checkout.days[-1].uptime == 50.0  # two good checks of four, today
    assert checkout.uptime == 50.0


async def test_a_slow_or_wrong_answer_fails_with_its_reason(
    db: Database, clock: Any, target: HttpTarget, client: httpx.AsyncClient
) -> None:
    """An answer slower than max_response_ms (timed on the injected counter), a forbidden
    keyword and an unexpected status each fail the check with the reason people see."""
    ctx = _ctx(db, clock, [_web(target, down_after=5)])
    checker = MonitorChecker(ctx, "w1", client=client, counter=target.counter)
    await checker.arm()
    target.takes = 2.5
    await _round(checker, clock)
    target.takes, target.body = 0, "ok but error"
    await _round(checker, clock)
    target.body, target.status = "ok", 503
    await _round(checker, clock)
    detail = await monitor_detail(ctx, "web")
    assert [r["error"] for r in detail["results"]] == [
        "status 503, expected 2xx",
        'keyword "error" present',
        "took 2,500 ms > 2,000 ms",
    ]
    assert detail["results"][2]["latency_ms"] == 2500
    assert detail["status"] == "pending"  # three failures of five: not down yet


async def test_a_tcp_monitor_goes_down_when_nothing_listens_and_up_again(
    db: Database, clock: Any, client: httpx.AsyncClient
) -> None:
    """A TCP connect that is refused is a failed check; with down_after 1 the monitor is down
    (``monitor_up`` 0, the check counted as failed) and its alert group fires; the listener back
    on its port brings it up."""
    listener = await TcpTarget().start()
    monitor = {"name": "db", "kind": "tcp", "target": f"127.0.0.1:{listener.port}",
               "interval_seconds": 30, "timeout_seconds": 5, "down_after": 1}  # fmt: skip
    route = {"match": {"alertname": "MonitorDown"}, "action": "ignore"}
    ctx = _ctx(db, clock, [monitor], route)
    metrics = create_metrics(process=False)
    checker = MonitorChecker(ctx, "w1", metrics, client=client, counter=Counter())
    await checker.arm()
    await _round(checker, clock)
    assert (await list_monitors(ctx))[0]["status"] == "up"
    await listener.stop()
    await _round(checker, clock)
    sample = metrics.registry.get_sample_value
    assert sample("monitor_up", {"monitor": "db"}) == 0
    assert sample("monitor_checks_total", {"monitor": "db", "result": "failed"}) == 1
    assert sample("monitor_checks_total", {"monitor": "db", "result": "ok"}) == 1
    assert sample("monitor_check_seconds_count", {"monitor": "db"}) == 1  # refused: no time
    detail = await monitor_detail(ctx, "db")
    assert (detail["status"], detail["results"][0]["error"]) == ("down", "connection refused")
    [group] = await groups(ctx)
    assert group.group.firing
    await listener.start()
    try:
        await _round(checker, clock)
    finally:
        await listener.stop()
    assert (await list_monitors(ctx))[0]["status"] == "up"
    [group] = await groups(ctx)
    assert not group.group.firing


async def test_a_paused_monitor_is_not_checked_and_resumes_pending(
    db: Database, clock: Any, target: HttpTarget, client: httpx.AsyncClient
) -> None:
    """Pausing a down monitor resolves its alert and its component; while paused no request
    is made; resumed, it is pending and checked again."""
    ctx = _ctx(db, clock, [_web(target, down_after=1)])
    checker = MonitorChecker(ctx, "w1", client=client, counter=target.counter)
    await checker.arm()
    target.status = 500
    await _round(checker, clock)
    assert await _component(ctx) == "major_outage"
    state = await set_paused(ctx, "web", True)
    assert state.status is MonitorStatus.PAUSED
    assert await _component(ctx) == "operational"
    assert await _incident_status(ctx) == "resolved"
    asked = target.requests
    await _round(checker, clock)
    assert target.requests == asked
    assert (await list_monitors(ctx))[0]["status"] == "paused"
    assert (await set_paused(ctx, "web", False)).status is MonitorStatus.PENDING
    await _round(checker, clock)
    assert target.requests == asked + 1


async def test_two_checkers_never_check_a_monitor_twice_in_one_interval(
    db: Database, database_url: str, clock: Any, target: HttpTarget, client: httpx.AsyncClient
) -> None:
    """Two checkers on their own connections (as two processes) running the same rounds
    together: each monitor is checked exactly once per interval, and arming again after a
    restart keeps the stored due time."""
    monitors = [_web(target, name=f"web-{n}") for n in range(6)]
    for monitor in monitors:
        del monitor["component"]
    ctx = _ctx(db, clock, monitors)
    other_db = Database(database_url)
    try:
        other = _ctx(other_db, clock, monitors)
        first = MonitorChecker(ctx, "w1", client=client, counter=target.counter)
        second = MonitorChecker(other, "w2", client=client, counter=target.counter)
        await first.arm()
        async with UnitOfWork(db, read_only=True) as uow:
            due = (await uow.timers.get(timer_key("web-0"))).due_at  # type: ignore[union-attr]
        await second.arm()  # a restart: the timers keep their times
        async with UnitOfWork(db, read_only=True) as uow:
            again = await uow.timers.get(timer_key("web-0"))
        assert again is not None
        assert (again.due_at, again.kind) == (due, CHECK_TIMER)
        for _ in range(3):
            clock.advance(seconds=30)
            counts = await asyncio.gather(first.run_once(), second.run_once())
            assert sum(counts) == 6
            assert await asyncio.gather(first.run_once(), second.run_once()) == [0, 0]
        assert target.requests == 18
    finally:
        await other_db.dispose()


async def test_retention_folds_week_old_checks_into_hourly_aggregates(
    db: Database, clock: Any
) -> None:
    """The retention pass keeps the last week as rows, folds older hours into one aggregate per
    monitor and hour (checks, failures, latencies), and drops what is past 90 days."""

    now = clock()
    old = now - timedelta(days=8)
    ancient = now - timedelta(days=91)
    rows = [CheckResult("web", old.replace(minute=5), True, 10),
            CheckResult("web", old.replace(minute=35), False, None, "connection refused"),
            CheckResult("web", ancient, True, 5), CheckResult("web", now, True, 7)]  # fmt: skip
    async with UnitOfWork(db) as uow:
        for row in rows:
            await uow.monitors.add_result(row)
        gone = await apply_retention(uow, now)
        await uow.commit()
    assert gone == 3
    async with UnitOfWork(db, read_only=True) as uow:
        kept = await uow.monitors.results(["web"], now - timedelta(days=100))
        [hour] = await uow.monitors.aggregates(["web"], now - timedelta(days=100))
    assert [r.checked_at for r in kept] == [now]
    assert (hour.count, hour.failures, hour.min_ms, hour.max_ms) == (2, 1, 10, 10)


async def test_a_check_that_raises_does_not_stop_the_round(
    db: Database, clock: Any, target: HttpTarget
) -> None:
    """An unexpected error while probing one monitor (here the HTTP client itself raises) is
    logged and skipped: the other monitors of the same round are still checked and recorded."""

    def transport(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/broken":
            raise RuntimeError("client bug")
        return httpx.Response(200, text="ok")

    broken = {**_web(target), "name": "broken", "url": target.url("/broken")}
    ctx = _ctx(db, clock, [_web(target), broken])
    async with httpx.AsyncClient(transport=httpx.MockTransport(transport)) as client:
        checker = MonitorChecker(ctx, "w1", client=client)
        await checker.arm()
        assert await _round(checker, clock) == 2
    statuses = {m["name"]: m["status"] for m in await list_monitors(ctx)}
    assert statuses == {"web": "up", "broken": "pending"}
    assert (await monitor_detail(ctx, "broken"))["results"] == []
