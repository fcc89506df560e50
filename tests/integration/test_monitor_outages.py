"""Monitors against targets on 127.0.0.1 that misbehave the ways real ones do, and checkers that
misbehave the ways real processes do: an HTTP server that goes away and comes back on its port,
HTTP and TCP answers that slow down past ``max_response_ms``, a checker that claimed a round and
died before recording it (the next one checks at the stored due times: no burst, nothing
recorded twice), and, on PostgreSQL, a replica holding a claim while another runs its round (the
other skips the locked timer instead of checking that monitor too). Injected clock and
response-time counters, no sleeps (docs/monitors.md, "What runs")."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest

from fakes.alerts_kit import groups
from fakes.monitor_target import Counter, HttpTarget, TcpTarget
from tocsin.domain.policy_file import parse_policy
from tocsin.services.context import Context
from tocsin.services.monitors.checker import CHECK_TIMER, MonitorChecker, timer_key
from tocsin.services.monitors.views import list_monitors, monitor_detail
from tocsin.storage import migrate
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork

IGNORE = {"match": {"alertname": "MonitorDown"}, "action": "ignore"}


def _ctx(db: Database, clock: Any, monitors: list[dict[str, Any]]) -> Context:
    return Context(db, parse_policy({"monitor": monitors, "alert_route": [IGNORE]}), clock=clock)


def _http(name: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "http", "url": url, "interval_seconds": 30,
            "timeout_seconds": 5, "down_after": 2, **extra}  # fmt: skip


@dataclass
class StallingTarget(HttpTarget):
    """An HTTP target that can come back on the port it had, and can hold a request unanswered
    (``stall``) until ``release`` is set; ``arrived`` is set when such a request came in."""

    stall: bool = False
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def start_on(self, port: int) -> StallingTarget:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", port)
        return self

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.stall:
            await super()._answer(reader, writer)
            return
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            self.arrived.set()
            await self.release.wait()
        writer.close()


@pytest.fixture
async def target() -> AsyncIterator[StallingTarget]:
    server = StallingTarget()
    await server.start()
    yield server
    server.release.set()
    await server.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


async def _round(checker: MonitorChecker, clock: Any, seconds: float = 30) -> int:
    clock.advance(seconds=seconds)
    return await checker.run_once()


async def _checks(ctx: Context, name: str) -> list[tuple[bool, str | None]]:
    results = (await monitor_detail(ctx, name))["results"]
    return [(r["ok"], r["error"]) for r in reversed(results)]


async def test_an_http_server_that_goes_away_is_down_until_it_is_back_on_its_port(
    db: Database, clock: Any, target: StallingTarget, client: httpx.AsyncClient
) -> None:
    """The server stopped: two refused connections make the monitor down and its group fire;
    started again on the same port, one good check brings it up and resolves the group."""
    ctx = _ctx(db, clock, [_http("web", target.url())])
    checker = MonitorChecker(ctx, "w1", client=client, counter=target.counter)
    await checker.arm()
    await _round(checker, clock)
    port = target.port
    await target.stop()
    await _round(checker, clock)
    await _round(checker, clock)
    assert (await list_monitors(ctx))[0]["status"] == "down"
    [group] = await groups(ctx)
    assert group.group.firing
    await target.start_on(port)
    await _round(checker, clock)
    assert (await list_monitors(ctx))[0]["status"] == "up"
    [group] = await groups(ctx)
    assert not group.group.firing
    assert await _checks(ctx, "web") == [
        (True, None), (False, "connection refused"), (False, "connection refused"), (True, None),
    ]  # fmt: skip


async def test_an_http_answer_slowing_down_past_its_limit_makes_the_monitor_down(
    db: Database, clock: Any, target: StallingTarget, client: httpx.AsyncClient
) -> None:
    """Answers taking 2.5 s against max_response_ms 2000 fail twice in a row: down, with both
    slow checks (time and reason) as the alert's description; fast again, it is up."""
    ctx = _ctx(db, clock, [_http("web", target.url(), max_response_ms=2000)])
    checker = MonitorChecker(ctx, "w1", client=client, counter=target.counter)
    await checker.arm()
    await _round(checker, clock)
    target.takes = 2.5
    await _round(checker, clock)
    await _round(checker, clock)
    assert (await list_monitors(ctx))[0]["status"] == "down"
    [group] = await groups(ctx)
    [alert] = group.group.firing
    assert alert.annotations["description"] == (
        "09:01:00 took 2,500 ms > 2,000 ms; 09:01:30 took 2,500 ms > 2,000 ms"
    )
    target.takes = 0.1
    await _round(checker, clock)
    assert (await list_monitors(ctx))[0]["status"] == "up"
    assert (await monitor_detail(ctx, "web"))["results"][0]["latency_ms"] == 100


@dataclass
class SlowCounter(Counter):
    """A response-time counter that moves ``step`` seconds each time it is read, so a TCP
    connect (timed between two reads) takes ``step``."""

    step: float = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


async def test_a_tcp_connect_slowing_down_past_its_limit_makes_the_monitor_down(
    db: Database, clock: Any, client: httpx.AsyncClient
) -> None:
    """A TCP monitor with max_response_ms 500 and down_after 1: a connect timed at 800 ms is a
    failed check ("took 800 ms > 500 ms") and the monitor is down; at 10 ms it is up again."""
    listener = await TcpTarget().start()
    try:
        monitor = {"name": "db", "kind": "tcp", "target": f"127.0.0.1:{listener.port}",
                   "interval_seconds": 30, "timeout_seconds": 5, "max_response_ms": 500,
                   "down_after": 1}  # fmt: skip
        ctx = _ctx(db, clock, [monitor])
        counter = SlowCounter(step=0.8)
        checker = MonitorChecker(ctx, "w1", client=client, counter=counter)
        await checker.arm()
        await _round(checker, clock)
        assert (await list_monitors(ctx))[0]["status"] == "down"
        counter.step = 0.01
        await _round(checker, clock)
    finally:
        await listener.stop()
    assert await _checks(ctx, "db") == [(False, "took 800 ms > 500 ms"), (True, None)]
    assert (await list_monitors(ctx))[0]["status"] == "up"


async def _results(db: Database, names: list[str], since: Any) -> int:
    async with UnitOfWork(db, read_only=True) as uow:
        return len(await uow.monitors.results(names, since))


async def _due(db: Database, names: list[str]) -> dict[str, Any]:
    async with UnitOfWork(db, read_only=True) as uow:
        timers = {name: await uow.timers.get(timer_key(name)) for name in names}
    return {name: timer.due_at for name, timer in timers.items() if timer is not None}


async def test_a_checker_that_died_mid_round_is_followed_at_the_stored_due_times(
    db: Database, clock: Any, target: StallingTarget, client: httpx.AsyncClient
) -> None:
    """Three monitors claimed by a checker that dies while its requests are unanswered (no
    result recorded): a checker started after it arms again without moving the due times, checks
    nothing before they come (no burst of the lost round), checks each monitor once when they
    do, and the database holds exactly those three results."""
    names = ["web-0", "web-1", "web-2"]
    monitors = [_http(name, target.url(f"/{name}")) for name in names]
    ctx = _ctx(db, clock, monitors)
    dying = MonitorChecker(ctx, "w1", client=client, counter=target.counter)
    await dying.arm()
    start = clock()
    clock.advance(seconds=30)  # every first due time is within one interval of arming
    target.stall = True
    round_ = asyncio.ensure_future(dying.run_once())
    arrived = asyncio.ensure_future(target.arrived.wait())
    await asyncio.wait({round_, arrived}, return_when=asyncio.FIRST_COMPLETED)
    assert arrived.done(), round_.result()  # the round must not have ended by itself
    round_.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await round_
    assert await _results(db, names, start) == 0
    due = await _due(db, names)
    assert sorted(due) == names
    assert all(at > clock() for at in due.values())  # the claim re-armed them for later
    target.stall = False
    restarted = MonitorChecker(_ctx(db, clock, monitors), "w2", client=client)
    await restarted.arm()
    assert await _due(db, names) == due
    assert await restarted.run_once() == 0
    clock.now = min(due.values()) - timedelta(milliseconds=1)
    assert await restarted.run_once() == 0
    clock.now = max(due.values())
    assert await restarted.run_once() == 3
    assert await restarted.run_once() == 0
    assert await _results(db, names, start) == 3
    async with UnitOfWork(db, read_only=True) as uow:
        kinds = {(await uow.timers.get(timer_key(n))).kind for n in names}  # type: ignore[union-attr]
    assert kinds == {CHECK_TIMER}


@pytest.fixture
async def pg_db(pg_url: str) -> AsyncIterator[Database]:
    """A migrated PostgreSQL database (skipped, with how to run it, without PostgreSQL)."""
    database = Database(pg_url)
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.mark.postgres
async def test_a_replica_skips_the_timer_another_holds_on_postgresql(
    pg_db: Database, pg_url: str, clock: Any, target: StallingTarget, client: httpx.AsyncClient
) -> None:
    """One replica has claimed a monitor's timer in a transaction still open (its row locked);
    another replica's round, on its own connection, skips that row (FOR UPDATE SKIP LOCKED) and
    checks the other five without waiting; the claim rolled back, the first replica's round
    checks the sixth. Each monitor is checked exactly once in the interval."""
    names = [f"web-{n}" for n in range(6)]
    monitors = [_http(name, target.url(f"/{name}")) for name in names]
    ctx = _ctx(pg_db, clock, monitors)
    other_db = Database(pg_url)
    try:
        first = MonitorChecker(ctx, "w1", client=client, counter=target.counter)
        second = MonitorChecker(_ctx(other_db, clock, monitors), "w2", client=client)
        await first.arm()
        clock.advance(seconds=30)
        async with UnitOfWork(pg_db) as held:
            timer = await held.timers.claim_due([CHECK_TIMER], clock(), "w1")
            assert timer is not None
            # a guard against hanging if the row lock made the other replica wait
            checked = await asyncio.wait_for(second.run_once(), timeout=60)
            assert checked == 5
            # leaving without commit rolls the claim back
        assert await first.run_once() == 1
        assert await asyncio.gather(first.run_once(), second.run_once()) == [0, 0]
        assert target.requests == 6
        async with UnitOfWork(pg_db, read_only=True) as uow:
            rows = await uow.monitors.results(names, clock() - timedelta(minutes=5))
        assert sorted(r.monitor for r in rows) == names
    finally:
        await other_db.dispose()
