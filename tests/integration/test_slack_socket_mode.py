"""Slack Socket Mode: slack_sdk's client asks the fake Web API for a WebSocket URL
(apps.connections.open, with the app token), connects to a loopback WebSocket server playing
Slack, and answers each envelope with what the HTTP routes would have answered."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from fakes.slack_api import APP_TOKEN, FakeSlack
from tocsin.domain.policy import default_policy
from tocsin.platforms.slack.app import SlackApp
from tocsin.platforms.slack.socket_mode import SocketModeRunner
from tocsin.services.context import Context
from tocsin.storage.db import Database

SLASH = {
    "type": "slash_commands",
    "envelope_id": "env-1",
    "accepts_response_payload": True,
    "payload": {
        "command": "/incident",
        "text": "declare Payments are failing P2",
        "user_id": "U0ALICE",
        "user_name": "alice",
        "channel_id": "CGENERAL",
        "trigger_id": "1.2.3",
    },
}


async def test_socket_mode_envelopes_reach_the_same_handlers(
    db: Database, clock: Any, slack: FakeSlack, fixtures_dir: Path
) -> None:
    """A slash command over Socket Mode declares the incident and is acknowledged with the
    in_channel reply; a url_verification-free events envelope is acknowledged too."""
    acks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    event = json.loads(
        (fixtures_dir / "slack/bolt_python/event_callback_reaction_added.json").read_text()
    )

    async def play_slack(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "hello", "num_connections": 1}))
        await ws.send(json.dumps(SLASH))
        events = {"type": "events_api", "envelope_id": "env-2", "payload": event}
        await ws.send(json.dumps({**events, "retry_attempt": 0, "retry_reason": ""}))
        async for message in ws:
            await acks.put(json.loads(message))

    ctx = Context(db=db, policy=default_policy(), clock=clock, destinations=frozenset({"slack"}))
    async with serve(play_slack, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        slack.socket_url = f"ws://127.0.0.1:{port}/link/?ticket=fake"
        runner = SocketModeRunner(SlackApp(ctx), APP_TOKEN, slack.api_url, ping_interval=30)
        stop = await runner.start()
        try:
            first = await asyncio.wait_for(acks.get(), 10)
            second = await asyncio.wait_for(acks.get(), 10)
        finally:
            await stop()
    by_id = {ack["envelope_id"]: ack for ack in (first, second)}
    assert by_id["env-1"]["payload"]["response_type"] == "in_channel"
    assert "INC-1 declared" in by_id["env-1"]["payload"]["text"]
    assert by_id["env-2"].get("payload") in (None, {})
    assert slack.calls_to("apps.connections.open") == [{}]
    async with ctx.uow(read_only=True) as uow:
        incident = await uow.incidents.get(1)
    assert incident is not None
    assert incident.title == "Payments are failing"
