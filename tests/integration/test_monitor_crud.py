"""Monitors created and deleted through ``/api/v1/monitors`` on the real database, checked by the
real checker against HTTP targets on 127.0.0.1: they are listed with ``source`` api, checked
without a restart, and gone with their timer once deleted; callers that are not admins may not
point them at internal addresses (at creation, and at every check: a name that turns private,
a redirect that leads inside), unless TOCSIN_MONITOR_ALLOW_PRIVATE allows it; names clash with
409. Resolution goes through the context's resolver seam, mapped by each test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from fakes.alerts_kit import groups
from fakes.monitor_target import HttpTarget, Resolver
from fakes.web_app import api_client, bearer
from integration.test_api import assert_problem
from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.domain.monitors import Outcome
from tocsin.domain.policy_file import parse_policy
from tocsin.observability.metrics import create_metrics
from tocsin.services.address_guard import AddressGuard
from tocsin.services.alerts.process import AlertProcessor
from tocsin.services.context import Context
from tocsin.services.monitor_catalog import stored_monitors
from tocsin.services.monitors.checker import MonitorChecker, timer_key
from tocsin.services.monitors.record import record
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork

PUBLIC, OTHER_PUBLIC = "93.184.216.34", "93.184.216.35"
ROUTE = {"match": {"alertname": "MonitorDown"}, "action": "page", "severity": "P2"}


@pytest.fixture
async def target() -> AsyncIterator[HttpTarget]:
    server = await HttpTarget().start()
    yield server
    await server.stop()


@pytest.fixture
def resolver() -> Resolver:
    return Resolver()


def _ctx(db: Database, clock: Any, resolver: Resolver, target: HttpTarget, **guard: Any) -> Context:
    policy = parse_policy(
        {
            "component": [{"name": "Checkout"}],
            "monitor": [{"name": "policy-web", "kind": "http", "url": target.url("/policy"),
                         "interval_seconds": 30, "timeout_seconds": 5}],
            "alert_route": [ROUTE],
            "escalation": [{"name": "default", "levels": [["slack:U0ONCALL"]]}],
        }
    )  # fmt: skip
    return Context(db, policy, clock=clock, address_guard=AddressGuard(resolve=resolver, **guard))


@pytest.fixture
def ctx(db: Database, clock: Any, resolver: Resolver, target: HttpTarget) -> Context:
    return _ctx(db, clock, resolver, target)


@pytest.fixture
async def api(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(ctx) as http:
        yield http


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def _web(url: str, name: str = "api-web", **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "http", "url": url, "interval_seconds": 30,
            "timeout_seconds": 5, **extra}  # fmt: skip


async def _stored(ctx: Context) -> list[str]:
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        return [d.name for d in await uow.monitors.definitions()]


async def test_an_api_monitor_is_listed_checked_and_deleted(
    ctx: Context, api: httpx.AsyncClient, clock: Any, target: HttpTarget, http: httpx.AsyncClient
) -> None:
    """An admin creates a monitor (201, Location, source api); a checker started before it
    picks it up without a restart and checks it against the local target; the list shows both
    monitors with their source; deleting it (audited) removes its timer and state, and it is
    not checked again while the policy's monitor still is."""
    admin = await bearer(ctx, "root", "admin")
    checker = MonitorChecker(ctx, "w1", client=http, counter=target.counter)
    await checker.arm()
    made = await api.post("/api/v1/monitors", json=_web(target.url("/api")), headers=admin)
    assert made.status_code == 201, made.text
    assert made.headers["location"] == "/api/v1/monitors/api-web"
    assert (made.json()["source"], made.json()["status"]) == ("api", "pending")
    clock.advance(seconds=30)
    assert await checker.run_once() == 2
    assert sorted(h.split()[1] for h in target.heads) == ["/api", "/policy"]
    listed = (await api.get("/api/v1/monitors", headers=admin)).json()["items"]
    assert [(i["name"], i["source"], i["status"]) for i in listed] == [
        ("policy-web", "policy", "up"),
        ("api-web", "api", "up"),
    ]
    gone = await api.delete("/api/v1/monitors/api-web", headers=admin)
    assert gone.status_code == 200, gone.text
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        assert await uow.timers.get(timer_key("api-web")) is None
        assert await uow.monitors.state("api-web") is None
        commands = [e.record.command for e in await uow.audit.recent()]
    assert commands[:2] == ["monitor delete", "monitor add"]
    clock.advance(seconds=30)
    assert await checker.run_once() == 1
    assert target.heads[-1].split()[1] == "/policy"
    assert_problem(await api.get("/api/v1/monitors/api-web", headers=admin), 404)


async def test_a_non_admin_may_not_target_internal_addresses(
    db: Database,
    ctx: Context,
    api: httpx.AsyncClient,
    clock: Any,
    resolver: Resolver,
    target: HttpTarget,
) -> None:
    """A write token's monitor on 127.0.0.1, on a name resolving to a private address (even
    beside a public one) or to nothing is a 422 naming url/target, and nothing is stored; an
    admin token may; with TOCSIN_MONITOR_ALLOW_PRIVATE a write token may too."""
    writer = await bearer(ctx, "w", "write")
    resolver.names |= {"mixed.example": (PUBLIC, "10.0.0.7"), "db.example": ("192.168.1.2",)}
    refused = [
        (_web(target.url()), "url"),
        (_web("https://mixed.example/"), "url"),
        (_web("https://nowhere.example/"), "url"),
        ({"name": "db", "kind": "tcp", "target": "db.example:5432"}, "target"),
        ({"name": "v6", "kind": "tcp", "target": "[::ffff:127.0.0.1]:22"}, "target"),
    ]
    for body, field in refused:
        problem = assert_problem(await api.post("/api/v1/monitors", json=body, headers=writer), 422)
        assert [e["field"] for e in problem["errors"]] == [field]  # type: ignore[attr-defined]
    assert await _stored(ctx) == []
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        assert await uow.timers.get(timer_key("api-web")) is None
    admin = await bearer(ctx, "root", "admin")
    assert (await api.post("/api/v1/monitors", json=_web(target.url()), headers=admin)).is_success
    allowing = _ctx(db, clock, resolver, target, allow_private=True)
    async with api_client(allowing) as other:
        body = _web(target.url(), name="mine")
        made = await other.post("/api/v1/monitors", json=body, headers=writer)
    assert made.status_code == 201, made.text
    assert await _stored(ctx) == ["api-web", "mine"]


async def test_a_restricted_monitor_whose_name_turns_private_fails_blocked(
    ctx: Context,
    api: httpx.AsyncClient,
    clock: Any,
    resolver: Resolver,
    target: HttpTarget,
    http: httpx.AsyncClient,
) -> None:
    """A write token's monitor on a public name is stored; when the name later resolves to
    127.0.0.1 (DNS rebinding) the check fails as "private address not allowed" without a
    request reaching the local target; down, it pages, and deleting it resolves the alert."""
    writer = await bearer(ctx, "w", "write")
    resolver.names["svc.example"] = (PUBLIC,)
    body = _web(f"http://svc.example:{target.port}/", down_after=1)
    assert (await api.post("/api/v1/monitors", json=body, headers=writer)).status_code == 201
    resolver.names["svc.example"] = ("127.0.0.1",)
    checker = MonitorChecker(ctx, "w1", client=http, counter=target.counter)
    clock.advance(seconds=30)
    await checker.run_once()
    assert all(h.split()[1] == "/policy" for h in target.heads)  # none reached / here
    one = (await api.get("/api/v1/monitors/api-web", headers=writer)).json()
    assert one["status"] == "down"
    assert one["results"][0]["error"] == "private address not allowed"
    [group] = await groups(ctx)
    assert group.group.firing
    assert (await api.delete("/api/v1/monitors/api-web", headers=writer)).status_code == 200
    [group] = await groups(ctx)
    assert not group.group.firing


async def test_names_clash_and_policy_monitors_are_not_deleted_here(
    ctx: Context, api: httpx.AsyncClient, target: HttpTarget
) -> None:
    """A policy monitor's name or a stored one's is a 409; deleting a policy monitor is a 409
    pointing at the policy file, an unknown one a 404; a read token gets 403; bad values are a
    422 naming each field, an unknown component included."""
    admin, reader = await bearer(ctx, "root", "admin"), await bearer(ctx, "r", "read")
    post = "/api/v1/monitors"
    assert (await api.post(post, json=_web(target.url()), headers=admin)).status_code == 201
    assert_problem(await api.post(post, json=_web(target.url()), headers=admin), 409)
    clash = assert_problem(await api.post(post, json=_web(target.url(), "policy-web"),
                                          headers=admin), 409)  # fmt: skip
    assert "policy file" in str(clash["detail"])
    refused = assert_problem(await api.delete("/api/v1/monitors/policy-web", headers=admin), 409)
    assert "policy file" in str(refused["detail"])
    assert_problem(await api.delete("/api/v1/monitors/nope", headers=admin), 404)
    assert_problem(await api.post(post, json=_web(target.url(), "x"), headers=reader), 403)
    assert_problem(await api.delete("/api/v1/monitors/api-web", headers=reader), 403)
    bad = {"name": "a/b", "kind": "tcp", "url": "http://x/", "target": "db:99999",
           "component": "API", "interval_seconds": 5}  # fmt: skip
    problem = assert_problem(await api.post(post, json=bad, headers=admin), 422)
    fields = {e["field"] for e in problem["errors"]}  # type: ignore[attr-defined]
    assert fields == {"name", "url", "target", "component", "interval_seconds"}
    assert await _stored(ctx) == ["api-web"]


async def test_a_timer_whose_monitor_is_gone_is_deleted(
    ctx: Context, clock: Any, http: httpx.AsyncClient, target: HttpTarget
) -> None:
    """A claimed check timer naming no monitor (removed from the policy file, or deleted by
    another process) is deleted rather than left fired; the known monitor is still checked."""
    checker = MonitorChecker(ctx, "w1", client=http, counter=target.counter)
    await checker.arm()
    async with UnitOfWork(ctx.db) as uow:
        await uow.timers.schedule(timer_key("gone"), "monitor_check", clock())
        await uow.commit()
    clock.advance(seconds=30)
    assert await checker.run_once() == 1
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        assert await uow.timers.get(timer_key("gone")) is None
        assert await uow.timers.get(timer_key("policy-web")) is not None


async def test_a_result_arriving_after_the_delete_is_dropped(
    ctx: Context, api: httpx.AsyncClient, target: HttpTarget
) -> None:
    """A check that was under way when its monitor was deleted stores nothing: no state or
    result comes back for the name (so adding it again starts from pending)."""
    admin = await bearer(ctx, "root", "admin")
    made = await api.post("/api/v1/monitors", json=_web(target.url()), headers=admin)
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        [monitor] = stored_monitors(ctx, await uow.monitors.definitions())
    assert made.status_code == 201
    assert (await api.delete("/api/v1/monitors/api-web", headers=admin)).status_code == 200
    await record(ctx, AlertProcessor(ctx), monitor, Outcome(ctx.clock(), False, "refused"))
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        assert await uow.monitors.state("api-web") is None
        assert await uow.monitors.results(["api-web"], ctx.clock() - timedelta(days=1)) == []


async def test_a_deleted_monitor_leaves_the_metrics(
    ctx: Context, clock: Any, target: HttpTarget, http: httpx.AsyncClient
) -> None:
    """After a check, /metrics has the stored monitor's monitor_up, monitor_check_seconds and
    monitor_checks_total series; deleted through the API, the checker's next round drops them
    all, while the policy monitor's stay."""
    metrics = create_metrics(process=False)
    routes = access_routes(ctx, secret="k" * 40, secure_cookies=False)
    app = create_app(ctx, metrics, Runtime(), routes=routes)
    transport = httpx.ASGITransport(app=app)
    admin = await bearer(ctx, "root", "admin")
    checker = MonitorChecker(ctx, "w1", metrics=metrics, client=http, counter=target.counter)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as api:
        await checker.arm()
        made = await api.post("/api/v1/monitors", json=_web(target.url("/api")), headers=admin)
        assert made.status_code == 201, made.text
        clock.advance(seconds=30)
        assert await checker.run_once() == 2

        async def series(name: str) -> list[str]:
            text = (await api.get("/metrics")).text
            return [line for line in text.splitlines() if f'monitor="{name}"' in line]

        before = await series("api-web")
        assert any(line.startswith("monitor_up{") for line in before)
        assert any(line.startswith("monitor_check_seconds_count{") for line in before)
        assert any(line.startswith("monitor_checks_total{") for line in before)
        assert (await api.delete("/api/v1/monitors/api-web", headers=admin)).status_code == 200
        clock.advance(seconds=30)
        assert await checker.run_once() == 1
        assert await series("api-web") == []
        assert any(line.startswith("monitor_up{") for line in await series("policy-web"))
