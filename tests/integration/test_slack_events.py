"""Slack events over HTTP, in process: 📌 reactions and pins become one timeline note each,
redeliveries (X-Slack-Retry-Num) change nothing, joining the channel makes a participant, and
events outside incident channels or made by the bot itself are ignored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fakes.slack_api import FakeSlack
from fakes.slack_harness import SlackClient, open_client
from tocsin.domain.policy import default_policy
from tocsin.services.context import Context
from tocsin.storage import tables as t
from tocsin.storage.db import Database

INC_CHANNEL = "CINC1"


@pytest.fixture
async def client(db: Database, clock: Any, slack: FakeSlack) -> AsyncIterator[SlackClient]:
    ctx = Context(db=db, policy=default_policy(), clock=clock, destinations=frozenset({"slack"}))
    async with open_client(ctx, slack) as opened:
        yield opened


async def declared(client: SlackClient) -> None:
    """INC-1 declared by alice, its channel INC_CHANNEL."""
    await client.command("declare Checkout is down P1")
    await client.link_channel(1, INC_CHANNEL)


def bolt(fixtures_dir: Path, name: str) -> dict[str, Any]:
    return dict(json.loads((fixtures_dir / "slack" / "bolt_python" / name).read_text()))


def envelope(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {
        "type": "event_callback",
        "team_id": "T111",
        "api_app_id": "A111",
        "event": event,
        "event_id": event_id,
        "event_time": 1700000000,
        "authorizations": [{"user_id": "UTOCSINBOT", "is_bot": True}],
    }


def reaction(user: str, channel: str, ts: str, name: str = "pushpin") -> dict[str, Any]:
    item = {"type": "message", "channel": channel, "ts": ts}
    return {"type": "reaction_added", "user": user, "reaction": name, "item": item}


async def notes(client: SlackClient) -> list[str]:
    return [r["text"] for r in await client.rows(t.timeline) if r["kind"] == "note"]


async def test_a_pushpin_reaction_becomes_a_note_once(client: SlackClient) -> None:
    """A 📌 on a message in the incident channel adds its text (read from the channel's
    history) to the timeline; redeliveries with X-Slack-Retry-Num add nothing."""
    await declared(client)
    channel = client.slack.add_channel("inc-1-checkout-is-down")
    await client.link_channel(1, channel)
    ts = client.slack.add_message(channel, "Found it: <@U0BOB> flipped the flag", user="U0BOB")
    event = envelope(reaction("U0CAROL", channel, ts), "Ev100")
    for retry in (None, 1, 2):
        assert (await client.event(event, retry=retry)).status_code == 200
    assert await notes(client) == ["📌 Found it: @U0BOB flipped the flag (message by @U0BOB)"]


async def test_pinning_a_message_becomes_the_same_single_note(client: SlackClient) -> None:
    """pin_added carries the message; a pin and a 📌 on the same message make one note."""
    await declared(client)
    message = {"type": "message", "text": "Rollback done", "user": "U0ALICE", "ts": "1700.1"}
    pin = {
        "type": "pin_added",
        "user": "U0ALICE",
        "channel_id": INC_CHANNEL,
        "item": {"type": "message", "channel": INC_CHANNEL, "message": message},
    }
    await client.event(envelope(pin, "Ev200"))
    await client.event(envelope(reaction("U0BOB", INC_CHANNEL, "1700.1"), "Ev201"))
    assert await notes(client) == ["📌 Rollback done (message by @U0ALICE)"]


async def test_events_that_are_not_ours_to_record_change_nothing(
    client: SlackClient, fixtures_dir: Path
) -> None:
    """Other reactions, other channels, app mentions and the bot's own pins are ignored."""
    await declared(client)
    before = await client.counts()
    await client.event(bolt(fixtures_dir, "event_callback_reaction_added.json"))
    await client.event(bolt(fixtures_dir, "event_callback_app_mention.json"))
    await client.event(envelope(reaction("U0BOB", "COTHER", "1.2"), "Ev300"))
    await client.event(envelope(reaction("U0BOB", INC_CHANNEL, "1.2", "eyes"), "Ev301"))
    await client.event(envelope(reaction("UTOCSINBOT", INC_CHANNEL, "1.3"), "Ev302"))
    assert await client.counts() == before


async def test_joining_the_channel_makes_a_participant(client: SlackClient) -> None:
    """member_joined_channel in the incident channel adds the person to the incident."""
    await declared(client)
    joined = {"type": "member_joined_channel", "user": "U0ERIN", "channel": INC_CHANNEL}
    await client.event(envelope(joined, "Ev400"))
    await client.event(envelope({**joined, "user": "UTOCSINBOT"}, "Ev401"))
    [incident] = await client.rows(t.incidents)
    people = [p["user_id"] for p in incident["participants"]]
    assert "U0ERIN" in people
    assert "UTOCSINBOT" not in people
