"""The public status page routes: no login, served from :class:`~.cache.StatusCache`.

``/status`` (HTML), ``/status/history.atom``, ``/status/status.css`` and, in Atlassian
Statuspage's public format, ``/status/api/v2/summary.json``, ``status.json``, ``components.json``,
``incidents.json``, ``incidents/unresolved.json`` and ``scheduled-maintenances.json`` (with
``/upcoming.json`` and ``/active.json``).

Each route is a small ASGI app (no Request/Response objects on the hot path): it takes the cached
bytes and their prebuilt headers, and answers ``304 Not Modified`` when ``If-None-Match`` names
the current ``ETag`` (or, without it, ``If-Modified-Since`` is not older than ``Last-Modified``).
HTML carries a strict Content-Security-Policy (no script at all, styles from this origin only);
the JSON allows any origin to read it (``Access-Control-Allow-Origin: *``), as Statuspage does,
so that widgets on other sites work.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from email.utils import formatdate, parsedate_to_datetime

import structlog
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin.adapters.web.status.assets import STYLESHEET
from tocsin.adapters.web.status.cache import Rendered, StatusCache
from tocsin.observability.metrics import Metrics

CONTENT_SECURITY_POLICY = (
    b"default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    b"form-action 'self'; frame-ancestors 'none'"
)
_COMMON = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))
_PAGE = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY),
    (b"x-frame-options", b"DENY"),
    *_COMMON,
)
_OPEN = ((b"access-control-allow-origin", b"*"), *_COMMON)
# Representation -> headers beyond the cache's own (given to StatusCache as extra_headers).
EXTRA_HEADERS: Mapping[str, tuple[tuple[bytes, bytes], ...]] = {
    "html": _PAGE,
    "atom": _OPEN,
    "summary": _OPEN,
    "status": _OPEN,
    "components": _OPEN,
    "incidents": _OPEN,
    "unresolved": _OPEN,
    "maintenances": _OPEN,
    "maintenances_upcoming": _OPEN,
    "maintenances_active": _OPEN,
}
PATHS = {
    "/status": "html",
    "/status/history.atom": "atom",
    "/status/api/v2/summary.json": "summary",
    "/status/api/v2/status.json": "status",
    "/status/api/v2/components.json": "components",
    "/status/api/v2/incidents.json": "incidents",
    "/status/api/v2/incidents/unresolved.json": "unresolved",
    "/status/api/v2/scheduled-maintenances.json": "maintenances",
    "/status/api/v2/scheduled-maintenances/upcoming.json": "maintenances_upcoming",
    "/status/api/v2/scheduled-maintenances/active.json": "maintenances_active",
}
_VALIDATORS = (b"etag", b"last-modified", b"cache-control")
_UNAVAILABLE_BODY = b'{"error":"The status page is temporarily unavailable; try again shortly."}'
_UNAVAILABLE = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_UNAVAILABLE_BODY)).encode()),
    (b"retry-after", b"5"),
    (b"cache-control", b"no-store"),
]

log = structlog.get_logger("tocsin.status")


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def not_modified(scope: Scope, rendered: Rendered) -> bool:
    """RFC 9110: If-None-Match wins; If-Modified-Since counts only without it."""
    match = _header(scope, b"if-none-match")
    if match is not None:
        if match.strip() == b"*":
            return True
        tags = [tag.strip().removeprefix(b"W/") for tag in match.split(b",")]
        return rendered.etag in tags
    since = _header(scope, b"if-modified-since")
    if since is None:
        return False
    try:
        asked = parsedate_to_datetime(since.decode("latin-1"))
        ours = parsedate_to_datetime(rendered.last_modified.decode("latin-1"))
    except (TypeError, ValueError, IndexError):
        return False
    return ours <= asked


async def _send(scope: Scope, send: Send, rendered: Rendered) -> None:
    if not_modified(scope, rendered):
        headers = [h for h in rendered.headers if h[0] in _VALIDATORS]
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": rendered.headers})
    body = b"" if scope["method"] == "HEAD" else rendered.body
    await send({"type": "http.response.body", "body": body})


class CachedDocument:
    """ASGI app answering with representation ``name`` from the cache."""

    def __init__(self, cache: StatusCache, name: str) -> None:
        self.cache = cache
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            rendered = await self.cache.get(self.name)
        except Exception:  # nothing built yet and the database is away
            log.exception("status page unavailable", path=scope.get("path"))
            await send({"type": "http.response.start", "status": 503, "headers": _UNAVAILABLE})
            await send({"type": "http.response.body", "body": _UNAVAILABLE_BODY})
            return
        await _send(scope, send, rendered)


def _stylesheet() -> Rendered:
    body = STYLESHEET.encode()
    etag = b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
    modified = formatdate(time.time(), usegmt=True).encode()  # when this process started
    headers = (
        (b"content-type", b"text/css; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"etag", etag),
        (b"last-modified", modified),
        (b"cache-control", b"public, max-age=3600"),
        *_COMMON,
    )
    return Rendered(body, etag, modified, headers)


class Stylesheet:
    """ASGI app serving the page's stylesheet."""

    def __init__(self) -> None:
        self.rendered = _stylesheet()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _send(scope, send, self.rendered)


def public_routes(cache: StatusCache) -> list[BaseRoute]:
    """The routes above, answering GET and HEAD."""
    methods = ["GET", "HEAD"]
    routes: list[BaseRoute] = [
        Route(path, CachedDocument(cache, name), methods=methods, name=f"status-{name}")
        for path, name in PATHS.items()
    ]
    routes.append(Route("/status/status.css", Stylesheet(), methods=methods, name="status-css"))
    return routes


class StatusFirst:
    """Answers GET and HEAD of the public status paths before the app's middleware stack.

    During an outage the status page takes the stampede, so its hits skip the per-request
    access-log line, the request-id and body-size layers (a GET has no body) and tracing; they
    are still counted in ``http_requests_total`` and ``http_request_duration_seconds`` (and
    ``status_cache_total``). Every other request, and any other method, goes to ``app``.
    """

    def __init__(self, app: ASGIApp, cache: StatusCache, metrics: Metrics | None = None) -> None:
        self.app = app
        self.documents: dict[str, CachedDocument | Stylesheet] = {
            path: CachedDocument(cache, name) for path, name in PATHS.items()
        }
        self.documents["/status/status.css"] = Stylesheet()
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        document = self.documents.get(scope["path"]) if scope["type"] == "http" else None
        if document is None or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await document(scope, receive, counted)
        finally:
            self._measure(scope, status, time.perf_counter() - started)

    def _measure(self, scope: Scope, status: int, elapsed: float) -> None:
        if self.metrics is not None:
            self.metrics.request_done(scope["path"], scope["method"], status, elapsed)
