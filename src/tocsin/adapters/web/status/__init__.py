"""The public status page (``/status``, Atom, Statuspage's public JSON) and its REST calls.

:func:`status_surface` is what ``tocsin serve`` mounts: the public routes served from a cache
that this process's commits (and, with TOCSIN_REDIS_URL, every replica's) invalidate, the REST
calls that manage components and an incident's visibility, and with Statuspage sync on the
``statuspage_sync`` health check and the watcher that reports failed syncs in incident channels.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from tocsin.adapters.web.runtime import Runtime
from tocsin.adapters.web.status import manage, subscribe
from tocsin.adapters.web.status.cache import StatusCache
from tocsin.adapters.web.status.history import history_routes
from tocsin.adapters.web.status.render import HTML, RENDERERS, html
from tocsin.adapters.web.status.routes import EXTRA_HEADERS, StatusFirst, public_routes
from tocsin.config import Settings
from tocsin.domain.status_view import PageInfo, StatusPage, opaque_id
from tocsin.observability.metrics import Metrics
from tocsin.secret_key import secret_key
from tocsin.services import public_status_page
from tocsin.services.context import Context
from tocsin.services.statuspage_sync_failures import failure_check, failure_watcher

Starter = Callable[[], Awaitable[Callable[[], Awaitable[None]]]]
PAGE_NAME = "Service status"


def page_info(public_url: str, name: str = PAGE_NAME) -> PageInfo:
    url = f"{public_url.rstrip('/')}/status"
    return PageInfo(id=opaque_id("page", urlsplit(url).netloc), name=name, url=url)


def build_cache(
    ctx: Context,
    page: PageInfo,
    key: bytes,
    metrics: Metrics | None = None,
    *,
    subscribe: bool = True,
) -> StatusCache:
    """The page cache over ``ctx``'s database; this process's commits invalidate it."""
    public_id = public_status_page.public_ids(key)

    async def load() -> StatusPage:
        return await public_status_page.load_page(ctx, page, public_id)

    async def marker() -> object:
        return await public_status_page.change_marker(ctx)

    renderers = RENDERERS
    if not subscribe:  # no SMTP: no subscription form (docs/status-page.md#subscribers)
        renderers = {**RENDERERS, "html": (partial(html, subscribe=False), HTML)}
    cache = StatusCache(load, marker, renderers, metrics=metrics, extra_headers=EXTRA_HEADERS)
    ctx.on_commit.append(cache.invalidate)
    return cache


@dataclass
class StatusSurface:
    """What ``tocsin serve`` adds for the status page."""

    routes: list[BaseRoute]  # route them before the /api mount
    starters: list[Starter]
    cache: StatusCache
    metrics: Metrics

    def install(self, app: Starlette) -> None:
        """Serve the public status paths ahead of ``app``'s middleware stack (see
        :class:`~tocsin.adapters.web.status.routes.StatusFirst`); call before it starts."""
        app.add_middleware(StatusFirst, cache=self.cache, metrics=self.metrics)


def status_surface(
    settings: Settings, ctx: Context, metrics: Metrics, runtime: Runtime
) -> StatusSurface:
    """Routes, background starters and the fast path for ``tocsin serve``."""
    # Imported here: the API's OpenAPI document describes this package's routes (import cycle).
    from tocsin.adapters.web.api.mount import build_limiter

    email = settings.smtp_url is not None
    info, key = page_info(settings.public_url), secret_key(settings).encode()
    cache = build_cache(ctx, info, key, metrics, subscribe=email)
    starters: list[Starter] = []
    if settings.redis_url:
        # Imported only when configured: the redis client costs ~20 MB of memory.
        from tocsin.adapters.web.status.invalidation import (
            RedisInvalidation,
            subscriber_client,
        )
        from tocsin.storage import redis

        shared = RedisInvalidation(
            redis.connect(settings.redis_url), subscriber_client(settings.redis_url),
            cache.invalidate,
        )  # fmt: skip
        ctx.on_commit.append(shared.publish_soon)
        starters.append(shared.starter())
    if "statuspage" in ctx.destinations:
        runtime.soft_checks["statuspage_sync"] = failure_check(ctx)
        starters.append(failure_watcher(ctx))
    limiter = build_limiter(settings.redis_url, runtime)
    routes = [*public_routes(cache), *manage.routes(ctx, limiter, cache)]
    ids = public_status_page.public_ids(key)
    routes += history_routes(ctx, info, ids, generation=lambda: cache.generation)  # /status/history
    routes += subscribe.routes(ctx, limiter, email=email)  # docs/status-page.md#subscribers
    starters.append(subscribe.counts_refresher(ctx, metrics))
    return StatusSurface(routes, starters, cache, metrics)


__all__ = ["StatusCache", "StatusSurface", "build_cache", "page_info", "status_surface"]
