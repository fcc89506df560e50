"""Scheduled maintenance from chat against the real app and database (SQLite and PostgreSQL):
an admin's signed Slack ``/incident maintenance schedule ...`` makes the same maintenance, timers
and audit record as the CLI, ``maintenance list`` shows it to anyone, a non-admin is refused
(audited, nothing saved), a bad window is the domain's field-named reply with nothing saved,
edit moves the timers, cancel disarms them; a policy may open it; Discord's options do the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from conftest import Clock
from fakes.discord_harness import ALICE as DISCORD_ALICE
from fakes.discord_harness import BOB as DISCORD_BOB
from fakes.discord_harness import DiscordClient, content, is_private
from fakes.discord_harness import open_client as open_discord
from fakes.slack_api import FakeSlack
from fakes.slack_harness import SlackClient, open_client
from tocsin.domain.commands import parse
from tocsin.domain.model import Actor
from tocsin.domain.policy import Component
from tocsin.domain.policy_file import parse_policy
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage import tables as t
from tocsin.storage.db import Database
from tocsin.storage.maintenance_tables import maintenances

ADMINS = {"slack": ["U0ALICE"], "discord": [DISCORD_ALICE[0]]}
SCHEDULE = (
    'maintenance schedule 2026-03-01T10:00Z "2026-03-01 12:00" "DB upgrade" component:api '
    "-- Upgrading PostgreSQL"
)


def maintenance_context(db: Database, clock: Clock, destination: str, **extra: Any) -> Context:
    """Components API and Payments; alice is an admin on Slack and Discord."""
    policy = parse_policy({"admins": ADMINS, **extra})
    policy = replace(policy, components=(Component("API"), Component("Payments")))
    return Context(db=db, policy=policy, clock=clock, destinations=frozenset({destination}),
                   public_url="https://tocsin.example.com")  # fmt: skip


@pytest.fixture
async def chat(db: Database, clock: Clock, slack: FakeSlack) -> AsyncIterator[SlackClient]:
    async with open_client(maintenance_context(db, clock, "slack"), slack) as opened:
        yield opened


async def saved(client: SlackClient | DiscordClient) -> list[dict[str, Any]]:
    return await client.rows(maintenances)


async def timers(client: SlackClient | DiscordClient) -> dict[str, tuple[str, datetime]]:
    rows = await client.rows(t.timers)
    return {r["key"]: (r["state"], r["due_at"].replace(tzinfo=UTC)) for r in rows}


def at(hour: int) -> datetime:
    return datetime(2026, 3, 1, hour, 0, tzinfo=UTC)


async def test_an_admin_schedules_and_anyone_lists(chat: SlackClient) -> None:
    """alice (admin) schedules from Slack: the reply (ephemeral) names #1, its window in UTC
    and its component; the row, its start and end timers and the audit record are those the
    CLI's `tocsin maintenance create` makes; bob's `maintenance list` shows it."""
    reply = (await chat.command(SCHEDULE)).json()
    assert reply["response_type"] == "ephemeral"
    assert reply["text"] == (
        "Scheduled maintenance #1 [scheduled] DB upgrade: 2026-03-01 10:00 to "
        "2026-03-01 12:00 UTC (API)."
    )
    [row] = await saved(chat)
    assert (row["title"], row["components"], row["description"], row["created_by"]) == (
        "DB upgrade", ["API"], "Upgrading PostgreSQL", "slack:U0ALICE",
    )  # fmt: skip
    assert await timers(chat) == {
        "maintenance:1:start": ("pending", at(10)),
        "maintenance:1:end": ("pending", at(12)),
    }
    audit = [(a["command"], a["decision"], a["reason"]) for a in await chat.rows(t.audit_log)]
    assert audit == [("maintenance create", "allowed", "admin")]
    listed = (await chat.command("maintenance", user="U0BOB", name="bob")).json()["text"]
    assert listed == (
        "Scheduled maintenance:\n• #1 [scheduled] DB upgrade: 2026-03-01 10:00 to "
        "2026-03-01 12:00 UTC (API)"
    )


async def test_a_non_admin_is_refused_audited_and_nothing_is_saved(chat: SlackClient) -> None:
    """bob may not schedule (a window silences paging): the usual denial; the refusal is
    audited under the use case's name; no maintenance, no timer."""
    reply = (await chat.command(SCHEDULE, user="U0BOB", name="bob")).json()
    assert reply["text"] == "🚫 Only an admin may schedule, move or cancel maintenance."
    assert await saved(chat) == []
    assert await timers(chat) == {}
    [audit] = await chat.rows(t.audit_log)
    assert (audit["command"], audit["decision"], audit["actor_id"]) == (
        "maintenance create", "denied", "U0BOB",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('maintenance schedule +2h +1h "DB upgrade"', "end: the window must end after it starts"),
        ("maintenance schedule soon +1h DB upgrade", 'start: "soon"'),
        ("maintenance schedule now +1h DB upgrade component:Nope",
         "components: 'Nope' is not a status page component (known: API, Payments)"),
        ("maintenance schedule now +40d DB upgrade", "end: a window lasts at most 31 days"),
    ],
)  # fmt: skip
async def test_a_bad_window_is_the_fields_message_and_nothing_is_saved(
    chat: SlackClient, text: str, message: str
) -> None:
    """The domain's message, starting with the field's name, comes back as an ephemeral
    warning with the chat usage line (not the CLI's flags); nothing is saved or audited."""
    before = await chat.counts()
    reply = (await chat.command(text)).json()
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith(f"⚠️ {message}")
    assert "/incident maintenance schedule &lt;start&gt; &lt;end&gt; &lt;title&gt;" in reply["text"]
    assert "--start" not in reply["text"]
    assert await saved(chat) == []
    assert await chat.counts() == before


async def test_edit_moves_the_timers_and_cancel_disarms_them(chat: SlackClient) -> None:
    """`maintenance edit 1 - <end>` moves the end timer (the start stays); `maintenance cancel
    1` cancels both timers and the list is empty; an unknown id names the list command."""
    await chat.command(SCHEDULE)
    moved = (await chat.command("maintenance edit 1 - 2026-03-01T14:00Z")).json()["text"]
    assert moved.startswith("Moved maintenance #1 [scheduled] DB upgrade: 2026-03-01 10:00 to ")
    assert (await timers(chat))["maintenance:1:end"] == ("pending", at(14))
    gone = (await chat.command("maintenance cancel #1")).json()["text"]
    assert gone.startswith("Cancelled maintenance #1 [cancelled] DB upgrade")
    assert {state for state, _ in (await timers(chat)).values()} == {"cancelled"}
    assert (await chat.command("maintenance list")).json()["text"] == "No maintenance is scheduled."
    missing = (await chat.command("maintenance cancel 9")).json()["text"]
    assert missing == "⚠️ There is no maintenance #9; `maintenance list` lists them."
    again = (await chat.command("maintenance cancel 1")).json()["text"]
    assert "already cancelled" in again
    commands = [a["command"] for a in await chat.rows(t.audit_log)]
    assert commands == ["maintenance create", "maintenance edit", "maintenance cancel"]


async def test_the_policy_may_open_it_to_anyone(db: Database, clock: Clock) -> None:
    """With `[permissions] maintain = ["anyone"]` bob schedules; the default listing
    permission may be closed too (`maintenance = ["admin"]`), refusing bob's list."""
    extra = {"permissions": {"maintain": ["anyone"], "maintenance": ["admin"]}}
    ctx = maintenance_context(db, clock, "slack", **extra)
    bob = Actor("slack", "U0BOB", "bob")
    made = await execute(ctx, bob, parse("maintenance schedule now +1h Reindex component:API"))
    assert made.message.startswith("Scheduled maintenance #1 [scheduled] Reindex")
    with pytest.raises(Exception, match="Only an admin may see scheduled maintenance"):
        await execute(ctx, bob, parse("maintenance"))


# --- Discord -------------------------------------------------------------------------------------
@pytest.fixture
async def discord(db: Database, clock: Clock) -> AsyncIterator[DiscordClient]:
    async with open_discord(maintenance_context(db, clock, "discord")) as opened:
        yield opened


async def test_discord_schedule_list_and_refusal(discord: DiscordClient) -> None:
    """Discord's `/incident maintenance action:schedule ...` from the admin schedules it
    (private answer); `action` left out lists; bob's cancel is refused and changes nothing."""
    answer = await discord.command(
        "maintenance", who=DISCORD_ALICE, action="schedule", start="2026-03-01T10:00Z",
        end="+3h", title="Payments cutover", components="payments, API",
    )  # fmt: skip
    assert is_private(answer)
    shown = content(answer).replace("\\", "")  # Discord's markdown escapes
    assert shown.startswith("Scheduled maintenance #1 [scheduled] Payments cutover")
    [row] = await saved(discord)
    assert row["components"] == ["Payments", "API"]
    listed = await discord.command("maintenance", who=DISCORD_BOB)
    assert "#1 [scheduled] Payments cutover" in content(listed).replace("\\", "")
    refused = await discord.command("maintenance", who=DISCORD_BOB, action="cancel", id="1")
    assert content(refused).startswith("🚫 Only an admin may schedule, move or cancel")
    [row] = await saved(discord)
    assert row["status"] == "scheduled"
