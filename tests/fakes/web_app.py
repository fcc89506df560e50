"""The web app as ``tocsin serve`` routes it (status page calls, the API mount, the dashboard),
in-process, for tests that drive the whole HTTP surface over one context."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
from starlette.applications import Starlette

from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.api.ratelimit import MemoryLimiter
from tocsin.adapters.web.app import Starter, create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.adapters.web.status import build_cache, manage, page_info
from tocsin.adapters.web.status.routes import public_routes
from tocsin.observability.metrics import create_metrics
from tocsin.services.context import Context

SECRET = "k" * 40


def web_app(ctx: Context, starters: Sequence[Starter] = ()) -> Starlette:
    """Status page and its REST calls first, then the API and the dashboard (as served);
    ``starters`` run when the app's lifespan starts, on its event loop."""
    metrics = create_metrics(process=False)
    cache = build_cache(ctx, page_info("https://example.test"), b"k" * 32, metrics)
    routes = [
        *public_routes(cache),
        *manage.routes(ctx, MemoryLimiter(), cache),
        *access_routes(ctx, secret=SECRET, secure_cookies=False),
    ]
    return create_app(ctx, metrics, Runtime(), routes=routes, starters=starters)


def web_client(ctx: Context) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=web_app(ctx))
    return httpx.AsyncClient(transport=transport, base_url="http://tocsin.test")
