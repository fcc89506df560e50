"""``oncall`` as a chat command: ``/incident oncall`` (and Slack's own ``/oncall``), Discord's
``/incident oncall``, ``tocsin incident oncall`` and the dispatcher behind them all. It only
reads: who is on call now and next, answered to the caller alone, with nothing audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fakes.discord_harness import DiscordClient, content, is_private
from fakes.discord_harness import open_client as open_discord
from fakes.slack_api import FakeSlack
from fakes.slack_harness import SlackClient, open_client
from tocsin.adapters.cli.main import cli
from tocsin.domain.commands import parse
from tocsin.domain.errors import PermissionDenied
from tocsin.domain.model import Actor
from tocsin.domain.policy_file import parse_policy
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage import tables as t
from tocsin.storage.db import Database

SCHEDULE = {
    "name": "primary",
    "timezone": "Europe/Berlin",
    "rotation": "weekly",
    "handoff": "monday 09:00",
    "members": ["slack:U0ALICE", "slack:U0BOB"],
}
POLICY_TOML = """
[[schedule]]
name = "primary"
timezone = "Europe/Berlin"
rotation = "weekly"
handoff = "monday 09:00"
members = ["slack:U0ALICE", "slack:U0BOB"]
"""
BOB = Actor("slack", "U0BOB", "bob")


def oncall_context(db: Database, clock: Any, destination: str, **policy: Any) -> Context:
    return Context(
        db=db,
        policy=parse_policy({"schedule": [SCHEDULE], **policy}),
        clock=clock,
        destinations=frozenset({destination}),
        public_url="https://tocsin.example.com",
    )


def says_who(text: str) -> bool:
    """The on-call answer: the schedule, who is on call now and who is next."""
    return text.count("primary: slack:U0") == 1 and "; next: slack:U0" in text


# --- the dispatcher ------------------------------------------------------------------------------
async def test_dispatch_answers_who_is_on_call_and_audits_nothing(db: Database, clock: Any) -> None:
    """`oncall` runs without an incident, answers privately with every schedule's on-call
    person and the next one, and writes no audit row (it only reads)."""
    ctx = oncall_context(db, clock, "slack")
    outcome = await execute(ctx, BOB, parse("oncall"), channel_incident=None)
    assert says_who(outcome.message)
    assert outcome.public is False
    async with ctx.uow(read_only=True) as uow:
        assert (await uow.connection.execute(t.audit_log.select())).all() == []


async def test_dispatch_respects_a_policy_that_limits_oncall_to_admins(
    db: Database, clock: Any
) -> None:
    """A policy may make `oncall` admin-only; then anyone else is refused with a sentence."""
    ctx = oncall_context(db, clock, "slack", permissions={"oncall": ["admin"]})
    with pytest.raises(PermissionDenied, match="Only an admin may see who is on call"):
        await execute(ctx, BOB, parse("oncall"))


async def test_dispatch_says_when_there_are_no_schedules(ctx: Context) -> None:
    """Without schedules, `oncall` says how to add one instead of answering nothing."""
    outcome = await execute(ctx, BOB, parse("oncall"))
    assert "No on-call schedules are set up" in outcome.message


# --- Slack ---------------------------------------------------------------------------------------
@pytest.fixture
async def slack_client(db: Database, clock: Any, slack: FakeSlack) -> AsyncIterator[SlackClient]:
    ctx = oncall_context(db, clock, "slack")
    async with open_client(ctx, slack) as opened:
        yield opened


@pytest.mark.parametrize(("command", "text"), [("/oncall", ""), ("/incident", "oncall")])
async def test_slack_oncall_answers_the_caller_only(
    slack_client: SlackClient, command: str, text: str
) -> None:
    """A signed `/oncall` (its own slash command) and `/incident oncall` both answer who is on
    call now and next, ephemerally."""
    response = await slack_client.command(text, command=command)
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert says_who(body["text"])


async def test_slack_oncall_with_extra_words_shows_the_usage(slack_client: SlackClient) -> None:
    """`/oncall now` is a mistake: the answer says so and shows `/incident oncall`."""
    body = (await slack_client.command("now", command="/oncall")).json()
    assert body["response_type"] == "ephemeral"
    assert "oncall takes nothing after it" in body["text"]
    assert "/incident oncall" in body["text"]


# --- Discord -------------------------------------------------------------------------------------
@pytest.fixture
async def discord_client(db: Database, clock: Any) -> AsyncIterator[DiscordClient]:
    ctx = oncall_context(db, clock, "discord")
    async with open_discord(ctx) as opened:
        yield opened


async def test_discord_incident_oncall_answers_privately(discord_client: DiscordClient) -> None:
    """Discord's `/incident oncall` (no options) answers who is on call, to the caller only;
    `/incident help` lists it."""
    answer = await discord_client.command("oncall")
    assert is_private(answer)
    assert says_who(content(answer))
    assert "/incident oncall" in content(await discord_client.command("help"))


# --- the CLI -------------------------------------------------------------------------------------
@pytest.mark.usefixtures("cli_db")
def test_cli_incident_oncall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`tocsin incident oncall` prints the same answer as the chat command."""
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY_TOML, encoding="utf-8")
    monkeypatch.setenv("TOCSIN_POLICY_FILE", str(policy))
    result = CliRunner().invoke(cli, ["incident", "oncall"])
    assert result.exit_code == 0, result.output
    assert says_who(result.output)
