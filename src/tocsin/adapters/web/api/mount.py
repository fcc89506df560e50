"""Everything the web access layer adds to the server: the REST API under ``/api``, the dashboard
at ``/`` and its static files, sharing one failed-authentication limiter."""

from __future__ import annotations

from starlette.routing import BaseRoute

from tocsin.adapters.web.api.app import api_mount
from tocsin.adapters.web.api.ratelimit import FailureLimiter, MemoryLimiter, RedisLimiter
from tocsin.adapters.web.dashboard.routes import dashboard_routes
from tocsin.adapters.web.dashboard.session import Deps
from tocsin.adapters.web.runtime import Runtime
from tocsin.config import Settings
from tocsin.secret_key import secret_key
from tocsin.services.context import Context


def build_limiter(redis_url: str | None, runtime: Runtime | None = None) -> FailureLimiter:
    """Shared through Redis when ``redis_url`` is set (closed with the runtime), else in-process."""
    if not redis_url:
        return MemoryLimiter()
    from tocsin.storage import redis  # imported only when configured (~20 MB)

    client = redis.connect(redis_url)
    if runtime is not None:
        runtime.closers.append(client.aclose)
    return RedisLimiter(client)


def access_routes(
    ctx: Context,
    *,
    secret: str,
    secure_cookies: bool,
    limiter: FailureLimiter | None = None,
    deps: Deps | None = None,
) -> list[BaseRoute]:
    """The API mount and the dashboard routes (``deps`` lets tests tune the live feed)."""
    if deps is None:
        deps = Deps(ctx, limiter or MemoryLimiter())
    return [api_mount(ctx, deps.limiter), *dashboard_routes(deps, secret, secure=secure_cookies)]


def routes_from_settings(settings: Settings, ctx: Context, runtime: Runtime) -> list[BaseRoute]:
    """What ``tocsin serve`` mounts: cookies are ``Secure`` when TOCSIN_PUBLIC_URL is https."""
    limiter = build_limiter(settings.redis_url, runtime)
    deps = Deps(ctx, limiter, stopping=lambda: runtime.draining)
    return access_routes(
        ctx,
        secret=secret_key(settings),
        secure_cookies=settings.public_url.startswith("https://"),
        deps=deps,
    )
