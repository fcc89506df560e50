"""Discord buttons, forms, message commands and the 3-second rule, in process: signed
interactions through tocsin's ASGI app on SQLite (and PostgreSQL when configured). Buttons run
the same commands as typed ones and answer privately; Resolve asks first and refuses others at
once (audited); forms declare and update once however often they are submitted; work that
outlasts the budget is deferred and finished through the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fakes.discord_harness import (
    BOB,
    CAROL,
    INC_CHANNEL,
    DiscordClient,
    build_app,
    content,
    declared,
    discord_context,
    interaction,
    is_private,
    ok,
    only_incident,
    open_client,
    slash_data,
)
from fakes.discord_spec import check_request
from tocsin.storage import tables as t
from tocsin.storage.db import Database


@pytest.fixture
async def client(db: Database, clock: Any) -> AsyncIterator[DiscordClient]:
    async with open_client(discord_context(db, clock)) as opened:
        yield opened


# --- buttons --------------------------------------------------------------------------------
async def test_join_and_ack_buttons_answer_privately(client: DiscordClient) -> None:
    """Join and Acknowledge on the announcement act for whoever clicked, answering only them."""
    await declared(client)
    joined = await client.click("tocsin:join:1", who=BOB)
    assert is_private(joined)
    assert "You joined INC-1" in content(joined)
    acked = await client.click("tocsin:ack:1", who=BOB)
    assert is_private(acked)
    assert "acknowledged" in content(acked)


async def test_resolve_button_confirms_then_resolves(client: DiscordClient) -> None:
    """The commander's Resolve asks first (ephemeral, with Resolve and Cancel buttons); Cancel
    changes nothing; the confirmation resolves and replaces the question with the answer."""
    await declared(client)
    question = await client.click("tocsin:resolve:1:ask")
    assert is_private(question)
    assert "Resolve INC-1?" in content(question)
    ids = [b["custom_id"] for b in question["data"]["components"][0]["components"]]
    assert ids == ["tocsin:resolve:1:yes", "tocsin:cancel:1"]
    cancelled = await client.click("tocsin:cancel:1")
    assert cancelled["type"] == 7
    assert (await only_incident(client))["status"] == "investigating"
    done = await client.click("tocsin:resolve:1:yes")
    assert done["type"] == 7
    assert done["data"]["components"] == []
    assert (await only_incident(client))["status"] == "resolved"


async def test_resolve_button_refuses_others_politely(client: DiscordClient) -> None:
    """Someone who is not the commander is refused at once (no question), privately, with the
    reason, and the refusal is audited."""
    await declared(client)
    answer = await client.click("tocsin:resolve:1:ask", who=BOB)
    assert answer["type"] == 4
    assert is_private(answer)
    assert content(answer).startswith("🚫")
    assert (await only_incident(client))["status"] == "investigating"
    audit = await client.rows(t.audit_log)
    assert [a["decision"] for a in audit if a["command"] == "resolve"] == ["denied"]


async def test_update_button_opens_the_form_for_those_allowed(client: DiscordClient) -> None:
    """Post update opens the update form for the commander, and refuses bob with the reason;
    the submitted form posts the update."""
    await declared(client)
    form = await client.click("tocsin:update:1")
    assert form["type"] == 9
    assert form["data"]["custom_id"] == "tocsin:update:1"
    refused = await client.click("tocsin:update:1", who=BOB)
    assert refused["type"] == 4
    assert content(refused).startswith("🚫")
    text = {"type": 4, "custom_id": "text", "value": "Error rates back to normal"}
    answer = await client.submit(
        {"custom_id": "tocsin:update:1", "components": [{"type": 18, "component": text}]}
    )
    assert ok(answer)
    updates = [r for r in await client.rows(t.timeline) if r["kind"] == "update"]
    assert [u["text"] for u in updates] == ["Error rates back to normal"]


# --- forms and message commands -------------------------------------------------------------
def declare_submission(title: str, severity: str = "P2", commander: str = "") -> dict[str, Any]:
    fields = [
        {"type": 18, "component": {"type": 4, "custom_id": "title", "value": title}},
        {"type": 18, "component": {"type": 3, "custom_id": "severity", "values": [severity]}},
        {
            "type": 18,
            "component": {
                "type": 5,
                "custom_id": "commander",
                "values": [commander] if commander else [],
            },
        },
        {
            "type": 18,
            "component": {"type": 4, "custom_id": "description", "value": "Card payments fail"},
        },
    ]
    data: dict[str, Any] = {"custom_id": "tocsin:declare:new", "components": fields}
    if commander:
        data["resolved"] = {"users": {commander: {"id": commander, "username": "bob"}}}
    return data


async def test_declare_form_declares_once(client: DiscordClient) -> None:
    """A declare form submission makes one incident with its description and chosen commander;
    the same submission again makes nothing new."""
    payload = interaction(5, declare_submission("Payments fail", "P2", BOB[0]))
    answer = await client.send(payload)
    assert "INC-1 declared (P2, high): Payments fail" in content(answer)
    again = await client.send(payload)
    assert "already handled" in content(again)
    row = await only_incident(client)
    assert row["description"] == "Card payments fail"
    assert row["roles"]["commander"] == {
        "platform": "discord",
        "user_id": BOB[0],
        "display_name": "bob",
    }


async def test_declare_form_with_problems_says_what(client: DiscordClient) -> None:
    """An empty title and an unknown severity are refused privately with both reasons, and
    nothing is declared."""
    answer = await client.submit(declare_submission("   ", severity="P9"))
    assert is_private(answer)
    assert "Give the incident a title" in content(answer)
    assert "Choose a severity from P1 (critical) to P4 (low)." in content(answer)
    assert await client.rows(t.incidents) == []


def message_command(name: str, text: str) -> dict[str, Any]:
    message = {"id": "5", "content": text, "author": {"id": CAROL[0], "username": "carol"}}
    return {
        "id": "2",
        "name": name,
        "type": 3,
        "target_id": "5",
        "resolved": {"messages": {"5": message}},
    }


async def test_declare_incident_message_command_opens_prefilled_form(
    client: DiscordClient,
) -> None:
    """ "Declare incident" on a message opens the declare form with its first line as title and
    the whole message as description."""
    answer = await client.send(
        interaction(2, message_command("Declare incident", "DB down\nreplica lag 40s"))
    )
    assert answer["type"] == 9
    fields = {c["label"]: c["component"] for c in answer["data"]["components"]}
    assert fields["Title"]["value"] == "DB down"
    assert fields["Description"]["value"] == "DB down\nreplica lag 40s"


async def test_add_to_timeline_message_command_notes_the_message(client: DiscordClient) -> None:
    """ "Add to timeline" in the incident's channel adds the message as a note."""
    await declared(client)
    answer = await client.send(
        interaction(2, message_command("Add to timeline", "It was DNS"), channel=INC_CHANNEL)
    )
    assert is_private(answer)
    notes = [r["text"] for r in await client.rows(t.timeline) if r["kind"] == "note"]
    assert notes == ["📌 It was DNS (message by @carol)"]


# --- the 3-second rule ----------------------------------------------------------------------
async def test_slow_work_is_deferred_and_finished_through_the_outbox(
    db: Database, clock: Any
) -> None:
    """Work not done within the budget is answered type 5 (ephemeral); when it finishes, the
    answer is queued as an interaction_reply for the interaction's token."""
    ctx = discord_context(db, clock)
    asgi, app = build_app(ctx, budget=0.0)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin") as http:
        client = DiscordClient(http, ctx, app)
        payload = interaction(2, slash_data("declare", title="Slow one"))
        answer = await client.send(payload)
        await app.drain()
    assert answer == {"type": 5, "data": {"flags": 64}}
    rows = [r for r in await client.rows(t.outbox) if r["kind"] == "interaction_reply"]
    assert len(rows) == 1
    reply = rows[0]["payload"]
    assert reply["token"] == payload["token"]
    assert "INC-1 declared" in reply["body"]["content"]
    webhook = "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
    assert check_request("PATCH", webhook, reply["body"]) == []
    assert len(await client.rows(t.incidents)) == 1
