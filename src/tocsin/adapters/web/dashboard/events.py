"""The live pages: ``GET /incidents/{n}/events`` (the timeline) and ``GET /alert-groups/events``
(the firing alert groups), server-sent events.

Each connection polls the database about once a second for timeline rows newer than the last one
it sent (``Last-Event-ID`` on a reconnect, else ``?after=``) and for a new incident version. A
stream lasts at most ``stream_seconds`` (the browser reconnects by itself and resumes), stops when
the client goes away, and at most ``StreamSlots.limit`` streams are open per process (503 beyond).
The alert groups stream looks at the firing groups as often and sends them all (a ``groups``
event) whenever any of them changed.
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
from tocsin.services.alerts.groups import list_groups
from tocsin.services.alerts.views import group_dict
from tocsin.services.queries import FIRING_STATUSES
from tocsin.storage.alert_groups import StoredGroup

KEEPALIVE_SECONDS = 15.0
ALERT_ROWS = 100  # firing groups the alert groups page shows


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


def alert_row(kept: StoredGroup) -> dict[str, Any]:
    """One row of the alert groups page: what the page shows, and what the stream compares."""
    data = group_dict(kept)
    return {key: data[key] for key in ("id", "status", "title", "firing", "alerts", "incident")}


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

    async def _refused(self, request: Request) -> Response | None:
        """401 unless signed in; 503 when every stream slot is taken (else one is taken)."""
        if await current_user(request, self.deps) is None:
            return PlainTextResponse("Sign in first.", status_code=401)
        if not self.deps.streams.take():
            return PlainTextResponse(
                "Too many live pages are open; retrying shortly.",
                status_code=503,
                headers={"Retry-After": "5"},
            )
        return None

    async def alert_stream(self, request: Request) -> Response:
        if refused := await self._refused(request):
            return refused
        return _Stream(self._alert_events(), self.deps)

    async def _alert_events(self) -> AsyncIterator[str]:
        deps = self.deps
        deadline = time.monotonic() + deps.stream_seconds
        quiet_since, last = time.monotonic(), None
        yield "retry: 2000\n\n"
        while time.monotonic() < deadline and not deps.stopping():
            found = await list_groups(deps.ctx, statuses=FIRING_STATUSES, limit=ALERT_ROWS)
            rows = [alert_row(kept) for kept in found]
            if rows != last:
                last, quiet_since = rows, time.monotonic()
                yield sse("groups", rows)
            elif time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(deps.poll_seconds)

    async def stream(self, request: Request) -> Response:
        if refused := await self._refused(request):
            return refused
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
