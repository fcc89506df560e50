"""ASGI layers that protect every route: a body size limit and a JSON 500 without a traceback."""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 1024 * 1024  # docs/api.md: a body over 1 MiB gets 413

log = structlog.get_logger("tocsin.web")


class _TooLarge(Exception):
    pass


def _json(status: int, body: dict[str, Any]) -> tuple[Message, Message]:
    payload = orjson.dumps(body)
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ],
    }
    return start, {"type": "http.response.body", "body": payload}


class GuardMiddleware:
    """413 for bodies over ``max_body`` (by Content-Length, or counted while streaming), and a
    plain JSON 500 for any exception that escapes a route: the traceback goes to the log only."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name != b"content-length":
                continue
            if not value.isdigit():
                await self._reply(send, 400, "malformed Content-Length header")
                return
            if int(value) > self.max_body:
                await self._reply(send, 413, "request body too large (limit 1 MiB)")
                return
        started = False
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reply(send, 413, "request body too large (limit 1 MiB)")
        except Exception:
            log.exception("unhandled error", path=scope.get("path"))
            if not started:
                await self._reply(send, 500, "internal error; it has been logged")

    @staticmethod
    async def _reply(send: Send, status: int, message: str) -> None:
        start, body = _json(status, {"error": message})
        await send(start)
        await send(body)
