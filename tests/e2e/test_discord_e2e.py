"""Discord end to end over a real uvicorn: Discord's documented interaction bodies and the
generated vectors, signed and answered (or refused when tampered with, changing nothing), and a
declare typed in Discord carried all the way to the fake Discord REST API by the outbox worker:
incident channel, announcement with buttons, an update typed inside the new channel, the
announcement edited in place, and a button click from it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes.delivery_kit import eventually, fast
from fakes.discord_api import ANNOUNCE, BOT_TOKEN, GUILD_ID, FakeDiscord
from fakes.discord_harness import (
    BOB,
    VECTORS,
    DiscordClient,
    build_app,
    content,
    is_private,
    signed,
)
from fakes.slack_harness import served
from tocsin.delivery.service import DeliveryService
from tocsin.domain.policy import default_policy
from tocsin.platforms.discord.rest import DiscordRest
from tocsin.platforms.discord.sender import DiscordSender
from tocsin.services.context import Context
from tocsin.storage import tables as t
from tocsin.storage.db import Database

pytestmark = pytest.mark.slow

DOCS = "discord/docs_examples"
EXAMPLES = [
    "slash_command_interaction.json",
    "user_command_interaction.json",
    "message_command_interaction.json",
]


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    with FakeDiscord() as fake:
        yield fake
        assert fake.violations == []


def context(db: Database, clock: Any) -> Context:
    return Context(
        db=db,
        policy=default_policy(),
        clock=clock,
        destinations=frozenset({"discord"}),
        public_url="https://tocsin.example.com",
    )


@pytest.fixture
async def client(db: Database, clock: Any) -> AsyncIterator[DiscordClient]:
    """tocsin on a real uvicorn, verifying with the generated public key."""
    ctx = context(db, clock)
    asgi, app = build_app(ctx)
    async with served(asgi) as url, httpx.AsyncClient(base_url=url) as http:
        yield DiscordClient(http, ctx, app)
    await app.drain()


def test_every_docs_example_is_covered(fixtures_dir: Path) -> None:
    """No interaction body from Discord's docs is left out of the signed test below."""
    found = {p.name for p in (fixtures_dir / DOCS).iterdir() if "interaction" in p.name}
    assert found == set(EXAMPLES)


@pytest.mark.parametrize("name", EXAMPLES)
async def test_docs_examples_signed_are_answered(
    client: DiscordClient, fixtures_dir: Path, name: str
) -> None:
    """Each documented interaction body, signed with the generated key pair, gets a valid
    private answer (they are other apps' commands: tocsin points at /incident help); the same
    body with one byte changed gets 401; neither changes the database."""
    body = json.dumps(json.loads((fixtures_dir / DOCS / name).read_text())).encode()
    before = await client.counts()
    answer = await client.send(json.loads(body))
    assert is_private(answer)
    assert "/incident help" in content(answer)
    tampered = await client.post(body + b" ", signed(body))
    assert tampered.status_code == 401
    assert await client.counts() == before


async def test_generated_vectors_over_http(client: DiscordClient) -> None:
    """Every generated vector, posted as raw bytes with its own headers: the valid ones are
    answered (PING with PONG), the tampered ones get 401, and nothing is stored."""
    before = await client.counts()
    for case in VECTORS["cases"]:
        headers = {
            "x-signature-ed25519": case["x_signature_ed25519"],
            "x-signature-timestamp": case["x_signature_timestamp"],
            "content-type": "application/json",
        }
        response = await client.post(case["body"].encode(), headers)
        if not case["expect_valid"]:
            assert response.status_code == 401, case["name"]
            continue
        assert response.status_code == 200, case["name"]
        if case["name"] == "ping":
            assert response.json() == {"type": 1}
        else:
            assert is_private(response.json())
    assert await client.counts() == before


async def test_declare_to_channel_and_announcement(
    client: DiscordClient, discord: FakeDiscord
) -> None:
    """A declare typed in Discord becomes, through the outbox worker, an incident channel with
    its summary and an announcement with buttons; an update typed in that channel (no incident
    named) is posted there and edits the announcement; Join from the announcement answers the
    clicker privately."""
    service = await start_delivery(client.ctx, discord)
    try:
        answer = await client.command("declare", title="Checkout is down", severity="P1")
        assert "INC-1 declared" in content(answer)

        async def announced() -> bool:
            refs = await _refs(client)
            return "announcement_id" in refs and "channel" in refs

        await eventually(announced)
        refs = await _refs(client)
        channel = discord.channels[refs["channel"]]
        assert channel["name"] == "inc-1-checkout-is-down"
        [announcement] = discord.messages_in(ANNOUNCE)
        assert announcement["components"][0]["components"][0]["custom_id"] == "tocsin:join:1"

        update = await client.command("update", channel=channel["id"], text="Rolled back 4711")
        assert not content(update).startswith(("⚠️", "🚫"))

        async def edited() -> bool:
            [message] = discord.messages_in(ANNOUNCE)
            return "Rolled back 4711" in str(message["embeds"])

        await eventually(edited)
        lines = [m["content"] for m in discord.messages_in(channel["id"])]
        assert any("Rolled back 4711" in line for line in lines)
        joined = await client.click("tocsin:join:1", who=BOB)
        assert is_private(joined)
        assert "You joined INC-1" in content(joined)

        async def all_delivered() -> bool:
            return {row["state"] for row in await client.rows(t.outbox)} == {"delivered"}

        await eventually(all_delivered)  # nothing dead, nothing left behind
    finally:
        await service.stop()
    lines = [m["content"] for m in discord.messages_in(channel["id"])]
    assert any("joined" in line for line in lines)


async def start_delivery(ctx: Context, discord: FakeDiscord) -> DeliveryService:
    """The outbox workers with the Discord sender pointed at the fake, woken by commits."""
    sender = DiscordSender(
        DiscordRest(BOT_TOKEN, discord.api_url),
        policy=default_policy(),
        guild_id=GUILD_ID,
        announce_channel=ANNOUNCE,
    )
    service = DeliveryService(ctx.db, {"discord": sender}, config=fast(clock=ctx.clock))
    ctx.on_commit.append(service.wake)
    await service.start()
    return service


async def _refs(client: DiscordClient) -> dict[str, str]:
    async with client.ctx.uow(read_only=True) as uow:
        return await uow.refs.of(1, "discord")


async def test_a_deferred_answer_reaches_original(db: Database, discord: FakeDiscord) -> None:
    """When the work outlasts the budget, Discord gets type 5 at once, and the outbox worker
    later edits @original through the interaction webhook with the real answer."""
    ctx = Context(db=db, policy=default_policy(), destinations=frozenset({"discord"}))
    sender = DiscordSender(DiscordRest(BOT_TOKEN, discord.api_url), policy=default_policy())
    service = DeliveryService(db, {"discord": sender}, config=fast())
    ctx.on_commit.append(service.wake)
    asgi, app = build_app(ctx, budget=0.0)
    await service.start()
    try:
        async with served(asgi) as url, httpx.AsyncClient(base_url=url) as http:
            client = DiscordClient(http, ctx, app)
            answer = await client.command("list", scope="all")
            assert answer == {"type": 5, "data": {"flags": 64}}
            await app.drain()
            token = client.sent[-1]["token"]

            async def edited() -> bool:
                return token in discord.originals

            await eventually(edited)
    finally:
        await service.stop()
    assert discord.originals[token]["content"] == "No incidents yet."
    assert "flags" not in discord.originals[token]
