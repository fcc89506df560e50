"""Who is on call, through the REST API and the CLI: ``GET /api/v1/oncall``, the iCalendar feed
(token required, also as ``?token=`` for calendar apps), overrides (write scope, audited), and
``tocsin oncall who|schedule|override|overrides|remove-override``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from conftest import Clock
from tocsin.adapters.cli.main import cli
from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.domain.model import Actor
from tocsin.domain.policy_file import parse_policy
from tocsin.observability.metrics import create_metrics
from tocsin.services.access.tokens import create_token
from tocsin.services.context import Context

OPERATOR = Actor("cli", "root", "root")
SCHEDULES = {
    "schedule": [
        {
            "name": "primary",
            "timezone": "Europe/Berlin",
            "rotation": "weekly",
            "handoff": "monday 09:00",
            "members": ["slack:U0ALICE", "slack:U0BOB"],
        },
        {
            "name": "primary/shadow",
            "timezone": "Europe/Berlin",
            "rotation": "daily",
            "handoff": "09:00",
            "members": ["discord:700000000000000005"],
        },
    ]
}
POLICY_TOML = """
[[schedule]]
name = "primary"
timezone = "Europe/Berlin"
rotation = "weekly"
handoff = "monday 09:00"
members = ["slack:U0ALICE", "slack:U0BOB"]
"""


@pytest.fixture
def oncall_ctx(ctx: Context) -> Context:
    return replace(ctx, policy=parse_policy(SCHEDULES))


@pytest.fixture
async def client(oncall_ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    routes = access_routes(oncall_ctx, secret="k" * 40, secure_cookies=False)
    app = create_app(oncall_ctx, create_metrics(process=False), Runtime(), routes=routes)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield http


async def secret(ctx: Context, name: str, scope: str) -> str:
    return (await create_token(ctx, OPERATOR, name, scope))[1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_who_is_on_call_now_and_next(
    oncall_ctx: Context, client: httpx.AsyncClient, clock: Clock
) -> None:
    """Every top-level schedule with each layer's person now (until when) and next; a token is
    required."""
    assert (await client.get("/api/v1/oncall")).status_code == 401
    token = await secret(oncall_ctx, "reader", "read")
    answer = await client.get("/api/v1/oncall", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [s["name"] for s in body["schedules"]] == ["primary"]
    primary = body["schedules"][0]
    assert [s["layer"] for s in primary["now"]] == ["primary", "primary/shadow"]
    assert primary["now"][0]["to"] == "2026-03-02T09:00:00+01:00"  # the Monday handoff
    assert primary["next"][0]["from"] == primary["now"][0]["to"]


async def test_calendar_feed_needs_a_token_and_takes_it_in_the_url(
    oncall_ctx: Context, client: httpx.AsyncClient
) -> None:
    """text/calendar with one event per shift; ``?token=`` works for calendar apps, a wrong one
    is 401; ``person`` filters; a layer (``primary/shadow``) has its own feed; an unknown
    schedule is 404."""
    token = await secret(oncall_ctx, "calendar", "read")
    assert (await client.get("/api/v1/schedules/primary.ics")).status_code == 401
    bad = await client.get("/api/v1/schedules/primary.ics", params={"token": "tocsin_nope"})
    assert bad.status_code == 401
    feed = await client.get("/api/v1/schedules/primary.ics", params={"token": token, "weeks": 2})
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("text/calendar")
    assert feed.text.startswith("BEGIN:VCALENDAR\r\n")
    assert feed.text.count("BEGIN:VEVENT") == 3 + 15  # weekly layer (3 weeks touched) + daily
    mine = await client.get(
        "/api/v1/schedules/primary.ics",
        params={"weeks": 2, "person": "slack:U0BOB"},
        headers=bearer(token),
    )
    assert mine.text.count("BEGIN:VEVENT") in (1, 2)
    assert "U0ALICE" not in mine.text
    layer = await client.get(
        "/api/v1/schedules/primary/shadow.ics", params={"weeks": 2}, headers=bearer(token)
    )
    assert layer.text.count("BEGIN:VEVENT") == 15  # a layer's own feed
    missing = await client.get("/api/v1/schedules/nope.ics", headers=bearer(token))
    assert missing.status_code == 404
    assert "known: primary, primary/shadow" in missing.json()["detail"]


async def test_overrides_need_write_scope_and_change_who_is_on_call(
    oncall_ctx: Context, client: httpx.AsyncClient
) -> None:
    """A read token is refused (403, audited); a write token creates an override (201) that
    /oncall shows at once; bad input is 422; DELETE removes it."""
    reader = bearer(await secret(oncall_ctx, "reader", "read"))
    writer = bearer(await secret(oncall_ctx, "writer", "write"))
    body = {"person": "slack:U0SUB", "from": "now", "to": "+4h", "schedule": "primary"}
    refused = await client.post("/api/v1/overrides", json=body, headers=reader)
    assert refused.status_code == 403
    made = await client.post("/api/v1/overrides", json={**body, "reason": "swap"}, headers=writer)
    assert made.status_code == 201, made.text
    override = made.json()
    assert override["person"] == "slack:U0SUB"
    assert made.headers["location"] == f"/api/v1/overrides/{override['id']}"
    now = (await client.get("/api/v1/oncall", headers=reader)).json()["schedules"][0]["now"]
    assert now[0]["person"] == "slack:U0SUB"
    assert now[0]["override"] == override["id"]
    listed = (await client.get("/api/v1/overrides", headers=reader)).json()["items"]
    assert [o["id"] for o in listed] == [override["id"]]
    for wrong in ({**body, "person": "alice"}, {**body, "to": "-1"}, {**body, "to": "now"}):
        assert (
            await client.post("/api/v1/overrides", json=wrong, headers=writer)
        ).status_code == 422
    gone = await client.delete(f"/api/v1/overrides/{override['id']}", headers=writer)
    assert gone.status_code == 200
    again = await client.delete(f"/api/v1/overrides/{override['id']}", headers=writer)
    assert again.status_code == 404
    async with oncall_ctx.uow(read_only=True) as uow:
        audit = await uow.audit.recent(20)
    decisions = [(e.record.command, e.record.decision) for e in audit]
    assert ("oncall override", "denied") in decisions
    assert ("oncall override", "allowed") in decisions
    assert ("oncall remove-override", "allowed") in decisions


# --- the CLI -----------------------------------------------------------------------------------
@pytest.fixture
def cli_env(cli_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY_TOML, encoding="utf-8")
    monkeypatch.setenv("TOCSIN_POLICY_FILE", str(policy))
    return cli_db


def test_cli_who_schedule_and_overrides(cli_env: str) -> None:
    """`oncall who --json`, `oncall schedule NAME --weeks 2` (a table in the schedule's zone),
    `oncall override` then `overrides` and `remove-override`; errors are one line, non-zero."""
    runner = CliRunner()
    who = runner.invoke(cli, ["oncall", "who", "--json"])
    assert who.exit_code == 0, who.output
    assert json.loads(who.output)["schedules"][0]["name"] == "primary"
    table = runner.invoke(cli, ["oncall", "schedule", "primary", "--weeks", "2"])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0] == "primary (Europe/Berlin), the next 2 weeks"
    assert lines[1].split() == ["FROM", "TO", "ON", "CALL", "LAYER"]
    assert all(" 09:00 CE" in line for line in lines[2:])
    made = runner.invoke(cli, ["oncall", "override", "slack:U0SUB", "--from", "now", "--to", "+2h"])
    assert made.exit_code == 0, made.output
    assert made.output.startswith("override #1: slack:U0SUB is on call in primary from ")
    assert "slack:U0SUB (override) until" in runner.invoke(cli, ["oncall", "who"]).output
    assert "#1  primary  slack:U0SUB" in runner.invoke(cli, ["oncall", "overrides"]).output
    assert runner.invoke(cli, ["oncall", "remove-override", "1"]).exit_code == 0
    bad = runner.invoke(cli, ["oncall", "override", "bob", "--from", "now", "--to", "+1h"])
    assert bad.exit_code != 0
    assert len(bad.output.strip().splitlines()) == 1
    assert "platform:user_id" in bad.output
    missing = runner.invoke(cli, ["oncall", "schedule", "nope"])
    assert missing.exit_code != 0
    assert 'There is no schedule "nope"' in missing.output
