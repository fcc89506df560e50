"""``oncall override @person <from> <to> [schedule]`` in chat (docs/oncall.md): the dispatcher puts
the person on call through the same service as the CLI and the API, admins only, audited either
way; Slack's signed ``/oncall override ...`` works, and so do Discord's ``/incident oncall``
options (person, from, to, schedule) in a signed interaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from fakes.discord_harness import ALICE as DISCORD_ALICE
from fakes.discord_harness import BOB as DISCORD_BOB
from fakes.discord_harness import CAROL as DISCORD_CAROL
from fakes.discord_harness import DiscordClient, content, is_private
from fakes.discord_harness import open_client as open_discord
from fakes.slack_api import FakeSlack
from fakes.slack_harness import SlackClient, open_client
from tocsin.domain.commands import parse
from tocsin.domain.errors import DomainError, ParseError, PermissionDenied
from tocsin.domain.model import Actor
from tocsin.domain.policy_file import parse_policy
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.services.oncall import OVERRIDE_COMMAND
from tocsin.storage import tables as t
from tocsin.storage.db import Database

SCHEDULE = {
    "name": "primary",
    "timezone": "Europe/Berlin",
    "rotation": "weekly",
    "handoff": "monday 09:00",
    "members": ["slack:U0ALICE", "slack:U0BOB"],
}
ALICE = Actor("slack", "U0ALICE", "alice")  # an admin in these tests
BOB = Actor("slack", "U0BOB", "bob")


def override_context(db: Database, clock: Any, destination: str) -> Context:
    admins = {"slack": ["U0ALICE"], "discord": [DISCORD_ALICE[0]]}
    return Context(
        db=db,
        policy=parse_policy({"schedule": [SCHEDULE], "admins": admins}),
        clock=clock,
        destinations=frozenset({destination}),
        public_url="https://tocsin.example.com",
    )


async def audit_rows(ctx: Context) -> list[Any]:
    async with ctx.uow(read_only=True) as uow:
        return list((await uow.connection.execute(t.audit_log.select())).all())


# --- the dispatcher ------------------------------------------------------------------------------
async def test_dispatch_adds_the_override_and_oncall_shows_the_person(
    db: Database, clock: Any
) -> None:
    """An admin's `oncall override <@U0CAROL|carol> now +8h` answers privately that carol
    covers primary, records an audited override, and `oncall` then names carol as on call."""
    ctx = override_context(db, clock, "slack")
    outcome = await execute(ctx, ALICE, parse("oncall override <@U0CAROL|carol> now +8h"))
    assert outcome.public is False
    assert outcome.message.startswith("carol covers primary from ")
    assert "(override #1)" in outcome.message
    who = (await execute(ctx, BOB, parse("oncall"))).message
    assert "primary: slack:U0CAROL (override) until" in who
    [row] = await audit_rows(ctx)
    assert (row.command, row.decision, row.actor_id) == (OVERRIDE_COMMAND, "allowed", "U0ALICE")


async def test_dispatch_refuses_a_non_admin_and_audits_it(db: Database, clock: Any) -> None:
    """Only admins may add an override from chat (the API needs a write-scope token); bob is
    refused with a sentence, the refusal is audited and nobody new is on call."""
    ctx = override_context(db, clock, "slack")
    with pytest.raises(PermissionDenied, match="Only an admin may change who is on call"):
        await execute(ctx, BOB, parse("oncall override @slack:U0CAROL now +8h"))
    [row] = await audit_rows(ctx)
    assert (row.command, row.decision, row.actor_id) == (OVERRIDE_COMMAND, "denied", "U0BOB")
    assert "U0CAROL" not in (await execute(ctx, BOB, parse("oncall"))).message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("oncall override @carol soon +8h", '"soon" is not a time'),
        ("oncall override @carol +8h now", "must end after it starts"),
        ("oncall override @carol now +8h secondary", 'There is no schedule "secondary"'),
    ],
)
async def test_dispatch_explains_a_bad_override(
    db: Database, clock: Any, text: str, fragment: str
) -> None:
    """A bad time, an end before the start or an unknown schedule is an error with a helpful
    sentence (and, for parse errors, the chat usage line rather than the CLI's flags)."""
    ctx = override_context(db, clock, "slack")
    with pytest.raises(DomainError) as caught:
        await execute(ctx, ALICE, parse(text))
    assert fragment in caught.value.message
    if isinstance(caught.value, ParseError):
        assert caught.value.usage.startswith("oncall [override @person")


# --- Slack ---------------------------------------------------------------------------------------
@pytest.fixture
async def slack_client(db: Database, clock: Any, slack: FakeSlack) -> AsyncIterator[SlackClient]:
    ctx = override_context(db, clock, "slack")
    async with open_client(ctx, slack) as opened:
        yield opened


async def test_slack_oncall_override_puts_the_person_on_call(slack_client: SlackClient) -> None:
    """A signed `/oncall override <@U0CAROL|carol> now +8h primary` from an admin answers
    ephemerally that carol covers primary; `/oncall` then shows carol on call."""
    response = await slack_client.command(
        "override <@U0CAROL|carol> now +8h primary", command="/oncall"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "carol covers primary from " in body["text"]
    who = (await slack_client.command("", command="/oncall")).json()["text"]
    assert "primary: slack:U0CAROL (override) until" in who


# --- Discord -------------------------------------------------------------------------------------
@pytest.fixture
async def discord_client(db: Database, clock: Any) -> AsyncIterator[DiscordClient]:
    ctx = override_context(db, clock, "discord")
    async with open_discord(ctx) as opened:
        yield opened


async def test_discord_incident_oncall_still_answers(discord_client: DiscordClient) -> None:
    """Discord's `/incident oncall` without options still answers who is on call, privately."""
    answer = await discord_client.command("oncall")
    assert is_private(answer)
    assert "primary: slack:U0" in content(answer)


async def test_discord_oncall_options_put_the_person_on_call(discord_client: DiscordClient) -> None:
    """An admin's signed `/incident oncall person:@carol from:now to:+8h schedule:primary`
    answers privately that carol covers primary (her Discord name, from the resolved users),
    records an audited override, and `/incident oncall` then names carol's Discord id."""
    answer = await discord_client.command(
        "oncall", who=DISCORD_ALICE, person=DISCORD_CAROL[0], to="+8h", schedule="primary",
        **{"from": "now"},
    )  # fmt: skip
    assert is_private(answer)
    assert content(answer).startswith("user07 covers primary from ")
    assert "(override \\#1)" in content(answer)  # Discord's Markdown escape
    who = content(await discord_client.command("oncall", who=DISCORD_BOB))
    assert f"primary: discord:{DISCORD_CAROL[0]} (override) until" in who
    [row] = await discord_client.rows(t.audit_log)
    assert (row["command"], row["decision"]) == (OVERRIDE_COMMAND, "allowed")
    assert row["actor_id"] == DISCORD_ALICE[0]


@pytest.mark.parametrize(
    ("who", "options", "words"),
    [
        (DISCORD_BOB, {"person": DISCORD_CAROL[0], "from": "now", "to": "+8h"},
         "🚫 Only an admin may change who is on call"),
        (DISCORD_ALICE, {"from": "now", "to": "+8h"}, "needs the person to put on call"),
        (DISCORD_ALICE, {"person": DISCORD_CAROL[0], "from": "now"}, "needs a start (from)"),
        (DISCORD_ALICE, {"person": DISCORD_CAROL[0], "from": "soon", "to": "+8h"},
         '"soon" is not a time'),
    ],
)  # fmt: skip
async def test_discord_oncall_override_refusals_change_nothing(
    discord_client: DiscordClient, who: tuple[str, str], options: dict[str, str], words: str
) -> None:
    """A non-admin, a missing person or end, or a bad time: a private answer saying what is
    wrong, and nobody new on call (only the refusal of a non-admin is audited)."""
    answer = await discord_client.command("oncall", who=who, **options)
    assert is_private(answer)
    assert words in content(answer)
    assert DISCORD_CAROL[0] not in content(await discord_client.command("oncall"))
    audited = [row["decision"] for row in await discord_client.rows(t.audit_log)]
    assert audited == (["denied"] if who == DISCORD_BOB else [])
