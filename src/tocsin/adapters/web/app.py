"""The ASGI application: routes from every adapter, the guard layers, and the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute

from tocsin.adapters.web.api.app import http_problem
from tocsin.adapters.web.guards import GuardMiddleware
from tocsin.adapters.web.health import health_routes
from tocsin.adapters.web.runtime import Runtime
from tocsin.observability.metrics import Metrics
from tocsin.observability.middleware import RequestContextMiddleware
from tocsin.observability.tracing import TracingMiddleware
from tocsin.responses import JSONResponse
from tocsin.services.context import Context
from tocsin.storage import migrate

log = structlog.get_logger("tocsin.web")

# Background services started with the app (delivery workers, timers); each returns a stopper.
Starter = Callable[[], Awaitable[Callable[[], Awaitable[None]]]]

MIGRATION_POLL_SECONDS = 2.0


async def _http_error(request: Request, exc: Exception) -> Response:
    """404 and 405 as problem details under /api/ (routes there live outside the mount too),
    Starlette's plain text elsewhere."""
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return await http_problem(request, exc)
    return PlainTextResponse(exc.detail, exc.status_code, exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error", path=request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal error; it has been logged"}, status_code=500)


def database_check(ctx: Context) -> Callable[[], Awaitable[str | None]]:
    async def check() -> str | None:
        await ctx.db.ping()
        return None

    return check


async def _wait_for_migrations(ctx: Context, runtime: Runtime) -> None:
    """Readiness needs the schema at head; a migration job may finish after we start."""
    while not runtime.migrations_ok:
        try:
            runtime.migrations_ok = await migrate.is_at_head(ctx.db)
        except Exception as exc:  # noqa: BLE001 - the database may be down; keep trying
            log.warning("migration check failed", error=str(exc).splitlines()[0])
        if not runtime.migrations_ok:
            await asyncio.sleep(MIGRATION_POLL_SECONDS)


def create_app(
    ctx: Context,
    metrics: Metrics,
    runtime: Runtime,
    *,
    routes: Sequence[BaseRoute] = (),
    starters: Sequence[Starter] = (),
    metrics_on_main: bool = True,
) -> Starlette:
    runtime.checks.setdefault("database", database_check(ctx))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        waiter = asyncio.create_task(_wait_for_migrations(ctx, runtime))
        stoppers = [await start() for start in starters]
        runtime.workers_running = True
        # Everything built at start-up (modules, routes, settings) lives as long as the process:
        # move it out of the garbage collector's sight, so a full collection walks only what
        # requests created. Without this, full collections of the start-up heap showed as tail
        # latency under load (docs/performance.md).
        gc.collect()
        gc.freeze()
        log.info("tocsin started")
        try:
            yield
        finally:
            gc.unfreeze()  # back to the collector (matters to tests that start many apps)
            runtime.draining = True
            runtime.workers_running = False
            waiter.cancel()
            for stop in reversed(stoppers):
                await stop()
            await runtime.close()
            await ctx.db.dispose()
            log.info("tocsin stopped")

    app = Starlette(
        # Chat webhooks first: Starlette tries routes in order, and they take most requests.
        routes=[*routes, *health_routes(with_metrics=metrics_on_main)],
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.metrics = metrics
    app.state.runtime = runtime
    app.add_middleware(GuardMiddleware)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    app.add_middleware(TracingMiddleware)  # passes straight through unless tracing is on
    return app
