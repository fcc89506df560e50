"""Discord interactions, in process: signed requests through tocsin's ASGI app (httpx
ASGITransport) on SQLite (and PostgreSQL when configured). Every answer is checked against the
interaction callback schema of Discord's OpenAPI spec. Refusals (401, 400) change nothing;
every subcommand runs end to end; denials are ephemeral and say why; buttons, forms and message
commands run the same commands; slow work is deferred and finished through the outbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from fakes.discord_harness import (
    BOB,
    CAROL,
    GENERAL,
    INC_CHANNEL,
    PUBLIC_KEY,
    VECTORS,
    DiscordClient,
    content,
    declared,
    discord_context,
    interaction,
    is_private,
    ok,
    only_incident,
    open_client,
    outbox_kinds,
    signed,
    slash_data,
)
from tocsin.storage import tables as t
from tocsin.storage.db import Database


@pytest.fixture
async def client(db: Database, clock: Any) -> AsyncIterator[DiscordClient]:
    async with open_client(discord_context(db, clock)) as opened:
        yield opened


# --- the door -------------------------------------------------------------------------------
async def test_ping_vector_gets_pong(client: DiscordClient) -> None:
    """The generated PING, sent with its own signature, is answered {"type": 1}."""
    case = next(c for c in VECTORS["cases"] if c["name"] == "ping")
    headers = {
        "x-signature-ed25519": case["x_signature_ed25519"],
        "x-signature-timestamp": case["x_signature_timestamp"],
        "content-type": "application/json",
    }
    response = await client.post(case["body"].encode(), headers)
    assert response.status_code == 200
    assert response.json() == {"type": 1}


@pytest.mark.parametrize("how", ["unsigned", "tampered", "other key", "not hex", "short"])
async def test_bad_signatures_get_401_and_change_nothing(client: DiscordClient, how: str) -> None:
    """A declare that is unsigned, altered after signing, signed by another key or carries a
    malformed signature: 401 and no row anywhere."""
    before = await client.counts()
    body = json.dumps(interaction(2, slash_data("declare", title="Evil"))).encode()
    headers = signed(body)
    if how == "unsigned":
        headers = {"content-type": "application/json"}
    elif how == "tampered":
        body = body.replace(b"Evil", b"Evil!")
    elif how == "other key":
        from tocsin.platforms.discord.verify import sign

        headers = {**headers, **sign("11" * 32, body, "1700000000")}
    elif how == "not hex":
        headers["x-signature-ed25519"] = "zz" * 64
    else:
        headers["x-signature-ed25519"] = headers["x-signature-ed25519"][:-2]
    response = await client.post(body, headers)
    assert response.status_code == 401
    assert await client.counts() == before


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1, 2]", b'{"type": 99}', b'{"type": 2, "data": {}}']
)
async def test_malformed_interactions_get_400(client: DiscordClient, body: bytes) -> None:
    """Signed but meaningless bodies are a 400 with a reason, never a 500, and change nothing."""
    before = await client.counts()
    response = await client.post(body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert await client.counts() == before


async def test_autocomplete_gets_an_empty_list(client: DiscordClient) -> None:
    """tocsin offers no autocompletion; an autocomplete interaction still gets a valid answer."""
    answer = await client.send(interaction(4, slash_data("show", incident="INC")))
    assert answer == {"type": 8, "data": {"choices": []}}


# --- slash commands -------------------------------------------------------------------------
async def test_help_is_one_private_message(client: DiscordClient) -> None:
    """`/incident help` lists every subcommand, to the caller only; `help declare` details one."""
    answer = await client.command("help")
    assert is_private(answer)
    assert "/incident declare" in content(answer)
    assert "/incident postmortem" in content(answer)
    detail = await client.command("help", subcommand="declare")
    assert "Example: /incident declare" in content(detail)


async def test_declare_with_typed_options(client: DiscordClient) -> None:
    """title, severity and commander options declare an incident whose commander is the Discord
    user chosen; the answer is public; the channel and announcement are outbox rows."""
    answer = await client.command(
        "declare", title="  Checkout   is down ", severity="P1", commander=BOB[0]
    )
    assert not is_private(answer)
    assert "INC-1 declared (P1, critical): Checkout is down" in content(answer)
    row = await only_incident(client)
    assert (row["title"], row["severity"]) == ("Checkout is down", "P1")
    assert await outbox_kinds(client) == ["open_channel", "announce"]
    assert row["roles"]["commander"]["platform"] == "discord"
    assert row["roles"]["commander"]["user_id"] == BOB[0]


async def test_every_subcommand_end_to_end(client: DiscordClient) -> None:
    """Each subcommand of docs/commands.md, as Discord sends it, changes the incident as it says:
    the channel implies the incident inside it, `incident` names it elsewhere, /inc is the same."""
    await declared(client)
    steps: list[tuple[str, dict[str, Any], str]] = [
        ("list", {}, "INC-1"),
        ("list", {"scope": "all"}, "INC-1"),
        ("show", {"incident": "INC-1"}, "Checkout is down"),
        ("update", {"text": "Payments flowing again"}, ""),
        ("note", {"text": "Rolled back deploy 4711", "incident": "inc-1"}, ""),
        ("severity", {"level": "P2"}, ""),
        ("status", {"state": "identified"}, ""),
        ("role", {"role": "scribe", "user": CAROL[0]}, ""),
        ("action", {"text": "Add an alert on queue depth", "owner": BOB[0]}, ""),
        ("ack", {}, ""),
        ("commander", {"user": BOB[0]}, ""),
    ]
    for sub, options, expected in steps:
        answer = await client.command(sub, channel=INC_CHANNEL, **options)
        assert ok(answer), (sub, answer)
        assert expected in content(answer)
    row = await only_incident(client)
    assert (row["severity"], row["status"]) == ("P2", "identified")
    joined = await client.command("join", who=CAROL, incident="INC-1")
    assert "🚫" not in content(joined)
    resolved = await client.command(
        "resolve", who=BOB, name="inc", channel=INC_CHANNEL, summary="Cache node replaced"
    )
    assert ok(resolved)
    assert (await only_incident(client))["status"] == "resolved"
    reopened = await client.command("reopen", who=BOB, incident="INC-1")
    assert (await only_incident(client))["status"] == "investigating", reopened
    postmortem = await client.command("postmortem", incident="INC-1")
    embeds = postmortem["data"].get("embeds") or []
    assert any(e.get("title") == "Post-mortem" and "INC-1" in e["description"] for e in embeds)
    kinds = {row["kind"] for row in await client.rows(t.timeline)}
    assert {"update", "note", "severity", "status", "role", "action", "acknowledged"} <= kinds


async def test_denied_command_is_private_says_why_and_is_audited(client: DiscordClient) -> None:
    """Bob may not change the severity of alice's incident: a private answer with the reason,
    no change, and a 'denied' line in the audit log."""
    await declared(client)
    answer = await client.command("severity", who=BOB, channel=INC_CHANNEL, level="P4")
    assert is_private(answer)
    assert content(answer).startswith("🚫")
    assert "commander" in content(answer)
    assert (await only_incident(client))["severity"] == "P1"
    audit = await client.rows(t.audit_log)
    assert [a["decision"] for a in audit if a["command"] == "severity"] == ["denied"]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"incident": "INC-99", "text": "x"}, "There is no INC-99"),
        ({"incident": "banana", "text": "x"}, "write it like INC-12"),
        ({"text": "nothing implies it"}, "Which incident?"),
        ({"text": "   "}, "update needs the text"),
    ],
)
async def test_problems_are_private_with_the_reason(
    client: DiscordClient, options: dict[str, Any], words: str
) -> None:
    """Unknown or unreadable incidents, no incident at all outside a channel, or blank text: a
    private answer saying what is wrong, and nothing changes."""
    await declared(client)
    before = await client.counts()
    answer = await client.command("update", channel=GENERAL, **options)
    assert is_private(answer)
    assert words in content(answer)
    assert (await client.counts())["timeline"] == before["timeline"]


async def test_unknown_commands_are_answered_politely(client: DiscordClient) -> None:
    """A command that is not tocsin's gets a private pointer to /incident help."""
    answer = await client.send(interaction(2, {"id": "1", "name": "cardsearch", "type": 1}))
    assert is_private(answer)
    assert "/incident help" in content(answer)


async def test_a_replayed_interaction_runs_once(client: DiscordClient) -> None:
    """The same signed interaction posted twice declares one incident; the second answer says it
    was handled already."""
    body = json.dumps(interaction(2, slash_data("declare", title="Twice"))).encode()
    first = await client.post(body)
    second = await client.post(body)
    assert "declared" in content(first.json())
    assert "already handled" in content(second.json())
    assert len(await client.rows(t.incidents)) == 1


# --- wiring ---------------------------------------------------------------------------------
async def test_the_surface_is_mounted_only_with_a_public_key(db: Database, clock: Any) -> None:
    """Without TOCSIN_DISCORD_PUBLIC_KEY there is no Discord route; with it, POST
    /discord/interactions verifies with that key, and its starter drains deferred answers."""
    from tocsin.config import load_settings
    from tocsin.platforms.discord import discord_surface

    ctx = discord_context(db, clock)
    off = load_settings({}, env_file=None)
    assert discord_surface(off, ctx) == ([], [])
    on = load_settings({"TOCSIN_DISCORD_PUBLIC_KEY": PUBLIC_KEY}, env_file=None)
    routes, starters = discord_surface(on, ctx)
    assert [route.path for route in routes] == ["/discord/interactions"]
    stop = await starters[0]()
    await stop()
