"""The Acknowledge button on the direct message a ``page`` route sends (docs/alerts.md), in Slack
and in Discord: the real senders post the page with the button (the proposal's ``alert_ack``,
valued with the group's id), and pressing it through the signed interaction routes (Slack's
signing secret, Discord's Ed25519 key) acknowledges the group as that person, so the escalation
stops; pressing it again says who has it. A malformed value is a 400 with one warning line."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Clock
from fakes.alerts_kit import generic, groups, intake_client, integration, path_of, routed, runner
from fakes.chat_logs import captured, tracebacks, warnings
from fakes.discord_api import BOT_TOKEN as DISCORD_TOKEN
from fakes.discord_api import GUILD_ID
from fakes.discord_harness import BOB, DiscordClient, content, interaction, is_private, signed
from fakes.discord_harness import open_client as open_discord
from fakes.slack_api import BOT_TOKEN
from fakes.slack_harness import SlackClient
from fakes.slack_harness import open_client as open_slack
from integration.test_discord_paging import DmDiscord
from integration.test_slack_app import click, notices
from integration.test_slack_paging import DmSlack
from tocsin.delivery.base import Delivery
from tocsin.platforms.discord.rest import DiscordRest
from tocsin.platforms.discord.sender import DiscordSender
from tocsin.platforms.slack.sender import SlackSender
from tocsin.platforms.slack.webapi import SlackApi
from tocsin.services.context import Context
from tocsin.storage.alert_groups import StoredGroup
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork

ROUTE = {"match": {"team": "db"}, "action": "page", "severity": "P1"}


def _ladder(first: str, second: str) -> list[dict[str, Any]]:
    return [{"name": "default", "levels": [[first], [second]], "escalate_after_minutes": 5}]


def _ctx(db: Database, clock: Clock, platform: str, first: str, second: str) -> Context:
    policy = routed(ROUTE, escalation=_ladder(first, second))
    return Context(db, policy, clock=clock, destinations=frozenset({platform}),
                   public_url="https://tocsin.example.com")  # fmt: skip


async def _fire(ctx: Context) -> StoredGroup:
    made = await integration(ctx)
    async with intake_client(ctx) as http:
        body = generic("disk", title="Disk full", labels={"team": "db"})
        assert (await http.post(path_of(made), content=body)).status_code == 202
    await runner(ctx).fire_due()
    [kept] = await groups(ctx)
    return kept


async def _pages(ctx: Context) -> list[Delivery]:
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        rows = await uow.outbox.rows(("pending",), limit=50)
    return [Delivery(r.id, None, r.destination, r.kind, r.payload, r.idempotency_key, 0)
            for r in rows if r.kind == "page_dm"]  # fmt: skip


async def _status(ctx: Context) -> tuple[str, str]:
    [kept] = await groups(ctx)
    return kept.group.status.value, kept.group.acknowledged_by


# --- Slack ----------------------------------------------------------------------------------------
@pytest.fixture
def dm_slack() -> Iterator[DmSlack]:
    with DmSlack() as fake:
        yield fake
        assert fake.violations == []


@pytest.fixture
async def slack_client(db: Database, clock: Clock, dm_slack: DmSlack) -> AsyncIterator[SlackClient]:
    ctx = _ctx(db, clock, "slack", "slack:U0BOB", "slack:U0CAROL")
    async with open_slack(ctx, dm_slack) as opened:
        yield opened


async def _slack_dm(ctx: Context, slack: DmSlack) -> list[dict[str, Any]]:
    """Send the pending pages with the real Slack sender; the DM's buttons."""
    sender = SlackSender(SlackApi(BOT_TOKEN, slack.api_url, timeout=1.0), policy=ctx.policy)
    try:
        for delivery in await _pages(ctx):
            await sender.send(delivery, {})  # type: ignore[arg-type]  # no refs for a group
    finally:
        await sender.aclose()
    [message] = slack.messages[slack.dms["U0BOB"]]
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_slack_page_acknowledge_button_stops_the_escalation(
    slack_client: SlackClient, dm_slack: DmSlack, clock: Clock, fixtures_dir: Path
) -> None:
    """bob's page carries Acknowledge (``tocsin:alert_ack``, the group's id); pressing it
    acknowledges the group as bob, so level 2 (carol) is never paged; carol pressing it too is
    told bob has it already."""
    ctx = slack_client.ctx
    kept = await _fire(ctx)
    [button] = await _slack_dm(ctx, dm_slack)
    assert (button["action_id"], button["value"], button["text"]["text"]) == (
        "tocsin:alert_ack", str(kept.id), "Acknowledge")  # fmt: skip
    pressed = await slack_client.interact(
        click(fixtures_dir, "alert_ack", "U0BOB", "bob", button["value"])
    )
    assert pressed.status_code == 200
    assert await _status(ctx) == ("acknowledged", "bob")
    clock.advance(minutes=5)
    await runner(ctx).fire_due()
    assert [d.payload["person"]["user_id"] for d in await _pages(ctx)] == ["U0BOB"]
    await slack_client.interact(
        click(fixtures_dir, "alert_ack", "U0CAROL", "carol", button["value"])
    )
    said = {notice["user"]: notice["text"] for notice in await notices(slack_client)}
    assert f"Alert group #{kept.id} acknowledged" in said["U0BOB"]
    assert said["U0CAROL"].endswith(f"Alert group #{kept.id} is already acknowledged by bob.")


@pytest.mark.parametrize("value", ["abc", "", "0", "-3", "99999999999", 7, None, {"id": 1}])
async def test_slack_malformed_alert_button_value_is_a_400(
    slack_client: SlackClient, fixtures_dir: Path, value: Any
) -> None:
    """An alert button whose value is not a group id (signed, so not forged by a stranger):
    400 naming the field, one warning line, no traceback, nothing acknowledged or answered."""
    await _fire(slack_client.ctx)
    payload = click(fixtures_dir, "alert_ack", "U0BOB", "bob")
    payload["actions"][0]["value"] = value
    with captured() as logs:
        answer = await slack_client.interact(payload)
    assert answer.status_code == 400
    assert "actions[].value" in answer.text
    assert tracebacks(logs) == []
    assert [e["event"] for e in warnings(logs)] == ["malformed Slack request"]
    assert await _status(slack_client.ctx) == ("firing", "")
    assert await notices(slack_client) == []


# --- Discord --------------------------------------------------------------------------------------
@pytest.fixture
def dm_discord() -> Iterator[DmDiscord]:
    with DmDiscord() as fake:
        yield fake
        assert fake.violations == []


@pytest.fixture
async def discord_client(db: Database, clock: Clock) -> AsyncIterator[DiscordClient]:
    ctx = _ctx(db, clock, "discord", f"discord:{BOB[0]}", "discord:700000000000000077")
    async with open_discord(ctx) as opened:
        yield opened


async def _discord_dm(ctx: Context, discord: DmDiscord) -> tuple[str, list[dict[str, Any]]]:
    """Send the pending pages with the real Discord sender; the DM channel and its buttons."""
    rest = DiscordRest(DISCORD_TOKEN, discord.api_url, timeout=5.0)
    sender = DiscordSender(rest, policy=ctx.policy, guild_id=GUILD_ID)
    try:
        for delivery in await _pages(ctx):
            await sender.send(delivery, {})  # type: ignore[arg-type]  # no refs for a group
    finally:
        await sender.aclose()
    channel = discord.dms[BOB[0]]
    [message] = discord.messages_in(channel)
    return channel, [item for row in message["components"] for item in row["components"]]


async def test_discord_page_acknowledge_button_stops_the_escalation(
    discord_client: DiscordClient, dm_discord: DmDiscord, clock: Clock
) -> None:
    """bob's page carries Acknowledge (``tocsin:alert_ack:<id>``); his signed click acknowledges
    the group as him (a private answer), level 2 is never paged, and a second click says he has
    it already."""
    ctx = discord_client.ctx
    kept = await _fire(ctx)
    channel, [button] = await _discord_dm(ctx, dm_discord)
    assert (button["custom_id"], button["label"]) == (f"tocsin:alert_ack:{kept.id}", "Acknowledge")
    answer = await discord_client.click(button["custom_id"], who=BOB, channel=channel)
    assert is_private(answer)
    assert f"Alert group #{kept.id} acknowledged" in content(answer)
    status, by = await _status(ctx)
    assert status == "acknowledged"
    assert by.lower() == "bob"
    clock.advance(minutes=5)
    await runner(ctx).fire_due()
    assert [d.payload["person"]["user_id"] for d in await _pages(ctx)] == [BOB[0]]
    again = await discord_client.click(button["custom_id"], who=BOB, channel=channel)
    assert f"is already acknowledged by {by}." in content(again)


@pytest.mark.parametrize("value", ["abc", "", "0", "1e3", "\uff11\uff12"])
async def test_discord_malformed_alert_button_value_is_a_400(
    discord_client: DiscordClient, value: str
) -> None:
    """A signed click on ``tocsin:alert_ack:<not an id>``: 400 naming the field, one warning
    line, no traceback, nothing acknowledged."""
    await _fire(discord_client.ctx)
    body = interaction(3, {"custom_id": f"tocsin:alert_ack:{value}", "component_type": 2}, user=BOB)
    raw = json.dumps(body).encode()
    with captured() as logs:
        answer = await discord_client.post(raw, signed(raw))
    assert answer.status_code == 400
    assert "data.custom_id" in answer.text
    assert tracebacks(logs) == []
    assert len(warnings(logs)) == 1
    assert await _status(discord_client.ctx) == ("firing", "")
