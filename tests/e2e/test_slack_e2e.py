"""Slack end to end over a real uvicorn: every bolt-python payload signed and answered, Slack's
documented signing example and the generated vectors accepted at their clocks (and refused when
tampered with), and a declare from a signed slash command carried all the way to the fake Slack:
incident, outbox rows, channel, announcement, then an update typed in the new channel."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from fakes.slack_api import BOT_TOKEN, FakeSlack
from fakes.slack_harness import FORM, NOW, SECRET, SlackClient, build_app, served
from tocsin.delivery.base import Delivery
from tocsin.domain.policy import default_policy
from tocsin.platforms.slack.sender import SlackSender
from tocsin.platforms.slack.webapi import SlackApi
from tocsin.services.context import Context
from tocsin.storage import tables as t
from tocsin.storage.db import Database

pytestmark = pytest.mark.slow

BOLT = "slack/bolt_python"
EMPTY = b""
# Every bolt-python payload: where Slack sends it, and what tocsin answers.
PAYLOADS: dict[str, tuple[str, Any]] = {
    "slash_command_body.x-www-form-urlencoded.txt": ("/slack/commands", "ephemeral"),
    "url_verification.json": ("/slack/events", "challenge"),
    "event_callback_app_mention.json": ("/slack/events", EMPTY),
    "event_callback_reaction_added.json": ("/slack/events", EMPTY),
    "block_actions.json": ("/slack/interactions", EMPTY),
    "view_submission.json": ("/slack/interactions", EMPTY),
    "view_submission_with_response_urls.json": ("/slack/interactions", EMPTY),
    "view_closed.json": ("/slack/interactions", EMPTY),
    "global_shortcut.json": ("/slack/interactions", EMPTY),
    "message_shortcut.json": ("/slack/interactions", EMPTY),
}
VECTOR_PATHS = {
    "slash_command": "/slack/commands",
    "url_verification": "/slack/events",
    "block_actions": "/slack/interactions",
    "view_submission": "/slack/interactions",
}


def context(db: Database, clock: Any) -> Context:
    return Context(
        db=db,
        policy=default_policy(),
        clock=clock,
        destinations=frozenset({"slack"}),
        public_url="https://tocsin.example.com",
    )


@pytest.fixture
async def client(db: Database, clock: Any, slack: FakeSlack) -> AsyncIterator[SlackClient]:
    """tocsin on a real uvicorn, verifying with SECRET at clock NOW."""
    ctx = context(db, clock)
    asgi, app = build_app(ctx, slack)
    async with served(asgi) as url, httpx.AsyncClient(base_url=url) as http:
        yield SlackClient(http, ctx, slack)
    assert app.web is not None
    await app.web.aclose()


def body_of(fixtures_dir: Path, name: str) -> tuple[bytes, str]:
    """The raw body Slack would send for a bolt-python fixture, and its content type."""
    raw = (fixtures_dir / BOLT / name).read_text()
    if name.endswith(".txt"):
        return raw.strip().encode(), FORM
    if "/slack/interactions" in PAYLOADS[name][0]:
        from urllib.parse import urlencode

        return urlencode({"payload": json.dumps(json.loads(raw))}).encode(), FORM
    return json.dumps(json.loads(raw)).encode(), "application/json"


@pytest.mark.parametrize("name", sorted(PAYLOADS))
async def test_every_bolt_payload_signed_is_answered(
    client: SlackClient, fixtures_dir: Path, name: str
) -> None:
    """Each real Slack payload, signed, gets 200 with the right answer (and never a 500);
    the same body with one byte changed gets 401; neither changes the database."""
    assert (fixtures_dir / BOLT / name).is_file()
    path, expected = PAYLOADS[name]
    body, content_type = body_of(fixtures_dir, name)
    before = await client.counts()
    response = await client.post(path, body, content_type)
    assert response.status_code == 200
    if expected == EMPTY:
        assert response.content == EMPTY
    elif expected == "challenge":
        assert response.json() == {"challenge": json.loads(body)["challenge"]}
    else:
        assert response.json()["response_type"] == expected
        assert "is not a command" in response.json()["text"]
    headers = {**client_headers(body, content_type), "content-type": content_type}
    tampered = await client.http.post(path, content=body + b" ", headers=headers)
    assert tampered.status_code == 401
    assert await client.counts() == before


def client_headers(body: bytes, content_type: str) -> dict[str, str]:
    from fakes.slack_api import signed_headers

    return signed_headers(SECRET, body, NOW, content_type)


def test_every_bolt_payload_is_covered(fixtures_dir: Path) -> None:
    """No bolt-python fixture is left out of the signed end-to-end test."""
    assert {p.name for p in (fixtures_dir / BOLT).iterdir()} == set(PAYLOADS)


async def test_generated_vectors_verify_at_1700000000(
    db: Database, clock: Any, slack: FakeSlack, fixtures_dir: Path
) -> None:
    """The generated signed bodies are accepted as sent (raw bytes, their own headers) by an app
    whose clock reads 1700000000, and refused by one whose clock is 10 minutes later."""
    vectors = json.loads((fixtures_dir / "generated/slack_hmac_vectors.json").read_text())
    ctx = context(db, clock)
    for now, wanted in ((1700000000, 200), (1700000600, 401)):
        asgi, app = build_app(ctx, slack, secret=vectors["signing_secret"], now=lambda n=now: n)
        async with served(asgi) as url, httpx.AsyncClient(base_url=url) as http:
            for case in vectors["cases"]:
                headers = {
                    "content-type": case["content_type"],
                    "x-slack-request-timestamp": case["x_slack_request_timestamp"],
                    "x-slack-signature": case["x_slack_signature"],
                }
                response = await http.post(
                    VECTOR_PATHS[case["name"]], content=case["body"].encode(), headers=headers
                )
                assert response.status_code == wanted, case["name"]
                if wanted == 200 and case["name"] == "url_verification":
                    assert response.json()["challenge"].startswith("3eZbrw1aBm2")
        assert app.web is not None
        await app.web.aclose()


async def test_docs_example_verifies_at_1531420618(
    db: Database, clock: Any, slack: FakeSlack, fixtures_dir: Path
) -> None:
    """Slack's documented example (an empty `/webhook-collect`) is accepted at its own time
    and answered with the help, written with the command as typed."""
    case = json.loads(
        (fixtures_dir / "slack/signing/docs_example_signed_slash_command.json").read_text()
    )
    asgi, app = build_app(
        context(db, clock),
        slack,
        secret=case["signing_secret"],
        now=lambda: case["clock_now_for_test"],
    )
    headers = {
        "content-type": FORM,
        "x-slack-request-timestamp": case["timestamp"],
        "x-slack-signature": case["x_slack_signature"],
    }
    async with served(asgi) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.post(
            "/slack/commands", content=case["body"].encode(), headers=headers
        )
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    assert "/webhook-collect declare" in response.json()["text"]
    assert app.web is not None
    await app.web.aclose()


async def deliver_pending(ctx: Context, sender: SlackSender) -> list[str]:
    """Carry out the pending Slack rows in order, as the outbox worker does; their kinds."""
    async with ctx.uow(read_only=True) as uow:
        query = (
            sa.select(t.outbox)
            .where(t.outbox.c.destination == "slack", t.outbox.c.state == "pending")
            .order_by(t.outbox.c.id)
        )
        rows = [dict(r) for r in (await uow.connection.execute(query)).mappings()]
    for row in rows:
        async with ctx.uow(read_only=True) as uow:
            refs = await uow.refs.of(row["incident"], "slack")
        delivery = Delivery(
            row["id"], row["incident"], "slack", row["kind"], row["payload"],
            row["idempotency_key"], 0,
        )  # fmt: skip
        sent = await sender.send(delivery, refs)
        async with ctx.uow() as uow:
            for name, value in sent.refs.items():
                await uow.refs.set(row["incident"], "slack", name, value)
            await uow.connection.execute(
                t.outbox.update().where(t.outbox.c.id == row["id"]).values(state="delivered")
            )
            await uow.commit()
    return [row["kind"] for row in rows]


async def test_declare_from_slack_to_channel_and_back(client: SlackClient) -> None:
    """A signed `/incident declare` creates INC-1 and queues its Slack rows; delivered, they
    create the channel and the announcement. `/incident update` typed in that channel needs no
    INC-1, and its rows post the line and chat.update the announcement."""
    slack = client.slack
    announce = slack.add_channel("incidents")
    sender = SlackSender(
        SlackApi(BOT_TOKEN, slack.api_url), policy=default_policy(), announce_channel=announce
    )
    try:
        response = await client.command("declare Checkout is down P1 <@U0BOB|bob>")
        assert response.status_code == 200
        assert "INC-1 declared" in response.json()["text"]
        assert await deliver_pending(client.ctx, sender) == ["open_channel", "announce"]
        channel = slack.channel_named("inc-1-checkout-is-down")
        assert channel is not None
        assert {"U0ALICE", "U0BOB"} <= set(channel["members"])
        [announcement] = slack.messages[announce]
        response = await client.command("update Rolled back", user="U0BOB", channel=channel["id"])
        assert "INC-1" in response.json()["text"]
        assert await deliver_pending(client.ctx, sender) == ["post", "refresh_announcement"]
        assert any("Rolled back" in (m["text"] or "") for m in slack.messages[channel["id"]])
        [edit] = slack.calls_to("chat.update")
        assert edit["ts"] == announcement["ts"]
    finally:
        await sender.aclose()
