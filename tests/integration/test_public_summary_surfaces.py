"""The commander's public post-mortem summary on every surface, against the real app and
database (SQLite and PostgreSQL): a signed Slack ``/incident summary`` stores it with a timeline
entry and an audit record and it shows at once on ``/status/history`` and in ``history.atom``;
a non-commander is refused and nothing changes; Discord, the REST API and the CLI do the same."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
from click.testing import CliRunner

from conftest import Clock
from fakes.discord_harness import ALICE as DISCORD_ALICE
from fakes.discord_harness import BOB as DISCORD_BOB
from fakes.discord_harness import INC_CHANNEL, DiscordClient, content, declared, is_private
from fakes.discord_harness import open_client as open_discord
from fakes.slack_api import FakeSlack
from fakes.slack_harness import SlackClient, open_client
from fakes.web_app import api_client, bearer
from tocsin.adapters.cli.main import cli
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.adapters.web.status import build_cache, page_info
from tocsin.adapters.web.status.history import history_routes
from tocsin.adapters.web.status.routes import public_routes
from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Severity
from tocsin.domain.policy import default_policy
from tocsin.observability.metrics import create_metrics
from tocsin.services import public_status_page
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage import tables as t
from tocsin.storage.db import Database

ALICE = Actor("slack", "U0ALICE", "alice")
KEY = b"k" * 32
ATOM = "{http://www.w3.org/2005/Atom}"
SUMMARY = "A bad <b>cache</b> config.\nWe now canary config changes."


def slack_context(db: Database, clock: Clock) -> Context:
    return Context(
        db=db, policy=default_policy(), clock=clock, destinations=frozenset({"slack"}),
        public_url="https://tocsin.example.com",
    )  # fmt: skip


@pytest.fixture
async def chat(db: Database, clock: Clock, slack: FakeSlack) -> AsyncIterator[SlackClient]:
    async with open_client(slack_context(db, clock), slack) as opened:
        yield opened


async def status_client(ctx: Context) -> httpx.AsyncClient:
    """The public page and its history on ``ctx``; the kept history pages never expire by time
    (clock 0), so only the cache's invalidation can refresh them."""
    metrics = create_metrics(process=False)
    info = page_info("https://example.test")
    cache = build_cache(ctx, info, KEY, metrics)
    ids = public_status_page.public_ids(KEY)
    routes = [*public_routes(cache),
              *history_routes(ctx, info, ids, clock=lambda: 0.0,
                              generation=lambda: cache.generation)]  # fmt: skip
    app = create_app(ctx, metrics, Runtime(), routes=routes)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s.test")


async def resolved_incident(ctx: Context, severity: Severity = Severity.P1) -> int:
    """INC-n declared by alice (its commander), with an update, then resolved."""
    outcome = await execute(ctx, ALICE, Command("declare", text="Checkout down", severity=severity))
    assert outcome.incident is not None
    number = outcome.incident.number
    await execute(ctx, ALICE, Command("update", incident=number, text="Failing over"))
    await execute(ctx, ALICE, Command("resolve", incident=number, text="Failed over"))
    return number


def feed_content(atom: bytes) -> list[str]:
    root = ET.fromstring(atom)  # noqa: S314 - our own feed
    return [entry.findtext(f"{ATOM}content") or "" for entry in root.iter(f"{ATOM}entry")]


async def test_slack_commander_publishes_it_onto_history_and_feed(chat: SlackClient) -> None:
    """alice (commander) types `/incident summary INC-1 <text>` in Slack: the reply (ephemeral)
    says where it shows; the incident row holds text, time and author; the timeline says
    "Public summary published"; the audit says allowed by the commander role; /status/history,
    read before and kept, shows it at once, escaped with its line break; the feed entry leads
    with it."""
    ctx = chat.ctx
    number = await resolved_incident(ctx)
    async with await status_client(ctx) as status:
        assert "A bad" not in (await status.get("/status/history")).text
        reply = await chat.command(f"summary INC-{number} {SUMMARY}")
        assert reply.status_code == 200
        body = reply.json()
        assert body["response_type"] == "ephemeral"
        assert "Public summary of INC-1 saved" in body["text"]
        assert "history and its feed show it" in body["text"]
        [row] = await chat.rows(t.incidents)
        assert row["public_summary"] == SUMMARY
        assert row["public_summary_by"]["user_id"] == "U0ALICE"
        assert row["public_summary_at"] is not None
        kinds = [(e["kind"], e["text"][:24]) for e in await chat.rows(t.timeline)]
        assert kinds[-1] == ("public_summary", "Public summary published")
        audit = [(a["command"], a["decision"], a["reason"]) for a in await chat.rows(t.audit_log)]
        assert audit[-1] == ("summary", "allowed", "commander")
        page = (await status.get("/status/history")).text
        assert "A bad &lt;b&gt;cache&lt;/b&gt; config.\nWe now canary config changes." in page
        assert "<b>cache</b>" not in page
        [entry] = feed_content((await status.get("/status/history.atom")).content)
        assert entry.startswith(f"Summary: {SUMMARY}\n\n")
        shown = (await chat.command("summary INC-1")).json()["text"]
        assert "Public summary of INC-1 (by alice" in shown
        assert "We now canary config changes." in shown
        cleared = (await chat.command("summary INC-1 clear")).json()["text"]
        assert "Public summary of INC-1 removed" in cleared
        assert "A bad" not in (await status.get("/status/history")).text
        assert feed_content((await status.get("/status/history.atom")).content)[0].startswith(
            "Resolved"
        )


async def test_slack_non_commander_is_refused_and_nothing_changes(chat: SlackClient) -> None:
    """bob (no role) is refused with the usual denial naming the commander; only a denied
    audit record is added: no summary, no timeline entry, nothing on the page."""
    ctx = chat.ctx
    await resolved_incident(ctx)
    before = await chat.counts()
    reply = (await chat.command("summary INC-1 Not mine", user="U0BOB", name="bob")).json()
    assert reply["response_type"] == "ephemeral"
    assert reply["text"] == (
        "🚫 Only the commander of INC-1 (alice) or an admin may change its public summary."
    )
    after = await chat.counts()
    assert after == {**before, "audit_log": before["audit_log"] + 1}
    [row] = await chat.rows(t.incidents)
    assert row["public_summary"] is None
    last = (await chat.rows(t.audit_log))[-1]
    assert (last["command"], last["decision"], last["actor_id"]) == ("summary", "denied", "U0BOB")
    async with await status_client(ctx) as status:
        assert "Not mine" not in (await status.get("/status/history")).text


async def test_open_or_private_incidents_keep_it_off_the_page(chat: SlackClient) -> None:
    """A summary drafted while INC-1 is open is stored but shown nowhere until it is resolved
    (the reply says so); a private (P3) incident's summary never shows."""
    ctx = chat.ctx
    await execute(ctx, ALICE, Command("declare", text="Slow search", severity=Severity.P1))
    drafted = (await chat.command("summary INC-1 Draft text")).json()["text"]
    assert "shows it once INC-1 is resolved" in drafted
    private = await resolved_incident(ctx, Severity.P3)
    quiet = (await chat.command(f"summary INC-{private} Internal only")).json()["text"]
    assert "INC-2 is not public, so the status page does not show it" in quiet
    async with await status_client(ctx) as status:
        page = (await status.get("/status/history")).text
        feed = (await status.get("/status/history.atom")).text
        assert "Draft text" not in page + feed
        assert "Internal only" not in page + feed
        await execute(ctx, ALICE, Command("resolve", incident=1, text=""))
        assert "Draft text" in (await status.get("/status/history")).text


async def test_too_long_a_summary_is_refused_with_the_usage(chat: SlackClient) -> None:
    """2,001 characters are refused before anything runs, with the usage line."""
    await resolved_incident(chat.ctx)
    before = await chat.counts()
    text = (await chat.command("summary INC-1 " + "x" * 2001)).json()["text"]
    assert "keep it to 2000 or fewer" in text
    assert "summary [INC-n] [text]" in text
    assert await chat.counts() == before


# --- Discord -------------------------------------------------------------------------------------
@pytest.fixture
async def discord(db: Database, clock: Clock) -> AsyncIterator[DiscordClient]:
    ctx = Context(
        db=db, policy=default_policy(), clock=clock, destinations=frozenset({"discord"}),
        public_url="https://tocsin.example.com",
    )  # fmt: skip
    async with open_discord(ctx) as opened:
        yield opened


async def test_discord_summary_in_the_channel_by_the_commander_only(
    discord: DiscordClient,
) -> None:
    """In INC-1's channel, its commander's `/incident summary text:...` answers privately and
    stores the summary; bob is refused and nothing of his is stored; `text:clear` removes it."""
    await declared(discord)
    answer = await discord.command("summary", who=DISCORD_ALICE, channel=INC_CHANNEL,
                                   text="Fixed the cache config.")  # fmt: skip
    assert is_private(answer)
    assert "Public summary of INC-1 saved" in content(answer)
    refused = await discord.command("summary", who=DISCORD_BOB, channel=INC_CHANNEL, text="Mine")
    assert content(refused).startswith("🚫 Only the commander of INC-1")
    [row] = await discord.rows(t.incidents)
    assert row["public_summary"] == "Fixed the cache config."
    gone = await discord.command("summary", who=DISCORD_ALICE, channel=INC_CHANNEL, text="clear")
    assert "removed" in content(gone)
    [row] = await discord.rows(t.incidents)
    assert row["public_summary"] is None


# --- the REST API --------------------------------------------------------------------------------
@pytest.fixture
async def api(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(ctx) as http:
        yield http


async def test_api_put_and_delete_the_public_summary(ctx: Context, api: httpx.AsyncClient) -> None:
    """The commander's token PUTs {text} (the incident JSON then carries public_summary) and
    DELETEs it; another write token gets 403, a read token 403, a blank or 2,001-character
    text 422 naming the field, a second DELETE 409."""
    owner, other = await bearer(ctx, "owner", "write"), await bearer(ctx, "other", "write")
    reader = await bearer(ctx, "reader", "read")
    await api.post("/api/v1/incidents", json={"title": "Queue backlog"}, headers=owner)
    path = "/api/v1/incidents/INC-1/public-summary"
    put = await api.put(path, json={"text": "Line one\nline two"}, headers=owner)
    assert put.status_code == 200, put.text
    stored = put.json()["incident"]["public_summary"]
    assert stored["text"] == "Line one\nline two"
    assert stored["published_by"]["user_id"] == "owner"
    assert put.json()["entries"][0]["kind"] == "public_summary"
    shown = (await api.get("/api/v1/incidents/1", headers=reader)).json()
    assert shown["public_summary"]["text"] == "Line one\nline two"
    assert (await api.put(path, json={"text": "x"}, headers=other)).status_code == 403
    assert (await api.put(path, json={"text": "x"}, headers=reader)).status_code == 403
    for bad in ("   ", "x" * 2001):
        refused = await api.put(path, json={"text": bad}, headers=owner)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "text"
    assert (await api.delete(path, headers=owner)).status_code == 200
    again = await api.delete(path, headers=owner)
    assert again.status_code == 409
    assert "no public summary" in again.json()["detail"]
    assert (await api.get("/api/v1/incidents/1", headers=reader)).json()["public_summary"] is None


async def test_openapi_documents_the_summary_routes(api: httpx.AsyncClient) -> None:
    """/api/openapi.json names the PUT and DELETE routes and the Incident's public_summary."""
    document = (await api.get("/api/openapi.json")).json()
    methods = document["paths"]["/api/v1/incidents/{number}/public-summary"]
    assert {"put", "delete"} <= set(methods)
    incident = document["components"]["schemas"]["Incident"]["properties"]
    assert "public_summary" in incident


# --- the CLI -------------------------------------------------------------------------------------
def test_cli_summary_sets_shows_and_prints_json(cli_db: str) -> None:
    """`tocsin incident summary INC-1 "..."` saves it (the local user is an admin), `show
    --json` carries public_summary, `summary INC-1` prints it; an unknown incident fails with
    one line and a non-zero exit."""
    runner = CliRunner()

    def tocsin(*words: str) -> Any:
        return runner.invoke(cli, ["incident", *words])

    assert tocsin("declare", "DB down", "P1").exit_code == 0
    saved = tocsin("summary", "INC-1", "Replaced the disk.")
    assert saved.exit_code == 0, saved.output
    assert "Public summary of INC-1 saved" in saved.output
    data = json.loads(tocsin("--json", "show", "INC-1").output)
    assert data["public_summary"]["text"] == "Replaced the disk."
    assert "Replaced the disk." in tocsin("summary", "INC-1").output
    missing = tocsin("summary", "INC-9", "text")
    assert missing.exit_code != 0
    assert len(missing.output.strip().splitlines()) == 1
