"""The Slack sender's paging kinds against the fake Slack Web API: a page is a direct message
(conversations.open, then chat.postMessage) with the announcement's own Acknowledge button, a
person Slack cannot reach is skipped, and reminders go to the incident channel (mentioning the
commander, with the announcement's Post update button) or ask for a commander. Payloads come from
the domain's own planners (page_effects, remind_effects); the fake checks every method and
argument name against Slack's OpenAPI spec."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from fakes.slack_api import BOT_TOKEN, FakeSlack, SlackError
from tocsin.chat import texts
from tocsin.delivery.base import Delivery, PermanentError, Sent, Skip
from tocsin.domain.effects import Effect
from tocsin.domain.model import Actor, Incident, Role, Severity
from tocsin.domain.paging import (
    Step,
    nag_text,
    page_effects,
    remind_effects,
    reminder_text,
)
from tocsin.domain.policy import Escalation, default_policy
from tocsin.domain.routing import snapshot
from tocsin.platforms.slack.blocks import STYLE, message_blocks
from tocsin.platforms.slack.sender import SlackSender
from tocsin.platforms.slack.webapi import SlackApi

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ALICE = Actor("slack", "UALICE", "alice")
LADDER = Escalation("default", (("slack:UBOB", "discord:700000000000000007"),), 5, 1)


class Refs(dict[str, str]):
    """What the worker keeps in remote_refs between deliveries of one incident."""

    def get(self, name: str, default: Any = None) -> Any:  # the RemoteRefs protocol
        return super().get(name, default)


class DmSlack(FakeSlack):
    """The fake Slack, plus conversations.open (in the 2021 spec) opening a DM channel."""

    def __init__(self) -> None:
        super().__init__()
        self.unknown_users: set[str] = set()
        self.dms: dict[str, str] = {}  # user id -> DM channel id

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("users") or "")
        if not user or user in self.unknown_users:
            raise SlackError("user_not_found")
        if user not in self.dms:
            channel = self._new_channel("", member=True)
            channel.update(is_im=True, is_channel=False, user=user)
            self.dms[user] = channel["id"]
        return {"channel": {"id": self.dms[user]}}


def incident(commander: Actor | None = ALICE) -> Incident:
    roles = {Role.COMMANDER: commander} if commander else {}
    return Incident(1, "Checkout <!here> down", Severity.P1, ALICE, NOW, roles=roles)


def as_delivery(effect: Effect, attempts: int = 0) -> Delivery:
    return Delivery(7, effect.incident, effect.destination, effect.kind, effect.payload,
                    effect.key, attempts)  # fmt: skip


def pages(destinations: frozenset[str] = frozenset({"slack", "discord"})) -> list[Effect]:
    inc = incident()
    snap = snapshot(inc, "https://tocsin.example.com")
    targets = LADDER.levels[0]
    return page_effects(inc, snap, LADDER, Step("default", NOW), targets, destinations)


def reminder(reason: str, commander: Actor | None = ALICE) -> Delivery:
    inc = incident(commander)
    text = reminder_text(inc, 15) if reason == "update" else nag_text(inc)
    snap = snapshot(inc, "https://tocsin.example.com")
    [effect] = remind_effects(inc, snap, reason, text, {"slack"}, NOW)
    return as_delivery(effect)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def announcement_button(label: str) -> dict[str, Any]:
    """The button as the announcement renders it: the one the interaction handler knows."""
    snap = snapshot(incident(), "https://tocsin.example.com")
    blocks = message_blocks(texts.announcement(snap, STYLE))
    found = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return next(e for e in found if e["text"]["text"] == label)


@pytest.fixture
def slack() -> Iterator[DmSlack]:
    with DmSlack() as fake:
        yield fake
        assert fake.violations == []  # every call matched Slack's OpenAPI description


@pytest.fixture
async def sender(slack: DmSlack) -> AsyncIterator[SlackSender]:
    built = SlackSender(SlackApi(BOT_TOKEN, slack.api_url, timeout=1.0), policy=default_policy())
    yield built
    await built.aclose()


# --- page_dm ----------------------------------------------------------------------------------
async def test_a_page_opens_a_dm_and_posts_it_with_the_acknowledge_button(
    slack: DmSlack, sender: SlackSender
) -> None:
    """page_dm opens a DM with users=<id>, posts the page's words and headline there, with an
    Acknowledge button whose action id and value are the announcement's (tocsin:ack, "1")."""
    [page] = [e for e in pages() if e.destination == "slack"]
    sent = await sender.send(as_delivery(page), Refs())
    assert slack.calls_to("conversations.open") == [{"users": "UBOB"}]
    channel = slack.dms["UBOB"]
    assert sent.remote_ids["channel"] == channel
    [message] = slack.messages[channel]
    assert sent.remote_ids["ts"] == message["ts"]
    assert "You are paged for INC-1" in message["text"]
    assert "Checkout &lt;!here&gt; down" in message["text"]  # escaped: nobody is pinged
    [ack] = buttons(message)
    expected = announcement_button("Acknowledge")
    assert ack["action_id"] == expected["action_id"] == "tocsin:ack"
    assert ack["value"] == expected["value"] == "1"
    assert ack["style"] == "primary"


async def test_a_person_slack_does_not_know_is_skipped(slack: DmSlack, sender: SlackSender) -> None:
    """conversations.open answering user_not_found is a Skip naming the reason (the escalation
    goes on), not a retry and not a dead row; nothing is posted."""
    slack.unknown_users.add("UBOB")
    [page] = [e for e in pages() if e.destination == "slack"]
    with pytest.raises(Skip, match="user_not_found"):
        await sender.send(as_delivery(page), Refs())
    assert slack.calls_to("chat.postMessage") == []


async def test_a_person_on_another_platform_is_skipped(slack: DmSlack, sender: SlackSender) -> None:
    """A page for a Discord user that reached the Slack sender is skipped with the reason, and
    Slack is not called at all."""
    [page] = [e for e in pages() if e.destination == "discord"]
    with pytest.raises(Skip, match="700000000000000007 is a discord user, not a Slack one"):
        await sender.send(as_delivery(page), Refs())
    assert slack.calls == []


async def test_other_refusals_still_fail_the_page(slack: DmSlack, sender: SlackSender) -> None:
    """A refusal that is not about the person (missing_scope: the app lacks im:write) is a
    permanent failure an operator sees, not a silent skip."""
    slack.fail("conversations.open", "missing_scope")
    [page] = [e for e in pages() if e.destination == "slack"]
    with pytest.raises(PermanentError, match="missing_scope"):
        await sender.send(as_delivery(page), Refs())


# --- remind -----------------------------------------------------------------------------------
async def test_an_update_reminder_mentions_the_commander_with_post_update(
    slack: DmSlack, sender: SlackSender
) -> None:
    """remind (reason update) posts in the incident channel, mentions the commander in place of
    their name, and carries the announcement's Post update button (which opens the modal)."""
    channel = slack.add_channel("inc-1-checkout-here-down")
    sent = await sender.send(reminder("update"), Refs(channel=channel))
    [message] = slack.messages[channel]
    assert sent.remote_ids == {"channel": channel, "ts": message["ts"]}
    assert message["text"].startswith("⏰ <@UALICE>, no update has been posted for INC-1")
    [update] = buttons(message)
    expected = announcement_button("Post update")
    assert update["action_id"] == expected["action_id"] == "tocsin:update"
    assert update["value"] == expected["value"] == "1"


async def test_the_commander_nag_asks_politely_without_a_button(
    slack: DmSlack, sender: SlackSender
) -> None:
    """remind (reason commander) asks the channel for someone to take command, with the
    command to run, and has no mention and no button."""
    channel = slack.add_channel("inc-1-checkout-here-down")
    await sender.send(reminder("commander", commander=None), Refs(channel=channel))
    [message] = slack.messages[channel]
    assert "INC-1 has no commander yet. Could someone take command?" in message["text"]
    assert "/incident commander @you" in message["text"]
    assert "<@" not in message["text"]
    assert buttons(message) == []


async def test_a_reminder_without_an_incident_channel_is_skipped(
    slack: DmSlack, sender: SlackSender
) -> None:
    """No incident channel (open_channel never ran): Skip, and nothing is posted anywhere."""
    with pytest.raises(Skip, match="no Slack channel"):
        await sender.send(reminder("update"), Refs())
    assert slack.calls == []


async def test_a_retried_reminder_is_not_posted_twice(slack: DmSlack, sender: SlackSender) -> None:
    """A reminder retried after a lost answer finds its own message in the channel's history
    (the sender's once-only post) instead of posting it again."""
    channel = slack.add_channel("inc-1-checkout-here-down")
    first = reminder("update")
    sent: Sent = await sender.send(first, Refs(channel=channel))
    again = Delivery(first.id, first.incident, first.destination, first.kind, first.payload,
                     first.idempotency_key, attempts=1)  # fmt: skip
    retried = await sender.send(again, Refs(channel=channel))
    assert retried.remote_ids["ts"] == sent.remote_ids["ts"]
    assert len(slack.messages[channel]) == 1
