"""The buttons on a proposed alert group in Slack: the sender posts them, and pressing them
acknowledges, silences (1h/4h/24h) or declares through the signed interaction route; the person
who pressed gets a private answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fakes.alerts_kit import generic, groups, intake_client, integration, path_of, runner
from fakes.slack_harness import SlackClient
from integration.test_slack_app import click, client, notices
from tocsin.chat.notices import alert_group_message
from tocsin.platforms.slack.blocks import STYLE, message_blocks

__all__ = ["client"]  # the fixture, shared with test_slack_app.py


async def _proposed(client: SlackClient) -> int:
    made = await integration(client.ctx)
    async with intake_client(client.ctx) as http:
        assert (await http.post(path_of(made), content=generic("disk"))).status_code == 202
    await runner(client.ctx).fire_due()
    [kept] = await groups(client.ctx)
    return kept.id


def test_the_proposal_carries_the_five_buttons() -> None:
    """Acknowledge, Declare incident (confirmed first) and Silence 1h / 4h / 24h, each with the
    group's id, as Slack action ids under tocsin's prefix."""
    payload: dict[str, Any] = {
        "incident": {"ref": "Alert group #7", "severity": "P3", "title": "disk"},
        "text": "1 alert firing",
        "group": {"id": 7, "alerts": []},
    }
    blocks = message_blocks(alert_group_message(payload, STYLE, buttons=True), key="k")
    [actions] = [b for b in blocks if b["type"] == "actions"]
    ids = [e["action_id"] for e in actions["elements"]]
    assert ids == [
        "tocsin:alert_ack",
        "tocsin:alert_declare",
        "tocsin:alert_silence_1h",
        "tocsin:alert_silence_4h",
        "tocsin:alert_silence_24h",
    ]
    assert {e["value"] for e in actions["elements"]} == {"7"}
    assert "confirm" in actions["elements"][1]


async def test_pressing_the_buttons(client: SlackClient, fixtures_dir: Path) -> None:
    """Acknowledge, then Silence 4h, then Declare: each changes the group and answers the
    presser privately; the group ends attached to INC-1."""
    gid = str(await _proposed(client))
    await client.interact(click(fixtures_dir, "alert_ack", "U0BOB", "bob", gid))
    assert (await groups(client.ctx))[0].group.status.value == "acknowledged"
    await client.interact(click(fixtures_dir, "alert_silence_4h", "U0BOB", "bob", gid))
    assert (await groups(client.ctx))[0].group.status.value == "silenced"
    await client.interact(click(fixtures_dir, "alert_declare", "U0BOB", "bob", gid))
    assert (await groups(client.ctx))[0].incident == 1
    said = [notice["text"] for notice in await notices(client) if notice["user"] == "U0BOB"]
    assert any("acknowledged" in text for text in said)
    assert any("silenced for 4h" in text for text in said)
    assert any("Declared INC-1" in text for text in said)


async def test_a_button_for_a_missing_group_answers_politely(
    client: SlackClient, fixtures_dir: Path
) -> None:
    """A group that does not exist (deleted, or a forged value): a private one-line answer."""
    response = await client.interact(click(fixtures_dir, "alert_ack", "U0BOB", "bob", "999"))
    assert response.status_code == 200
    [notice] = await notices(client)
    assert "no alert group #999" in notice["text"]
