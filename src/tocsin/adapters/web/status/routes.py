"""The public status page routes: no login, served from :class:`~.cache.StatusCache`.

``/status`` (HTML), ``/status/history.atom``, ``/status/status.css`` and, in Atlassian
Statuspage's public format, ``/status/api/v2/summary.json``, ``status.json``, ``components.json``,
``incidents.json``, ``incidents/unresolved.json`` and ``scheduled-maintenances.json`` (with
``/upcoming.json`` and ``/active.json``), and per component ``components/{id}/uptime.json``
(:class:`ComponentUptimeDocument`, computed from the cached page).

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
from urllib.parse import parse_qs

import structlog
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin.adapters.web.status.assets import STYLESHEET
from tocsin.adapters.web.status.cache import Rendered, StatusCache
from tocsin.adapters.web.status.render import JSON, json_bytes
from tocsin.domain.status_uptime import RangeError, page_uptime, uptime_json
from tocsin.domain.status_view import StatusPage
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
    "uptime": _OPEN,
}
UPTIME_PATH = "/status/api/v2/components/{component_id}/uptime.json"
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


async def _json_error(send: Send, status: int, message: str, field: str | None = None) -> None:
    document = {"error": message, **({"field": field} if field else {})}
    body = json_bytes(document)
    headers = [
        (b"content-type", JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *_OPEN,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ComponentUptimeDocument:
    """ASGI app for ``UPTIME_PATH``: Atlassian's ``ComponentUptime`` over ``?start=&end=``
    (docs/status-page.md), computed from the cached page and kept while that page is current
    (as fresh as the other documents); a bad date is ``400`` naming ``start`` or ``end``, an
    unknown component ``404``."""

    MAX_KEPT = 1024

    def __init__(self, cache: StatusCache) -> None:
        self.cache = cache
        self._page: StatusPage | None = None
        self._kept: dict[tuple[object, ...], Rendered] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        asked = {name: query[name][-1] for name in ("start", "end") if query.get(name)}
        component = scope.get("path_params", {}).get("component_id", "")
        try:
            page = await self.cache.current()
        except Exception:  # nothing built yet and the database is away
            log.exception("status page unavailable", path=scope.get("path"))
            await send({"type": "http.response.start", "status": 503, "headers": _UNAVAILABLE})
            await send({"type": "http.response.body", "body": _UNAVAILABLE_BODY})
            return
        try:
            uptime = page_uptime(page, component, asked.get("start"), asked.get("end"))
        except RangeError as exc:
            await _json_error(send, 400, exc.message, exc.field)
            return
        if uptime is None:
            await _json_error(send, 404, f"There is no component {component[:40]!r} on the page.")
            return
        if page is not self._page:
            self._page, self._kept = page, {}
        key = (component, uptime.range)
        rendered = self._kept.get(key)
        if rendered is None:
            name = f"uptime:{component}:{uptime.range.start}:{uptime.range.end}"
            rendered = self.cache.rendered(name, json_bytes(uptime_json(uptime)), JSON, "uptime")
            if len(self._kept) < self.MAX_KEPT:
                self._kept[key] = rendered
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
    uptime = ComponentUptimeDocument(cache)
    routes.append(Route(UPTIME_PATH, uptime, methods=methods, name="status-uptime"))
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
