"""Scheduled maintenance against the real database (SQLite and PostgreSQL) and the real app: the
REST calls and their problems, the durable start/end timers fired by the timer runner with an
injected clock, the components under maintenance on the page, Statuspage's scheduled
maintenance JSON, is_under_maintenance, and the CLI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from conftest import Clock
from fakes.web_app import OPERATOR, bearer, web_client
from tocsin.adapters.cli.main import cli
from tocsin.delivery.timers import TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.domain.policy import Component, default_policy
from tocsin.services import maintenance as service
from tocsin.services.context import Context
from tocsin.storage.db import Database

POLICY = replace(default_policy(), components=(Component("API"), Component("Payments")))


@pytest.fixture
def mctx(db: Database, clock: Clock) -> Context:
    """A context whose policy lists the components API and Payments."""
    return Context(db=db, policy=POLICY, clock=clock)


@pytest.fixture
async def http(mctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    async with web_client(mctx) as client:
        yield client


def at(clock: Clock, **delta: float) -> str:
    return (clock.now + timedelta(**delta)).isoformat()


def runner(db: Database, clock: Clock) -> TimerRunner:
    handlers = service.maintenance_timer_handlers(TimerHandlers())
    return TimerRunner(db, handlers, Wakeup(), worker_id="t1", clock=clock)


async def test_api_creates_lists_gets_patches_and_cancels(
    mctx: Context, http: httpx.AsyncClient, clock: Clock
) -> None:
    """The five calls work with a write token, and a read token may only read."""
    write, read = await bearer(mctx, "ops", "write"), await bearer(mctx, "viewer", "read")
    body = {"title": "DB upgrade", "start": at(clock, hours=1), "end": at(clock, hours=2),
            "components": ["api"], "description": "Upgrading PostgreSQL"}  # fmt: skip
    made = await http.post("/api/v1/maintenances", json=body, headers=write)
    assert made.status_code == 201, made.text
    item = made.json()
    assert (item["status"], item["components"]) == ("scheduled", ["API"])
    assert made.headers["location"] == f"/api/v1/maintenances/{item['id']}"
    listed = await http.get("/api/v1/maintenances", headers=read)
    assert [m["title"] for m in listed.json()["items"]] == ["DB upgrade"]
    one = await http.get(f"/api/v1/maintenances/{item['id']}", headers=read)
    assert one.json()["description"] == "Upgrading PostgreSQL"
    patched = await http.patch(
        f"/api/v1/maintenances/{item['id']}", json={"end": at(clock, hours=3)}, headers=write
    )
    assert patched.status_code == 200
    assert patched.json()["end"] == at(clock, hours=3)
    refused = await http.post(f"/api/v1/maintenances/{item['id']}/cancel", headers=read)
    assert refused.status_code == 403
    cancelled = await http.post(f"/api/v1/maintenances/{item['id']}/cancel", headers=write)
    assert cancelled.json()["status"] == "cancelled"
    again = await http.post(f"/api/v1/maintenances/{item['id']}/cancel", headers=write)
    assert again.status_code == 409
    assert (await http.get("/api/v1/maintenances", headers=read)).json()["items"] == []
    everything = await http.get("/api/v1/maintenances?all=true", headers=read)
    assert [m["status"] for m in everything.json()["items"]] == ["cancelled"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": -1}, "end"),
        ({"start": -3, "end": -2}, "end"),
        ({"components": ["Search"]}, "components"),
        ({"start": "yesterday-ish"}, "start"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field_and_saves_nothing(
    mctx: Context,
    http: httpx.AsyncClient,
    clock: Clock,
    change: dict[str, object],
    field: str,
) -> None:
    """An end before the start, a window in the past, an unknown component or an unreadable
    time (hours from now given as numbers): 422 problem+json whose errors name the field, and
    no maintenance, no timer."""
    write = await bearer(mctx, "ops", "write")
    hours = {k: at(clock, hours=v) for k, v in change.items() if isinstance(v, int)}
    body = {"title": "DB upgrade", "start": "+1h", "end": "+2h", **change, **hours}
    answer = await http.post("/api/v1/maintenances", json=body, headers=write)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    async with mctx.uow(read_only=True) as uow:
        assert await uow.maintenance.since(mctx.clock() - timedelta(days=1)) == []
        assert await uow.timers.get("maintenance:1:start") is None


async def test_timers_start_and_complete_the_window_and_the_page_follows(
    mctx: Context, http: httpx.AsyncClient, db: Database, clock: Clock
) -> None:
    """Before the window the maintenance is upcoming; the start timer puts it in progress and its
    components under maintenance on the page and in the JSON; the end timer completes it."""
    made = await service.create(mctx, OPERATOR, "DB upgrade", "+1h", "+2h", ["API"], "Work")
    timers = runner(db, clock)
    assert await timers.fire_due() == 0
    upcoming = (await http.get("/status/api/v2/scheduled-maintenances/upcoming.json")).json()
    assert [m["name"] for m in upcoming["scheduled_maintenances"]] == ["DB upgrade"]
    summary = (await http.get("/status/api/v2/summary.json")).json()
    assert [m["status"] for m in summary["scheduled_maintenances"]] == ["scheduled"]
    assert summary["components"][0]["status"] == "operational"

    clock.advance(hours=1)
    assert await timers.fire_due() == 1
    assert (await service.get(mctx, made.id)).status == "in_progress"
    mctx.committed()  # the runner's commit is not the context's: drop the page cache
    summary = (await http.get("/status/api/v2/summary.json")).json()
    assert {c["name"]: c["status"] for c in summary["components"]} == {
        "API": "under_maintenance", "Payments": "operational"
    }  # fmt: skip
    assert summary["status"]["indicator"] == "maintenance"
    active = (await http.get("/status/api/v2/scheduled-maintenances/active.json")).json()
    assert [m["status"] for m in active["scheduled_maintenances"]] == ["in_progress"]
    page = (await http.get("/status")).text
    assert "DB upgrade" in page
    assert "Maintenance in progress" in page
    assert await service.is_under_maintenance(mctx, "API", clock.now)
    assert not await service.is_under_maintenance(mctx, "Payments", clock.now)

    clock.advance(hours=1)
    assert await timers.fire_due() == 1
    done = await service.get(mctx, made.id)
    assert (done.status, done.finished_at) == ("completed", clock.now)
    mctx.committed()
    summary = (await http.get("/status/api/v2/summary.json")).json()
    assert summary["scheduled_maintenances"] == []
    assert summary["components"][0]["status"] == "operational"
    assert not await service.is_under_maintenance(mctx, "API", clock.now)


async def test_a_timer_fires_once_across_two_runners_and_after_a_restart(
    mctx: Context, db: Database, clock: Clock
) -> None:
    """Two runners (replicas) on one database start the window once; a runner built afresh
    (a restart) finds the end timer in the database and completes it."""
    made = await service.create(mctx, OPERATOR, "Rotate keys", "+1h", "+2h", ["Payments"])
    clock.advance(hours=1)
    first, second = runner(db, clock), runner(db, clock)
    assert await first.fire_due() + await second.fire_due() == 1
    clock.advance(hours=1)
    assert await runner(db, clock).fire_due() == 1
    assert (await service.get(mctx, made.id)).status == "completed"


async def test_cancel_disarms_the_timers_and_edit_moves_them(
    mctx: Context, db: Database, clock: Clock
) -> None:
    """A cancelled maintenance never starts; an edited window starts at its new time."""
    gone = await service.create(mctx, OPERATOR, "Called off", "+1h", "+2h", ["API"])
    moved = await service.create(mctx, OPERATOR, "Moved", "+1h", "+2h", ["API"])
    await service.cancel(mctx, OPERATOR, gone.id)
    await service.edit(mctx, OPERATOR, moved.id, service.MaintenanceChange(start="+3h", end="+4h"))
    clock.advance(hours=1, minutes=30)
    timers = runner(db, clock)
    assert await timers.fire_due() == 0
    assert (await service.get(mctx, gone.id)).status == "cancelled"
    assert (await service.get(mctx, moved.id)).status == "scheduled"
    clock.advance(hours=2)
    assert await timers.fire_due() == 1
    assert (await service.get(mctx, moved.id)).status == "in_progress"


async def test_scheduled_maintenance_json_is_in_statuspage_shape(
    mctx: Context, http: httpx.AsyncClient, clock: Clock
) -> None:
    """scheduled-maintenances.json: incident objects with scheduled_for, scheduled_until,
    impact maintenance, the affected components and a first 'scheduled' update; cancelled
    maintenances are left out; JSON readable from any origin."""
    await service.create(mctx, OPERATOR, "DB <upgrade>", "+1h", "+2h", ["API"], "Downtime")
    gone = await service.create(mctx, OPERATOR, "Called off", "+1h", "+2h")
    await service.cancel(mctx, OPERATOR, gone.id)
    answer = await http.get("/status/api/v2/scheduled-maintenances.json")
    assert answer.headers["access-control-allow-origin"] == "*"
    assert b"<" not in answer.content  # escaped as \u003c
    [item] = answer.json()["scheduled_maintenances"]
    assert set(item) >= {
        "id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at",
        "impact", "shortlink", "started_at", "page_id", "incident_updates", "components",
        "scheduled_for", "scheduled_until",
    }  # fmt: skip
    assert item["name"] == "DB <upgrade>"
    assert item["impact"] == "maintenance"
    assert item["scheduled_for"] == (clock.now + timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )
    assert [c["name"] for c in item["components"]] == ["API"]
    assert [(u["status"], u["body"]) for u in item["incident_updates"]] == [
        ("scheduled", "Downtime")
    ]


@pytest.mark.usefixtures("cli_db")
def test_the_cli_creates_lists_and_cancels(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``tocsin maintenance create|list|cancel`` on a SQLite database, ``--json`` as the API's
    view, and a bad window refused with the field named and a non-zero exit."""
    policy = tmp_path / "policy.toml"
    policy.write_text('[[component]]\nname = "API"\n')
    monkeypatch.setenv("TOCSIN_POLICY_FILE", str(policy))
    cli_runner = CliRunner()
    made = cli_runner.invoke(cli, ["maintenance", "create", "DB upgrade", "--start", "+1h",
                                   "--end", "+2h", "--component", "API", "--json"])  # fmt: skip
    assert made.exit_code == 0, made.output
    view = json.loads(made.output)
    assert (view["title"], view["components"], view["status"]) == (
        "DB upgrade",
        ["API"],
        "scheduled",
    )
    listed = cli_runner.invoke(cli, ["maintenance", "list"])
    assert f"#{view['id']}  scheduled" in listed.output
    assert "[API]" in listed.output
    bad = cli_runner.invoke(cli, ["maintenance", "create", "X", "--start", "+2h", "--end", "+1h"])
    assert bad.exit_code != 0
    assert "end: the window must end after it starts" in bad.output
    unknown = cli_runner.invoke(
        cli, ["maintenance", "create", "X", "--start", "+1h", "--end", "+2h", "--component", "Nope"]
    )
    assert unknown.exit_code != 0
    assert "components:" in unknown.output
    cancelled = cli_runner.invoke(cli, ["maintenance", "cancel", str(view["id"])])
    assert cancelled.exit_code == 0
    assert "cancelled" in cancelled.output
    as_json = json.loads(cli_runner.invoke(cli, ["maintenance", "list", "--json"]).output)
    assert as_json == []
