"""``visibility`` and ``components`` as words of the shared command table, against the real app
and database (SQLite and PostgreSQL): a signed Slack ``/incident visibility INC-1 public`` runs
the use case the REST call runs (the incident row, a timeline entry, an audit record, a
Statuspage sync row); a non-commander is refused, audited, and nothing else changes; a policy may
hand the word to another role; Discord's typed options and the CLI do the same."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import Clock
from fakes.discord_harness import ALICE as DISCORD_ALICE
from fakes.discord_harness import BOB as DISCORD_BOB
from fakes.discord_harness import INC_CHANNEL, DiscordClient, content, declared, is_private
from fakes.discord_harness import open_client as open_discord
from fakes.slack_api import FakeSlack
from fakes.slack_harness import SlackClient, open_client
from tocsin.adapters.cli.main import cli
from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Severity
from tocsin.domain.policy_file import parse_policy
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage import tables as t
from tocsin.storage.db import Database

ALICE = Actor("slack", "U0ALICE", "alice")
POLICY = {"component": [{"name": "API"}, {"name": "Web app"}]}


def chat_context(db: Database, clock: Clock, platform: str, **policy: Any) -> Context:
    return Context(
        db=db, policy=parse_policy({**POLICY, **policy}), clock=clock,
        destinations=frozenset({platform, "statuspage"}), public_url="https://tocsin.example.com",
    )  # fmt: skip


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake
        assert fake.violations == []


@pytest.fixture
async def chat(db: Database, clock: Clock, slack: FakeSlack) -> AsyncIterator[SlackClient]:
    async with open_client(chat_context(db, clock, "slack"), slack) as opened:
        yield opened


async def declare_p3(ctx: Context) -> None:
    """INC-1, a P3 (private by the default policy), commanded by alice."""
    await execute(ctx, ALICE, Command("declare", text="Slow search", severity=Severity.P3))


async def statuspage_kinds(client: SlackClient | DiscordClient) -> list[str]:
    return [r["kind"] for r in await client.rows(t.outbox) if r["destination"] == "statuspage"]


async def test_slack_commander_makes_it_public_then_private_then_policy(
    chat: SlackClient,
) -> None:
    """alice (commander) types `/incident visibility INC-1 public`: the reply is public in the
    channel and says the incident is on the page; the row is public, the timeline has a
    visibility entry, the audit says `public` allowed by the commander role, and a Statuspage
    sync row is queued. `private` queues unpublish; `policy` hands it back to the severity."""
    await declare_p3(chat.ctx)
    assert await statuspage_kinds(chat) == []
    reply = await chat.command("visibility INC-1 public")
    assert reply.status_code == 200
    body = reply.json()
    assert body["response_type"] == "in_channel"
    assert (
        "alice made INC-1 public on the status page. INC-1 is on the public status page now."
        in body["text"]
    )
    [row] = await chat.rows(t.incidents)
    assert row["public"] is True
    entries = [(e["kind"], e["text"]) for e in await chat.rows(t.timeline)]
    assert entries[-1] == ("visibility", "alice made INC-1 public on the status page")
    audit = [(a["command"], a["decision"], a["reason"]) for a in await chat.rows(t.audit_log)]
    assert audit[-1] == ("public", "allowed", "commander")
    assert await statuspage_kinds(chat) == ["sync"]
    hidden = (await chat.command("visibility INC-1 private")).json()["text"]
    assert "INC-1 is not on the public status page now." in hidden
    assert await statuspage_kinds(chat) == ["sync", "unpublish"]
    back = (await chat.command("visibility INC-1 policy")).json()["text"]
    assert "follow the severity policy" in back
    [row] = await chat.rows(t.incidents)
    assert row["public"] is None
    commands = [a["command"] for a in await chat.rows(t.audit_log)]
    assert commands[-3:] == ["public", "private", "visibility"]


async def test_slack_non_commander_is_refused_and_audited(chat: SlackClient) -> None:
    """bob (no role) is refused with the sentence the REST call gives; only a denied audit
    record is added, and the incident stays private."""
    await declare_p3(chat.ctx)
    before = await chat.counts()
    reply = (await chat.command("visibility INC-1 public", user="U0BOB", name="bob")).json()
    assert reply["response_type"] == "ephemeral"
    assert reply["text"] == (
        "🚫 Only the commander of INC-1 (alice) or an admin may make it public or private."
    )
    assert await chat.counts() == {**before, "audit_log": before["audit_log"] + 1}
    last = (await chat.rows(t.audit_log))[-1]
    assert (last["command"], last["decision"], last["actor_id"]) == ("public", "denied", "U0BOB")
    [row] = await chat.rows(t.incidents)
    assert row["public"] is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("visibility INC-1 hidden", '"hidden" is not a visibility'),
        ("visibility INC-1", "visibility needs public, private or policy"),
        ("components INC-1 Nope", "There is no status page component 'Nope'. Known: API, Web app"),
        ("components INC-1", "components needs the names"),
        ("visibility INC-1 private", "INC-1 is already private (kept off the status page)"),
    ],
)
async def test_slack_bad_words_are_explained_and_change_nothing(
    chat: SlackClient, text: str, words: str
) -> None:
    """A word that is not a visibility, a missing one, an unknown component or no change at all:
    an ephemeral reply saying what is wrong, and no timeline entry, outbox row or change."""
    await declare_p3(chat.ctx)
    await chat.command("visibility INC-1 private")
    before = await chat.counts()
    reply = (await chat.command(text)).json()
    assert reply["response_type"] == "ephemeral"
    assert words in reply["text"]
    after = await chat.counts()
    assert {**after, "audit_log": 0} == {**before, "audit_log": 0}


async def test_slack_components_by_whoever_may_post_updates(chat: SlackClient) -> None:
    """The commander names `API "web app"` (matched ignoring case), then `none`; a bystander is
    refused with the components sentence; each change is a components timeline entry."""
    await declare_p3(chat.ctx)
    named = (await chat.command('components INC-1 API "web app"')).json()
    assert named["response_type"] == "in_channel"
    assert "alice set the components INC-1 affects: API, Web app" in named["text"]
    [row] = await chat.rows(t.incidents)
    assert row["components"] == ["API", "Web app"]
    refused = (await chat.command("components INC-1 API", user="U0BOB", name="bob")).json()
    assert refused["text"].startswith("🚫 Only the commander of INC-1 (alice)")
    assert "set the components it affects" in refused["text"]
    cleared = (await chat.command("components INC-1 none")).json()["text"]
    assert "affects: none" in cleared
    kinds = [e["kind"] for e in await chat.rows(t.timeline)]
    assert kinds.count("components") == 2


async def test_a_policy_may_hand_visibility_to_the_deputy(
    db: Database, clock: Clock, slack: FakeSlack
) -> None:
    """`[permissions] visibility = ["deputy"]`: the deputy may make the incident public and the
    commander (no admin) may not; the same key decides the word and the REST call."""
    ctx = chat_context(db, clock, "slack", permissions={"visibility": ["deputy"]})
    async with open_client(ctx, slack) as chat:
        await declare_p3(ctx)
        await chat.command("role INC-1 deputy <@U0BOB|bob>")
        refused = (await chat.command("visibility INC-1 public")).json()["text"]
        assert refused.startswith("🚫 Only the deputy of INC-1 (bob) or an admin")
        made = (await chat.command("visibility INC-1 public", user="U0BOB", name="bob")).json()
        assert "bob made INC-1 public" in made["text"]
        audit = [(a["command"], a["decision"], a["reason"]) for a in await chat.rows(t.audit_log)]
        assert audit[-2:] == [("public", "denied", audit[-2][2]), ("public", "allowed", "deputy")]


# --- Discord -------------------------------------------------------------------------------------
@pytest.fixture
async def discord(db: Database, clock: Clock) -> AsyncIterator[DiscordClient]:
    async with open_discord(chat_context(db, clock, "discord")) as opened:
        yield opened


async def test_discord_options_in_the_channel(discord: DiscordClient) -> None:
    """In INC-1's channel (a P1, public by policy), the commander's `/incident visibility
    visibility:private` hides it and `components components:API, Web app` names both; bob is
    refused privately; the audit and the Statuspage rows follow."""
    await declared(discord)
    hidden = await discord.command("visibility", who=DISCORD_ALICE, channel=INC_CHANNEL,
                                   visibility="private")  # fmt: skip
    assert not is_private(hidden)
    assert "made INC-1 private" in content(hidden)
    refused = await discord.command("visibility", who=DISCORD_BOB, channel=INC_CHANNEL,
                                    visibility="public")  # fmt: skip
    assert is_private(refused)
    assert content(refused).startswith("🚫 Only the commander of INC-1")
    named = await discord.command("components", who=DISCORD_ALICE, channel=INC_CHANNEL,
                                  components="API, Web app")  # fmt: skip
    assert "affects: API, Web app" in content(named)
    [row] = await discord.rows(t.incidents)
    assert (row["public"], row["components"]) == (False, ["API", "Web app"])
    audit = [(a["command"], a["decision"]) for a in await discord.rows(t.audit_log)]
    assert audit[-3:] == [("private", "allowed"), ("public", "denied"), ("components", "allowed")]
    assert "unpublish" in await statuspage_kinds(discord)


# --- the CLI -------------------------------------------------------------------------------------
def test_cli_visibility_and_its_errors(cli_db: str) -> None:
    """`tocsin incident visibility INC-1 public` (the local user is an admin) makes it public
    (the stored row says so); a bad word, or public again, fails with one line and a non-zero
    exit."""
    runner = CliRunner()

    def tocsin(*words: str) -> Any:
        return runner.invoke(cli, ["incident", *words])

    assert tocsin("declare", "Slow search", "P3").exit_code == 0
    made = tocsin("visibility", "INC-1", "public")
    assert made.exit_code == 0, made.output
    assert "INC-1 is on the public status page now." in made.output
    with sqlite3.connect(cli_db.removeprefix("sqlite:///")) as stored:
        assert stored.execute("SELECT public FROM incidents").fetchall() == [(1,)]
    for words in (("visibility", "INC-1", "hidden"), ("visibility", "INC-1", "public")):
        failed = tocsin(*words)
        assert failed.exit_code != 0
        assert len(failed.output.strip().splitlines()) == 1
