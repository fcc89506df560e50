"""``/incident alerts`` in Slack and Discord: the alert groups firing now, one line each (id,
status, title, alerts firing, incident), answered privately; resolved groups are left out. And
the Discord buttons on a proposed group, which run the same actions as Slack's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from fakes.alerts_kit import generic, groups, intake_client, integration, path_of, runner
from fakes.discord_harness import (
    BOB,
    DiscordClient,
    content,
    discord_context,
    interaction,
    is_private,
    open_client,
    slash_data,
)
from fakes.slack_harness import SlackClient
from integration.test_slack_app import client
from tocsin.chat import notices
from tocsin.domain.commands import Command, parse
from tocsin.platforms.discord.render import STYLE, message_body
from tocsin.services.context import Context
from tocsin.storage.db import Database

__all__ = ["client"]  # the Slack client fixture, shared with test_slack_app.py


async def _fire(ctx: Context, *bodies: bytes) -> None:
    made = await integration(ctx)
    async with intake_client(ctx) as http:
        for body in bodies:
            assert (await http.post(path_of(made), content=body)).status_code == 202
    await runner(ctx).fire_due()


def test_alerts_takes_nothing_after_it() -> None:
    """`alerts` parses alone; a word after it is refused with the usage line."""
    assert parse("alerts") == Command("alerts")
    with pytest.raises(Exception, match="takes nothing after it") as caught:
        parse("alerts now")
    assert getattr(caught.value, "usage", "") == "alerts"


async def test_slack_lists_the_firing_groups(client: SlackClient) -> None:
    """Two groups fire and one resolves: the answer names the firing one by id and title,
    privately, and leaves the resolved one out."""
    await _fire(
        client.ctx,
        generic("disk", title="Disk full on db-1"),
        generic("cpu", title="CPU hot"),
        generic("cpu", "resolved"),
    )
    disk = next(g for g in await groups(client.ctx) if g.group.group_key == "disk")
    response = await client.command("alerts")
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert f"#{disk.id} [firing] Disk full on db-1: 1 alert firing" in body["text"]
    assert "CPU hot" not in body["text"]


async def test_slack_says_when_nothing_fires(client: SlackClient) -> None:
    """No groups at all: one plain sentence."""
    response = await client.command("alerts")
    assert "No alert groups are firing." in response.json()["text"]


@pytest.fixture
async def discord(db: Database, clock: Any) -> AsyncIterator[DiscordClient]:
    async with open_client(discord_context(db, clock)) as opened:
        yield opened


async def test_discord_lists_the_firing_groups(discord: DiscordClient) -> None:
    """The same list through the Discord slash command `/incident alerts`, ephemeral."""
    await _fire(discord.ctx, generic("disk", title="Disk full on db-1"))
    [kept] = await groups(discord.ctx)
    answer = await discord.send(interaction(2, slash_data("alerts")))
    assert is_private(answer)
    shown = content(answer).replace("\\", "")  # Discord's markdown escapes, as read
    assert f"#{kept.id} [firing] Disk full on db-1" in shown


# --- Discord buttons on a proposed group ---------------------------------------------------------
def test_the_discord_proposal_carries_the_five_buttons() -> None:
    """Acknowledge, Declare incident (asking first) and Silence 1h / 4h / 24h, as Discord
    components whose custom ids carry the group's id."""
    payload: dict[str, Any] = {
        "incident": {"ref": "Alert group #7", "severity": "P3", "title": "disk"},
        "text": "1 alert firing",
        "group": {"id": 7, "alerts": []},
    }
    body = message_body(notices.alert_group_message(payload, STYLE, buttons=True))
    ids = [b["custom_id"] for row in body["components"] for b in row["components"]]
    assert ids == [
        "tocsin:alert_ack:7",
        "tocsin:alert_declare:7:ask",
        "tocsin:alert_silence_1h:7",
        "tocsin:alert_silence_4h:7",
        "tocsin:alert_silence_24h:7",
    ]


async def test_discord_buttons_ack_silence_and_declare(discord: DiscordClient) -> None:
    """Acknowledge, Silence 4h, then Declare (asked first, confirmed): each changes the group and
    answers privately; the group ends attached to INC-1. A replayed click does nothing more."""
    await _fire(discord.ctx, generic("disk", title="Disk full on db-1"))
    [kept] = await groups(discord.ctx)
    acked = await discord.click(f"tocsin:alert_ack:{kept.id}", who=BOB)
    assert is_private(acked)
    assert "acknowledged" in content(acked)
    assert (await groups(discord.ctx))[0].group.status.value == "acknowledged"
    silenced = await discord.click(f"tocsin:alert_silence_4h:{kept.id}", who=BOB)
    assert "silenced for 4h" in content(silenced)
    assert (await groups(discord.ctx))[0].group.status.value == "silenced"
    question = await discord.click(f"tocsin:alert_declare:{kept.id}:ask")
    assert is_private(question)
    assert notices.ALERT_DECLARE_QUESTION in content(question)
    ids = [b["custom_id"] for b in question["data"]["components"][0]["components"]]
    assert ids == [f"tocsin:alert_declare:{kept.id}:yes", f"tocsin:cancel:{kept.id}"]
    assert (await groups(discord.ctx))[0].incident is None  # asking declared nothing
    done = await discord.click(f"tocsin:alert_declare:{kept.id}:yes")
    assert done["type"] == 7
    assert "Declared INC-1" in content(done)
    assert (await groups(discord.ctx))[0].incident == 1


async def test_discord_button_for_a_missing_group(discord: DiscordClient) -> None:
    """A group that does not exist: a private one-line answer, nothing stored."""
    answer = await discord.click("tocsin:alert_ack:999", who=BOB)
    assert is_private(answer)
    assert "no alert group \\#999" in content(answer)  # as Discord escapes it
