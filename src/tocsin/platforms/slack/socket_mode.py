"""Slack Socket Mode: the same handlers, fed over a WebSocket instead of HTTP.

For teams without a public URL: with TOCSIN_SLACK_APP_TOKEN set, tocsin opens a Socket Mode
connection (slack_sdk's aiohttp client: ``apps.connections.open``, then the WebSocket) and answers
each envelope with the body the HTTP route would have sent. Requests arrive already
authenticated by the app token, so there is no signature to check. The connection is opened in
the background, so start-up never waits on Slack; the client reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tocsin.chat.payloads import Malformed
from tocsin.platforms.slack.app import SlackApp

log = structlog.get_logger("tocsin.slack.socket")

Stopper = Callable[[], Awaitable[None]]


async def dispatch(app: SlackApp, request: SocketModeRequest) -> dict[str, Any] | None:
    """The answer to one Socket Mode envelope, from the same handlers as HTTP."""
    payload = request.payload
    try:
        if request.type == "slash_commands":
            form = {str(k): str(v) for k, v in payload.items()}
            return await app.handle_command(form)
        if request.type == "interactive":
            return await app.handle_interaction(payload)
        if request.type == "events_api":
            return await app.handle_event(payload, retry_num=request.retry_attempt)
    except Malformed as exc:
        log.warning("malformed Socket Mode envelope", kind=request.type, error=str(exc))
    return None


class SocketModeRunner:
    """Start and stop one Socket Mode connection for ``app``."""

    def __init__(
        self, app: SlackApp, app_token: str, api_url: str, *, ping_interval: float = 10.0
    ) -> None:
        self.app = app
        self.app_token = app_token
        self.api_url = api_url
        self.ping_interval = ping_interval
        self.client: SocketModeClient | None = None

    async def _on_request(
        self, client: AsyncBaseSocketModeClient, request: SocketModeRequest
    ) -> None:
        body = await dispatch(self.app, request)
        response = SocketModeResponse(envelope_id=request.envelope_id, payload=body)
        await client.send_socket_mode_response(response)

    async def start(self) -> Stopper:
        client = SocketModeClient(
            app_token=self.app_token,
            web_client=AsyncWebClient(base_url=self.api_url),
            ping_interval=self.ping_interval,
        )
        client.socket_mode_request_listeners.append(self._on_request)
        self.client = client
        connecting = asyncio.create_task(client.connect())  # type: ignore[no-untyped-call]
        log.info("Slack Socket Mode connecting")

        async def stop() -> None:
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await connecting
            await client.close()  # type: ignore[no-untyped-call]
            log.info("Slack Socket Mode closed")

        return stop
