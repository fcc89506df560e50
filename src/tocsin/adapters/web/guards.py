"""ASGI layers that protect every route: a body size limit, and an error without a traceback for
any exception that escapes a route: 503 with ``Retry-After`` when the database is unavailable
(:func:`~tocsin.storage.availability.database_unavailable`), 500 otherwise.

Under ``/api/`` these answers are problem details like the API's own; elsewhere an HTML page for
browsers (the dashboard) and a small JSON object for everyone else."""

from __future__ import annotations

import orjson
import structlog
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin.adapters.web.api.problems import RETRY_AFTER, problem
from tocsin.storage.availability import database_unavailable

MAX_BODY = 1024 * 1024  # docs/api.md: a body over 1 MiB gets 413

log = structlog.get_logger("tocsin.web")


class _TooLarge(Exception):
    pass


_SLUGS = {400: "bad-request", 413: "too-large", 500: "internal", 503: "unavailable"}
_TITLES = {503: "Service unavailable", 500: "Something went wrong"}


def _wants_html(scope: Scope) -> bool:
    accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
    return b"text/html" in accept


def error_response(scope: Scope, status: int, message: str) -> Response:
    """The answer for ``status`` in the form the caller reads (problem details, HTML or JSON)."""
    headers = {"Retry-After": str(RETRY_AFTER)} if status == 503 else None
    sentence = message[:1].upper() + message[1:] + "."
    if str(scope.get("path", "")).startswith("/api/"):
        return problem(_SLUGS[status], sentence, headers=headers)
    if status in _TITLES and _wants_html(scope):
        from tocsin.adapters.web.dashboard.templating import render  # HTML pages only

        html = render("error.html", title=_TITLES[status], message=sentence,
                      user=None, admin=False, csrf="", flash=None)  # fmt: skip
        return HTMLResponse(html, status, {**(headers or {}), "Cache-Control": "no-store"})
    return Response(orjson.dumps({"error": message}), status, headers, "application/json")


class GuardMiddleware:
    """413 for bodies over ``max_body`` (by Content-Length, or counted while streaming), and a
    503 or 500 for any exception that escapes a route: the traceback goes to the log only."""

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
                await self._reply(scope, send, 400, "malformed Content-Length header")
                return
            if int(value) > self.max_body:
                _count_too_large(scope)
                await self._reply(scope, send, 413, "request body too large (limit 1 MiB)")
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
            _count_too_large(scope)
            if not started:
                await self._reply(scope, send, 413, "request body too large (limit 1 MiB)")
        except Exception as exc:
            down = database_unavailable(exc)
            if down:
                log.warning("database unavailable", path=scope.get("path"), error=str(exc)[:200])
            else:
                log.exception("unhandled error", path=scope.get("path"))
            if not started:
                await self._reply(scope, send, 503 if down else 500, _MESSAGES[down])

    @staticmethod
    async def _reply(scope: Scope, send: Send, status: int, message: str) -> None:
        async def nothing() -> Message:
            return {"type": "http.disconnect"}

        await error_response(scope, status, message)(scope, nothing, send)


def _count_too_large(scope: Scope) -> None:
    """An oversized alert body counts as an intake rejection (docs/alerts.md)."""
    if not str(scope.get("path", "")).startswith("/alerts/"):
        return
    app = scope.get("app")
    metrics = getattr(getattr(app, "state", None), "metrics", None)
    if metrics is not None:
        metrics.alert_intake_rejected_total.labels("too_large").inc()


_MESSAGES = {
    True: "the database is unavailable just now; try again shortly",
    False: "internal error; it has been logged",
}
