"""The live timeline: ``GET /incidents/{n}/events``, server-sent events.

Each connection polls the database about once a second for timeline rows newer than the last one
it sent (``Last-Event-ID`` on a reconnect, else ``?after=``) and for a new incident version. A
stream lasts at most ``stream_seconds`` (the browser reconnects by itself and resumes), stops when
the client goes away, and at most ``StreamSlots.limit`` streams are open per process (503 beyond).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from tocsin.adapters.views import entry_view
from tocsin.adapters.web.dashboard.session import Deps, current_user
from tocsin.domain.model import Incident
from tocsin.services.access.reads import feed_since

KEEPALIVE_SECONDS = 15.0


def _number(value: str | None) -> int:
    return int(value) if value is not None and value.isdigit() and len(value) < 18 else 0


def incident_event(incident: Incident) -> dict[str, Any]:
    commander = incident.commander
    return {
        "status": incident.status.value,
        "severity": incident.severity.value,
        "severity_label": incident.severity.label,
        "commander": commander.name if commander else "",
        "open": incident.is_open,
        "version": incident.version,
    }


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {orjson.dumps(data).decode()}\n\n"


class _Stream(StreamingResponse):
    """A streaming response that gives its slot back however it ends (even unstarted)."""

    def __init__(self, events: AsyncIterator[str], deps: Deps) -> None:
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        super().__init__(events, media_type="text/event-stream", headers=headers)
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.deps.streams.give_back()


class Events:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def stream(self, request: Request) -> Response:
        if await current_user(request, self.deps) is None:
            return PlainTextResponse("Sign in first.", status_code=401)
        if not self.deps.streams.take():
            return PlainTextResponse(
                "Too many live timelines are open; retrying shortly.",
                status_code=503,
                headers={"Retry-After": "5"},
            )
        number = int(request.path_params["number"])
        after = _number(request.headers.get("last-event-id") or request.query_params.get("after"))
        version = _number(request.query_params.get("version"))
        return _Stream(self._events(number, after, version), self.deps)

    async def _events(self, number: int, after: int, version: int) -> AsyncIterator[str]:
        deps = self.deps
        deadline = time.monotonic() + deps.stream_seconds
        quiet_since = time.monotonic()
        yield "retry: 2000\n\n"
        while time.monotonic() < deadline and not deps.stopping():
            update = await feed_since(deps.ctx, number, after, version)
            for row_id, entry in update.entries:
                after = row_id
                yield sse("entry", entry_view(entry), row_id)
            if update.incident is not None:
                version = update.incident.version
                yield sse("incident", incident_event(update.incident))
            if update.entries or update.incident is not None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(deps.poll_seconds)
