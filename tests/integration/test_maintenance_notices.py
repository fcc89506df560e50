"""The announce channels hear of a scheduled maintenance: the ``notice`` rows a maintenance
queues, carried out by the real Slack and Discord senders against their fakes (which check every
call against the platforms' OpenAPI descriptions); without an announce channel they are skipped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fakes.discord_api import ANNOUNCE, BOT_TOKEN, GUILD_ID, FakeDiscord
from fakes.slack_api import BOT_TOKEN as SLACK_TOKEN
from fakes.slack_api import FakeSlack
from tocsin.delivery.base import Delivery, Skip
from tocsin.delivery.worker import MappingRefs
from tocsin.domain.maintenance import Maintenance
from tocsin.domain.maintenance_effects import edit_event, plan
from tocsin.domain.policy import default_policy
from tocsin.platforms.discord.rest import DiscordRest
from tocsin.platforms.discord.sender import DiscordSender
from tocsin.platforms.slack.sender import SlackSender
from tocsin.platforms.slack.webapi import SlackApi

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
WINDOW = Maintenance(
    7, "DB <upgrade>", ("API", "Payments"), NOW + timedelta(hours=1), NOW + timedelta(hours=2),
    description="Planned *failover*", updated_at=NOW,
)  # fmt: skip


def notice(destination: str, event: str = "created") -> Delivery:
    (effect,) = [e for e in plan(WINDOW, event, frozenset({destination})) if e.kind == "notice"]
    return Delivery(1, None, destination, "notice", effect.payload, effect.key, 0)


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    with FakeDiscord() as fake:
        yield fake
        assert fake.violations == []


def text_of(message: dict[str, Any]) -> str:
    return str(message)


async def test_slack_posts_the_notice_in_the_announce_channel(slack: FakeSlack) -> None:
    """Created: title (escaped), window in UTC, affected components and description; started
    and completed say so; no announce channel: skipped, nothing posted."""
    announce = slack.add_channel("incidents")
    sender = SlackSender(SlackApi(SLACK_TOKEN, slack.api_url), policy=default_policy(),
                         announce_channel=announce)  # fmt: skip
    try:
        await sender.send(notice("slack"), MappingRefs({}))
        await sender.send(notice("slack", "started"), MappingRefs({}))
        created, started = slack.messages[announce]
        assert "Scheduled maintenance: DB &lt;upgrade&gt;" in created["text"]
        assert "Sun 2026-03-01 10:00 UTC to Sun 2026-03-01 11:00 UTC" in text_of(created)
        assert "API, Payments" in text_of(created)
        assert "Planned" in text_of(created)
        assert started["text"].startswith("Maintenance started:")
    finally:
        await sender.aclose()
    quiet = SlackSender(SlackApi(SLACK_TOKEN, slack.api_url), policy=default_policy(),
                        announce_channel=None)  # fmt: skip
    try:
        with pytest.raises(Skip):
            await quiet.send(notice("slack"), MappingRefs({}))
    finally:
        await quiet.aclose()


async def test_discord_posts_the_notice_in_the_announce_channel(discord: FakeDiscord) -> None:
    """The completed notice goes to the Discord announce channel as one message."""
    rest = DiscordRest(BOT_TOKEN, discord.api_url, timeout=5.0)
    sender = DiscordSender(rest, policy=default_policy(), guild_id=GUILD_ID,
                           announce_channel=ANNOUNCE, clock=lambda: NOW)  # fmt: skip
    try:
        await sender.send(notice("discord", "completed"), MappingRefs({}))
    finally:
        await sender.aclose()
    (message,) = discord.messages[ANNOUNCE]
    assert "Maintenance completed: DB" in text_of(message)
    assert "API, Payments" in text_of(message)


def test_public_edits_and_cancels_are_announced_and_keyed_per_change() -> None:
    """An edit without a public change queues no notice; a cancel, a moved window and a new
    title or components do, with what it was; the keys differ per event and per edit."""
    chats = frozenset({"slack", "discord"})
    assert [e.kind for e in plan(WINDOW, "edited", chats)] == []
    assert [e.kind for e in plan(WINDOW, "cancelled", chats)] == ["notice", "notice"]
    later = NOW + timedelta(minutes=1)
    moved = replace(WINDOW, ends_at=WINDOW.ends_at + timedelta(hours=1), updated_at=later)
    assert edit_event(WINDOW, moved) == "rescheduled"
    assert edit_event(WINDOW, replace(WINDOW, description="typo")) == "edited"
    renamed = replace(WINDOW, title="DB upgrade", updated_at=later)
    assert edit_event(WINDOW, renamed) == "updated"
    (told, _) = plan(moved, "rescheduled", chats, before=WINDOW)
    assert told.payload["maintenance"]["was"] == {
        "start": WINDOW.starts_at.isoformat(), "end": WINDOW.ends_at.isoformat(),
    }  # fmt: skip
    again = replace(moved, ends_at=moved.ends_at + timedelta(hours=1))  # same instant, new end
    created = plan(WINDOW, "created", chats)
    started = plan(replace(WINDOW, updated_at=NOW + timedelta(hours=1)), "started", chats)
    edits = plan(moved, "rescheduled", chats) + plan(again, "rescheduled", chats)
    assert len({e.key for e in created + started + edits}) == 8
    assert {e.key for e in plan(moved, "rescheduled", chats)} <= {e.key for e in edits}


async def test_slack_shows_a_rescheduled_window_with_the_old_one(slack: FakeSlack) -> None:
    """A rescheduled notice shows the new window as "Now" and the old one as "Was"; a changed
    title and components show what they were."""
    announce = slack.add_channel("incidents")
    sender = SlackSender(SlackApi(SLACK_TOKEN, slack.api_url), policy=default_policy(),
                         announce_channel=announce)  # fmt: skip
    moved = replace(WINDOW, title="DB upgrade", components=("API",),
                    starts_at=WINDOW.starts_at + timedelta(days=1),
                    ends_at=WINDOW.ends_at + timedelta(days=1))  # fmt: skip
    (effect,) = plan(moved, "rescheduled", frozenset({"slack"}), before=WINDOW)
    try:
        await sender.send(Delivery(1, None, "slack", "notice", effect.payload, effect.key, 0),
                          MappingRefs({}))  # fmt: skip
    finally:
        await sender.aclose()
    (message,) = slack.messages[announce]
    assert message["text"].startswith("Maintenance rescheduled: DB upgrade")
    text = text_of(message)
    assert "Mon 2026-03-02 10:00 UTC to Mon 2026-03-02 11:00 UTC" in text
    assert "*Was*" in text
    assert "Sun 2026-03-01 10:00 UTC to Sun 2026-03-01 11:00 UTC" in text
    assert "DB &lt;upgrade&gt;" in text  # the old title, escaped
    assert "API, Payments" in text  # the old components
