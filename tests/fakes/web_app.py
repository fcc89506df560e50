"""The web app as ``tocsin serve`` routes it (status page calls, the API mount, the dashboard),
in-process, for tests that drive the whole HTTP surface over one context; the API mount alone;
and the header of a new API token."""

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
from tocsin.domain.model import Actor
from tocsin.observability.metrics import create_metrics
from tocsin.services.access.tokens import create_token
from tocsin.services.context import Context

SECRET = "k" * 40
OPERATOR = Actor("cli", "root", "root")
BASE_URL = "http://tocsin.test"


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
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


def api_client(ctx: Context) -> httpx.AsyncClient:
    """The API mount and the dashboard alone (``access_routes``), in-process."""
    routes = access_routes(ctx, secret=SECRET, secure_cookies=False)
    app = create_app(ctx, create_metrics(process=False), Runtime(), routes=routes)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)


async def bearer(ctx: Context, name: str, scope: str) -> dict[str, str]:
    """The Authorization header of a new API token ``name`` with ``scope``, made by the CLI's
    root user."""
    _, secret = await create_token(ctx, OPERATOR, name, scope)
    return {"Authorization": f"Bearer {secret}"}
