"""Signed Slack requests against tocsin's app, in process (httpx ASGITransport) or over a real
uvicorn, with the fake Slack Web API behind it. Shared by the Slack integration and e2e tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa
import uvicorn
from starlette.applications import Starlette

from fakes.slack_api import BOT_TOKEN, FakeSlack, signed_headers
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.observability.metrics import create_metrics
from tocsin.platforms.slack.app import SlackApp
from tocsin.platforms.slack.routes import slack_routes
from tocsin.platforms.slack.verify import SlackVerifier
from tocsin.platforms.slack.webapi import SlackApi, SlackWeb
from tocsin.services.context import Context
from tocsin.storage import tables as t

SECRET = "test-signing-secret-for-tocsin"
NOW = 1700000000
FORM = "application/x-www-form-urlencoded"
TABLES = {
    "incidents": t.incidents,
    "timeline": t.timeline,
    "audit_log": t.audit_log,
    "outbox": t.outbox,
    "seen_requests": t.seen_requests,
    "remote_refs": t.remote_refs,
}


def build_app(
    ctx: Context, slack: FakeSlack, *, secret: str = SECRET, now: Callable[[], float] = lambda: NOW
) -> tuple[Starlette, SlackApp]:
    """tocsin's ASGI app (guards included) with the Slack routes, verifying at clock ``now``."""
    web = SlackWeb(SlackApi(BOT_TOKEN, slack.api_url, timeout=2.0))
    metrics = create_metrics(process=False)
    app = SlackApp(ctx, web=web, metrics=metrics)
    routes = slack_routes(app, SlackVerifier(secret, clock=now))
    return create_app(ctx, metrics, Runtime(), routes=routes), app


@dataclass
class SlackClient:
    """Posts signed Slack bodies to an app and reads the database behind it."""

    http: httpx.AsyncClient
    ctx: Context
    slack: FakeSlack
    secret: str = SECRET
    timestamp: int = NOW

    async def post(
        self,
        path: str,
        body: bytes,
        content_type: str,
        *,
        extra: dict[str, str | bytes] | None = None,
        signed: bool = True,
    ) -> httpx.Response:
        headers: dict[str, str | bytes] = {"content-type": content_type}
        if signed:
            headers = {**signed_headers(self.secret, body, self.timestamp, content_type)}
        return await self.http.post(path, content=body, headers={**headers, **(extra or {})})

    async def command(
        self,
        text: str,
        *,
        user: str = "U0ALICE",
        name: str = "alice",
        channel: str = "CGENERAL",
        command: str = "/incident",
        trigger_id: str = "111.222.trigger",
    ) -> httpx.Response:
        form = {
            "token": "verification_token",
            "team_id": "T111",
            "channel_id": channel,
            "user_id": user,
            "user_name": name,
            "command": command,
            "text": text,
            "response_url": "https://hooks.slack.com/commands/T111/1/x",
            "trigger_id": trigger_id,
        }
        return await self.post("/slack/commands", urlencode(form).encode(), FORM)

    async def interact(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post("/slack/interactions", body, FORM)

    async def event(self, envelope: dict[str, Any], retry: int | None = None) -> httpx.Response:
        extra: dict[str, str | bytes] = {
            "x-slack-retry-num": str(retry),
            "x-slack-retry-reason": "http_timeout",
        }
        body = json.dumps(envelope).encode()
        return await self.post(
            "/slack/events", body, "application/json", extra=extra if retry else None
        )

    async def counts(self) -> dict[str, int]:
        """Rows per table: the test's way to say "nothing changed"."""
        async with self.ctx.uow(read_only=True) as uow:
            found = {}
            for name, table in TABLES.items():
                query = sa.select(sa.func.count()).select_from(table)
                found[name] = int((await uow.connection.execute(query)).scalar_one())
        return found

    async def rows(self, table: sa.Table) -> list[dict[str, Any]]:
        async with self.ctx.uow(read_only=True) as uow:
            result = await uow.connection.execute(sa.select(table))
            return [dict(row) for row in result.mappings()]

    async def link_channel(self, incident: int, channel: str) -> None:
        """What the outbox worker records once open_channel has created the channel."""
        async with self.ctx.uow() as uow:
            await uow.refs.set(incident, "slack", "channel", channel)
            await uow.commit()


@contextlib.asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[str]:
    """``app`` on a real uvicorn on 127.0.0.1 (a free port); yields its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def open_client(ctx: Context, slack: FakeSlack) -> AsyncIterator[SlackClient]:
    """A SlackClient on the real app in-process; closes the app's Web API client on exit."""
    asgi, app = build_app(ctx, slack)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin") as http:
        yield SlackClient(http, ctx, slack)
    assert app.web is not None
    await app.web.aclose()
