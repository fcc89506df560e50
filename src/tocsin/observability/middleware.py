"""Per-request context: request id, access log line, request metrics.

A pure ASGI middleware (no ``BaseHTTPMiddleware``, which costs a task and a stream per
request). Exceptions pass through untouched; an outer layer turns them into answers.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin.observability.metrics import Metrics

REQUEST_ID_HEADER = "X-Request-ID"
_HEADER_KEY = b"x-request-id"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
QUIET_PATHS = frozenset({"/health", "/ready", "/metrics"})

log = structlog.get_logger("tocsin.access")


def request_id_from(scope: Scope) -> str:
    """The client's ``X-Request-ID`` when it is sane, else a fresh uuid4 hex."""
    for key, value in scope.get("headers", ()):
        if key == _HEADER_KEY:
            candidate: str = bytes(value).decode("latin-1")
            if _SANE_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def route_template(scope: Scope, base_root_path: str = "") -> str:
    """The template of the route Starlette matched (``/api/v1/incidents/{id}``).

    Never the raw path, which would make one time series per incident. ``unmatched`` when no
    route matched. Mount prefixes are included, as the path matched (``root_path``).
    """
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return "unmatched"
    root_path = str(scope.get("root_path", ""))
    prefix = root_path[len(base_root_path) :] if root_path.startswith(base_root_path) else ""
    if isinstance(route, Mount):  # an app mounted as a whole, such as static files
        return f"{prefix}/{{path}}"
    return f"{prefix}{path}" or "/"


class RequestContextMiddleware:
    """Binds ``request_id`` for logs, echoes it in ``X-Request-ID``, logs and measures requests.

    ``metrics`` may be None (no measurement). Access lines for ``quiet_paths`` (health checks
    and scrapes) are logged at debug, every other one at info.
    """

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics | None = None,
        *,
        quiet_paths: frozenset[str] = QUIET_PATHS,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.quiet_paths = quiet_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        header = (_HEADER_KEY, request_id.encode("latin-1"))
        base_root_path = str(scope.get("root_path", ""))
        status = 500  # what the client sees if the app raises before answering
        outer_context = structlog.contextvars.get_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [h for h in message.get("headers", ()) if h[0].lower() != _HEADER_KEY]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            self._finish(scope, base_root_path, status, elapsed)
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(**outer_context)

    def _finish(self, scope: Scope, base_root_path: str, status: int, elapsed: float) -> None:
        method = str(scope.get("method", "GET")).upper()
        method_label = method if method in _METHODS else "OTHER"
        route = route_template(scope, base_root_path)
        if self.metrics is not None:
            self.metrics.request_done(route, method_label, status, elapsed)
        path = str(scope.get("path", ""))
        fields: dict[str, Any] = {
            "method": method,
            "path": path,
            "route": route,
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
        }
        if path in self.quiet_paths:
            log.debug("request", **fields)
        else:
            log.info("request", **fields)
