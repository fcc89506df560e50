"""``/api/v1/monitors`` and ``tocsin monitor``: the policy's monitors with their state, one
with its recent results, pause and resume (write scope, cancelling and re-arming the check
timer), unknown names answered 404, and ``add``/``delete`` of stored monitors from the CLI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from fakes.web_app import bearer
from integration.test_api import assert_problem
from tocsin.adapters.cli.monitors import monitor
from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.domain.monitors import Outcome
from tocsin.domain.policy_file import parse_policy
from tocsin.observability.metrics import create_metrics
from tocsin.services.alerts.process import AlertProcessor
from tocsin.services.context import Context
from tocsin.services.monitors.checker import MonitorChecker, timer_key
from tocsin.services.monitors.record import record
from tocsin.storage.db import Database
from tocsin.storage.timers import CANCELLED, PENDING
from tocsin.storage.uow import UnitOfWork

MONITORS = [{"name": "web", "kind": "http", "url": "http://127.0.0.1:9/health"},
            {"name": "db", "kind": "tcp", "target": "127.0.0.1:9"}]  # fmt: skip


@pytest.fixture
def watched(db: Database, clock: Any) -> Context:
    return Context(db, parse_policy({"monitor": MONITORS}), clock=clock)


@pytest.fixture
async def api(watched: Context) -> AsyncIterator[httpx.AsyncClient]:
    routes = access_routes(watched, secret="k" * 40, secure_cookies=False)
    app = create_app(watched, create_metrics(process=False), Runtime(), routes=routes)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield http


async def test_api_lists_shows_pauses_and_resumes(
    watched: Context, api: httpx.AsyncClient, clock: Any
) -> None:
    """The list has every policy monitor (pending before any check); one monitor shows its
    results; pause needs the write scope and cancels the check timer, resume re-arms it; an
    unknown name is a 404 problem."""
    monitor_web = watched.policy.monitors[0]
    await record(watched, AlertProcessor(watched), monitor_web, Outcome(clock(), True, "", 12))
    reader = await bearer(watched, "r", "read")
    writer = await bearer(watched, "w", "write")
    listed = (await api.get("/api/v1/monitors", headers=reader)).json()["items"]
    assert [(i["name"], i["status"], i["latency_ms"]) for i in listed] == [
        ("web", "up", 12),
        ("db", "pending", None),
    ]
    one = (await api.get("/api/v1/monitors/web", headers=reader)).json()
    assert [r["ok"] for r in one["results"]] == [True]
    assert_problem(await api.post("/api/v1/monitors/web/pause", headers=reader), 403)
    await MonitorChecker(watched, "w1").arm()
    assert await _timer_state(watched) == PENDING
    paused = await api.post("/api/v1/monitors/web/pause", headers=writer)
    assert paused.json()["status"] == "paused"
    assert await _timer_state(watched) == CANCELLED  # a paused monitor costs no claim
    resumed = await api.post("/api/v1/monitors/web/resume", headers=writer)
    assert resumed.json()["status"] == "pending"
    assert await _timer_state(watched) == PENDING
    assert_problem(await api.get("/api/v1/monitors/nope", headers=reader), 404)


async def _timer_state(ctx: Context) -> str | None:
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        timer = await uow.timers.get(timer_key("web"))
    return None if timer is None else timer.state


@pytest.fixture
def cli_env(cli_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[[monitor]]\nname = "web"\nkind = "http"\nurl = "http://127.0.0.1:9/"\n')
    monkeypatch.setenv("TOCSIN_POLICY_FILE", str(policy))


@pytest.mark.usefixtures("cli_env")
def test_cli_list_pause_resume_add_and_delete() -> None:
    """`monitor list --json` shows name/status/last_checked/latency_ms and the source; pause
    and resume change the status; `add` stores a monitor (the CLI acts as an admin, so
    127.0.0.1 is fine) and `delete` removes it; bad options and a policy monitor's deletion
    exit non-zero with one line naming the option or the policy file."""
    runner = CliRunner()
    listed = json.loads(runner.invoke(monitor, ["list", "--json"]).output)
    assert [(i["name"], i["status"], i["last_checked"], i["source"]) for i in listed] == [
        ("web", "pending", None, "policy")
    ]
    assert runner.invoke(monitor, ["pause", "web"]).exit_code == 0
    assert "web  paused" in runner.invoke(monitor, ["list"]).output
    assert runner.invoke(monitor, ["resume", "web"]).exit_code == 0
    assert "web  pending" in runner.invoke(monitor, ["list"]).output
    add = ["add", "api", "--kind", "http", "--url", "http://127.0.0.1:9/health",
           "--interval", "30", "--timeout", "5", "--expect-status", "200",
           "--expect-status", "204", "--keyword", "ok", "--header", "X-Probe: tocsin",
           "--follow-redirects", "--json"]  # fmt: skip
    added = runner.invoke(monitor, add)
    assert added.exit_code == 0, added.output
    assert (json.loads(added.output)["source"], json.loads(added.output)["status"]) == (
        "api", "pending",
    )  # fmt: skip
    tcp = runner.invoke(monitor, ["add", "db", "--kind", "tcp", "--target", "127.0.0.1:5432"])
    assert tcp.exit_code == 0, tcp.output
    names = [i["name"] for i in json.loads(runner.invoke(monitor, ["list", "--json"]).output)]
    assert names == ["web", "api", "db"]
    for args, says in [
        (["add", "x", "--kind", "http", "--url", "ftp://a/"], "--url: expected an http://"),
        (["add", "x", "--kind", "tcp", "--target", "db"], "--target: expected host:port"),
        (["add", "x", "--kind", "http", "--url", "http://a/", "--header", "nocolon"], "--header"),
        (["add", "x", "--kind", "http", "--url", "http://a/", "--interval", "5"], "--interval"),
        (["add", "api", "--kind", "tcp", "--target", "a:1"], "already exists"),
        (["delete", "web"], "policy file"),
        (["delete", "nope"], "no monitor 'nope'"),
    ]:
        refused = runner.invoke(monitor, args)
        assert refused.exit_code != 0
        assert says in str(refused.exception)  # the entry point prints it as one line
    assert runner.invoke(monitor, ["delete", "api"]).exit_code == 0
    names = [i["name"] for i in json.loads(runner.invoke(monitor, ["list", "--json"]).output)]
    assert names == ["web", "db"]
    assert runner.invoke(monitor, ["pause", "nope"]).exit_code != 0
