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
from tocsin.domain.maintenance_effects import plan
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
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake
        assert fake.violations == []


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


def test_only_create_start_and_end_are_announced() -> None:
    """An edit or a cancel queues no notice; the keys differ per event and change."""
    chats = frozenset({"slack", "discord"})
    assert [e.kind for e in plan(WINDOW, "edited", chats)] == []
    assert [e.kind for e in plan(WINDOW, "cancelled", chats)] == []
    created = plan(WINDOW, "created", chats)
    started = plan(replace(WINDOW, updated_at=NOW + timedelta(hours=1)), "started", chats)
    assert len({e.key for e in created + started}) == 4
