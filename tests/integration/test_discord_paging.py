"""The Discord sender's paging kinds against the fake Discord REST API: a page is a direct
message (POST /users/@me/channels, then a message there) with the announcement's own Acknowledge
button, a person Discord cannot reach is skipped, and reminders go to the incident's space
(mentioning the commander, with the announcement's Post update button) or ask for a commander.
Payloads come from the domain's own planners (page_effects, remind_effects); the fake checks every
route and body against Discord's OpenAPI spec."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from fakes.discord_api import BOT_TOKEN, GUILD_ID, FakeDiscord
from fakes.discord_guild import error
from fakes.http_fake import Reply
from tocsin.chat import texts
from tocsin.delivery.base import Delivery, PermanentError, Skip
from tocsin.domain.effects import Effect
from tocsin.domain.model import Actor, Incident, Role, Severity
from tocsin.domain.paging import Step, nag_text, page_effects, remind_effects, reminder_text
from tocsin.domain.policy import Escalation, default_policy
from tocsin.domain.routing import snapshot
from tocsin.platforms.discord.render import STYLE, message_body
from tocsin.platforms.discord.rest import DiscordRest
from tocsin.platforms.discord.sender import DiscordSender

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ALICE = Actor("discord", "700000000000000005", "alice")
BOB_ID = "700000000000000006"
LADDER = Escalation("default", ((f"discord:{BOB_ID}", "slack:UCAROL"),), 5, 1)
DM = "/users/@me/channels"
MESSAGES = "/channels/{channel_id}/messages"


class Refs(dict[str, str]):
    """What the worker keeps in remote_refs between deliveries of one incident."""

    def get(self, name: str, default: Any = None) -> Any:  # the RemoteRefs protocol
        return super().get(name, default)


class DmDiscord(FakeDiscord):
    """The fake Discord, plus POST /users/@me/channels opening a DM channel (type 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.unknown_users: set[str] = set()
        self.dms: dict[str, str] = {}  # user id -> DM channel id
        self.handlers[("POST", DM)] = self._open_dm

    def _open_dm(self, names: dict[str, str], body: Any) -> Reply:
        user = str((body or {}).get("recipient_id") or "")
        if not user or user in self.unknown_users:
            return error(404, 10013, "Unknown User")
        if user not in self.dms:
            channel = self.add_channel("", kind=1)
            self.channels[channel].update(guild_id=None, recipients=[{"id": user}])
            self.dms[user] = channel
        return Reply(json=self.channels[self.dms[user]])


def incident(commander: Actor | None = ALICE) -> Incident:
    roles = {Role.COMMANDER: commander} if commander else {}
    return Incident(1, "Checkout *is* down", Severity.P1, ALICE, NOW, roles=roles)


def as_delivery(effect: Effect) -> Delivery:
    return Delivery(
        7, effect.incident, effect.destination, effect.kind, effect.payload, effect.key, 0
    )


def page(destination: str = "discord") -> Delivery:
    inc = incident()
    snap = snapshot(inc, "https://tocsin.example.com")
    effects = page_effects(
        inc, snap, LADDER, Step("default", NOW), LADDER.levels[0], {"slack", "discord"}
    )
    return as_delivery(next(e for e in effects if e.destination == destination))


def reminder(reason: str, commander: Actor | None = ALICE) -> Delivery:
    inc = incident(commander)
    text = reminder_text(inc, 15) if reason == "update" else nag_text(inc)
    snap = snapshot(inc, "https://tocsin.example.com")
    [effect] = remind_effects(inc, snap, reason, text, {"discord"}, NOW)
    return as_delivery(effect)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for row in message["components"] for item in row["components"]]


def announcement_button(label: str) -> dict[str, Any]:
    """The button as the announcement renders it: the one the component handler knows."""
    snap = snapshot(incident(), "https://tocsin.example.com")
    found = buttons(message_body(texts.announcement(snap, STYLE)))
    return next(b for b in found if b["label"] == label)


@pytest.fixture
def discord() -> Iterator[DmDiscord]:
    with DmDiscord() as fake:
        yield fake
        assert fake.violations == []  # every call matched Discord's OpenAPI description


@pytest.fixture
async def sender(discord: DmDiscord) -> AsyncIterator[DiscordSender]:
    rest = DiscordRest(BOT_TOKEN, discord.api_url, timeout=5.0)
    built = DiscordSender(rest, policy=default_policy(), guild_id=GUILD_ID)
    yield built
    await built.aclose()


# --- page_dm ----------------------------------------------------------------------------------
async def test_a_page_opens_a_dm_and_posts_it_with_the_acknowledge_button(
    discord: DmDiscord, sender: DiscordSender
) -> None:
    """page_dm opens a DM with recipient_id, posts the page's words there as plain content (so the
    notification shows them), with an Acknowledge button whose custom_id is the announcement's
    (tocsin:ack:1) in the primary style, and pings nobody else."""
    sent = await sender.send(page(), Refs())
    [opened] = discord.calls_to("POST", DM)
    assert opened.body == {"recipient_id": BOB_ID}
    channel = discord.dms[BOB_ID]
    [message] = discord.messages_in(channel)
    assert sent.remote_ids == {"channel": channel, "message": message["id"]}
    assert "You are paged for INC-1" in message["content"]
    assert "Checkout \\*is\\* down" in message["content"]  # escaped user text
    [ack] = buttons(message)
    assert ack["custom_id"] == announcement_button("Acknowledge")["custom_id"] == "tocsin:ack:1"
    assert ack["style"] == 1  # primary
    [call] = discord.calls_to("POST", MESSAGES)
    assert call.body["allowed_mentions"] == {"parse": [], "users": []}


async def test_a_person_discord_does_not_know_is_skipped(
    discord: DmDiscord, sender: DiscordSender
) -> None:
    """POST /users/@me/channels answering 404 Unknown User is a Skip with the reason (the
    escalation goes on), not a retry and not a dead row; nothing is posted."""
    discord.unknown_users.add(BOB_ID)
    with pytest.raises(Skip, match="Unknown User"):
        await sender.send(page(), Refs())
    assert discord.calls_to("POST", MESSAGES) == []


async def test_a_person_who_takes_no_messages_from_the_bot_is_skipped(
    discord: DmDiscord, sender: DiscordSender
) -> None:
    """403 with code 50007 (Cannot send messages to this user: DMs closed, no shared server) on
    the DM's message is a Skip naming the reason."""
    discord.fail("POST", MESSAGES, 403, 50007, "Cannot send messages to this user")
    with pytest.raises(Skip, match="Cannot send messages to this user"):
        await sender.send(page(), Refs())


async def test_a_person_on_another_platform_is_skipped(
    discord: DmDiscord, sender: DiscordSender
) -> None:
    """A page for a Slack user that reached the Discord sender is skipped with the reason, and
    Discord is not called at all."""
    with pytest.raises(Skip, match="UCAROL is a slack user, not a Discord one"):
        await sender.send(page("slack"), Refs())
    assert discord.calls == []


async def test_other_refusals_still_fail_the_page(
    discord: DmDiscord, sender: DiscordSender
) -> None:
    """A refusal that is not about the person (400 Invalid Form Body) is a permanent failure an
    operator sees, not a silent skip."""
    discord.fail("POST", DM, 400, 50035, "Invalid Form Body")
    with pytest.raises(PermanentError, match="50035"):
        await sender.send(page(), Refs())


# --- remind -----------------------------------------------------------------------------------
async def test_an_update_reminder_mentions_the_commander_with_post_update(
    discord: DmDiscord, sender: DiscordSender
) -> None:
    """remind (reason update) posts in the incident channel, mentions (and pings only) the
    commander in place of their name, and carries the announcement's Post update button, which
    opens the update form."""
    channel = discord.add_channel("inc-1-checkout-is-down")
    sent = await sender.send(reminder("update"), Refs(channel=channel))
    [message] = discord.messages_in(channel)
    assert sent.remote_ids == {"channel": channel, "message": message["id"]}
    assert message["content"].startswith(
        "⏰ <@700000000000000005>, no update has been posted for INC-1"
    )
    [update] = buttons(message)
    assert update["custom_id"] == announcement_button("Post update")["custom_id"]
    assert update["custom_id"] == "tocsin:update:1"
    [call] = discord.calls_to("POST", MESSAGES)
    assert call.body["allowed_mentions"] == {"parse": [], "users": ["700000000000000005"]}


async def test_the_commander_nag_asks_politely_without_a_button(
    discord: DmDiscord, sender: DiscordSender
) -> None:
    """remind (reason commander) asks the channel for someone to take command, with the command
    to run, and has no mention and no button."""
    channel = discord.add_channel("inc-1-checkout-is-down")
    await sender.send(reminder("commander", commander=None), Refs(channel=channel))
    [message] = discord.messages_in(channel)
    assert "INC-1 has no commander yet. Could someone take command?" in message["content"]
    assert "/incident commander @you" in message["content"]
    assert "<@" not in message["content"]
    assert message["components"] == []


async def test_a_reminder_without_an_incident_channel_is_skipped(
    discord: DmDiscord, sender: DiscordSender
) -> None:
    """No incident channel (open_channel never ran): Skip, and nothing is sent to Discord."""
    with pytest.raises(Skip, match="no Discord channel"):
        await sender.send(reminder("update"), Refs())
    assert discord.calls == []
