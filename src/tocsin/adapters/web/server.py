"""``tocsin serve``: uvicorn (uvloop, httptools) with a graceful drain on SIGTERM.

On the first SIGTERM/SIGINT, ``/ready`` turns 503 at once; after ``drain_seconds`` (so a load
balancer notices) uvicorn stops accepting, lets in-flight requests finish within
``shutdown_timeout``, runs the lifespan shutdown (workers stop, the engine closes) and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

import structlog
import uvicorn
from starlette.applications import Starlette

from tocsin.adapters.web.ack import ack_routes
from tocsin.adapters.web.alerts import alert_intake_routes
from tocsin.adapters.web.api.mount import routes_from_settings
from tocsin.adapters.web.app import Starter, create_app
from tocsin.adapters.web.health import metrics_routes
from tocsin.adapters.web.runtime import Runtime, build_runtime
from tocsin.adapters.web.status import status_surface
from tocsin.app import build_context, build_delivery, monitor_starter, timer_handlers_for
from tocsin.config import Settings
from tocsin.observability.logging import configure_logging
from tocsin.observability.metrics import create_metrics
from tocsin.platforms.discord import discord_surface
from tocsin.platforms.slack import slack_surface
from tocsin.services.ack_tokens import ack_secret

log = structlog.get_logger("tocsin.serve")


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose first exit signal marks the runtime as draining first."""

    def __init__(self, config: uvicorn.Config, runtime: Runtime, drain_seconds: float) -> None:
        super().__init__(config)
        self.runtime = runtime
        self.drain_seconds = drain_seconds

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.runtime.draining or self.drain_seconds <= 0:
            self.runtime.draining = True
            self._stop(sig, frame)
            return
        self.runtime.draining = True
        log.info("draining", signal=signal.Signals(sig).name, seconds=self.drain_seconds)
        loop = asyncio.get_event_loop()
        loop.call_soon_threadsafe(loop.call_later, self.drain_seconds, self._stop, sig, frame)

    def _stop(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises captured signals after a clean shutdown, which would make a
        # graceful SIGTERM exit 143; a drained SIGTERM is a normal stop and exits 0.
        self._captured_signals = [s for s in self._captured_signals if s != signal.SIGTERM]


class _QuietServer(uvicorn.Server):
    """The metrics listener: the main server owns the signal handlers and stops this one."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def log_platforms(settings: Settings) -> None:
    for name, enabled, how in settings.platform_status():
        if enabled:
            log.info("platform enabled", platform=name)
        else:
            log.info(f"{name} disabled: {how}", platform=name, enabled=False)


def _config(app: Starlette, host: str, port: int, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(settings.shutdown_timeout),
        server_header=False,
    )


def serve(settings: Settings, starters: list[Starter] | None = None) -> None:
    configure_logging(settings.log_level, settings.log_format)
    log_platforms(settings)
    ctx = build_context(settings)
    metrics = create_metrics()
    ctx.db.on_group_commit = metrics.group_committed
    runtime = build_runtime(settings)
    # Paging, reminders, maintenance windows, the alert inbox: durable timers (app.py says which).
    timers = timer_handlers_for(settings, ctx, metrics)
    delivery = build_delivery(settings, ctx, metrics, timer_handlers=timers)
    runtime.soft_checks.update(delivery.soft_checks())
    # Slack (docs/slack-setup.md): the /slack/* routes over HTTP, Socket Mode with an app token.
    slack_routes, slack_starters = slack_surface(settings, ctx, metrics)
    # Discord (docs/discord-setup.md): POST /discord/interactions with TOCSIN_DISCORD_PUBLIC_KEY.
    discord_routes, discord_starters = discord_surface(settings, ctx, metrics)
    # REST API, dashboard and static files (docs/api.md).
    access = routes_from_settings(settings, ctx, runtime)
    acks = ack_routes(ctx, ack_secret(settings))  # acknowledge links (docs/oncall.md)
    # Public status page and its REST calls (docs/status-page.md): routed before the /api mount.
    status = status_surface(settings, ctx, metrics, runtime)
    surface_starters = [*slack_starters, *discord_starters, *status.starters]
    separate_metrics = settings.metrics_port is not None
    app = create_app(
        ctx,
        metrics,
        runtime,
        routes=[
            *slack_routes,
            *discord_routes,
            *alert_intake_routes(ctx, metrics),
            *status.routes,
            *acks,
            *access,
        ],
        starters=[
            *(starters or []),
            delivery.start,
            monitor_starter(ctx, delivery, metrics),  # uptime monitors (docs/monitors.md)
            *surface_starters,
        ],
        metrics_on_main=not separate_metrics,
    )
    status.install(app)  # the status page answers ahead of the middleware (stampedes)
    server = DrainingServer(
        _config(app, settings.host, settings.port, settings), runtime, settings.drain_seconds
    )
    if not separate_metrics:
        server.run()
        return
    metrics_app = Starlette(routes=metrics_routes())
    metrics_app.state.metrics = metrics
    metrics_server = _QuietServer(
        _config(metrics_app, settings.host, settings.metrics_port or 0, settings)
    )
    metrics_server.config.lifespan = "off"

    async def both() -> None:
        task = asyncio.create_task(metrics_server.serve())
        try:
            await server.serve()
        finally:
            metrics_server.should_exit = True
            await task

    asyncio.run(both())
