"""Composition root: settings → database → policy → services context → delivery (senders from
the platforms' registry, timer handlers from the services).

Nothing is built at import time; ``tocsin serve``, ``tocsin worker``, the CLI and the tests call
these functions with a :class:`~tocsin.config.Settings` they loaded once.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from tocsin.config import Settings
from tocsin.domain.policy import Policy, default_policy
from tocsin.domain.policy_file import load_policy
from tocsin.services.address_guard import AddressGuard
from tocsin.services.context import Context
from tocsin.storage.db import Database

if TYPE_CHECKING:
    from tocsin.delivery.base import Sender
    from tocsin.delivery.service import DeliveryService
    from tocsin.delivery.timers import TimerHandlers
    from tocsin.observability.listener import MetricsListener
    from tocsin.observability.metrics import Metrics


def build_policy(settings: Settings) -> Policy:
    """The policy file if one is set (validated: raises PolicyError), else the built-in defaults."""
    if settings.policy_file is None:
        return default_policy()
    return load_policy(settings.policy_file)


def enabled_destinations(settings: Settings) -> frozenset[str]:
    return frozenset(name for name, enabled, _how in settings.platform_status() if enabled)


def build_context(settings: Settings, db: Database | None = None) -> Context:
    return Context(
        db=db or Database(settings.database_url),
        policy=build_policy(settings),
        destinations=enabled_destinations(settings),
        public_url=settings.public_url,
        address_guard=AddressGuard(allow_private=settings.monitor_allow_private),
    )


def build_delivery(
    settings: Settings,
    ctx: Context,
    metrics: Metrics | None = None,
    *,
    timer_handlers: TimerHandlers | None = None,
) -> DeliveryService:
    """The service for these settings, hooked to ``ctx`` so that commits wake it."""
    # Delivery and the platforms' clients (httpx, prometheus_client, slack_sdk, PyNaCl) load only
    # when delivery is built, so the CLI's other commands, which call this module too, stay light.
    from tocsin.delivery.service import DeliveryConfig, DeliveryService
    from tocsin.platforms.registry import build_senders

    senders = build_senders(settings, ctx.policy, enabled=ctx.destinations)
    wire_subscribers(settings, ctx, senders)
    service = DeliveryService(
        ctx.db,
        senders,
        config=DeliveryConfig.from_settings(settings, ctx.db),
        metrics=metrics,
        timer_handlers=timer_handlers,
    )
    ctx.on_commit.append(service.wake)
    return service


def wire_subscribers(settings: Settings, ctx: Context, senders: dict[str, Sender]) -> None:
    """Status-page subscribers (docs/status-page.md#subscribers): the email sender reports
    refused addresses to the subscribers' service, and the webhook subscribers' sender (always
    there: the subscribers are its configuration) gets its signed requests from it."""
    from collections.abc import Mapping
    from functools import partial
    from typing import Any

    from tocsin.platforms.apprise.sender import AppriseSender
    from tocsin.platforms.email.sender import EmailSender
    from tocsin.platforms.webhook.subscribers import SubscriberWebhookSender
    from tocsin.secret_key import secret_key
    from tocsin.services import person_edits, subscribers

    for sender in senders.values():  # contact URLs: stored edits over the policy file
        if isinstance(sender, AppriseSender):
            sender.people = partial(person_edits.list_people, ctx)
    email = senders.get("email")
    if isinstance(email, EmailSender):
        email.on_refused = partial(subscribers.mark_bounced, ctx)
        email.still_wanted = partial(subscribers.still_subscribed, ctx)
    key: list[bytes] = []  # read on the first webhook, so a worker that sends none needs no key

    async def resolve(payload: Mapping[str, Any]) -> subscribers.WebhookRequest | None:
        if not key:
            key.append(secret_key(settings).encode())
        return await subscribers.webhook_request(ctx, key[0], payload)

    hooks = SubscriberWebhookSender()
    hooks.resolve = resolve
    senders[hooks.destination] = hooks


def timer_handlers_for(settings: Settings, ctx: Context, metrics: Metrics) -> TimerHandlers:
    """What every durable timer does, for ``tocsin serve`` and ``tocsin worker`` alike: paging,
    escalations, update reminders and commander nags (docs/oncall.md), maintenance windows
    (docs/status-page.md), the subscribers' fan-out (docs/status-page.md), the alert inbox
    (docs/alerts.md), monitor results' retention (docs/monitors.md) and spent acknowledge
    links' pruning (docs/oncall.md)."""
    from tocsin.services.ack_links import register_pruning
    from tocsin.services.alerts.process import alert_timer_handlers
    from tocsin.services.maintenance import maintenance_timer_handlers
    from tocsin.services.monitors.retention import register_retention
    from tocsin.services.paging import paging_timer_handlers
    from tocsin.services.subscriber_notices import register_fanout

    handlers = paging_timer_handlers(settings, ctx, metrics)
    maintenance_timer_handlers(handlers, ctx.destinations, ctx.public_url)
    alert_timer_handlers(ctx, metrics, handlers)
    register_retention(handlers)
    register_fanout(handlers)
    register_pruning(handlers)
    return handlers


def monitor_starter(
    ctx: Context, service: DeliveryService, metrics: Metrics
) -> Callable[[], Awaitable[Callable[[], Awaitable[None]]]]:
    """A starter running the uptime monitors' checker (docs/monitors.md) beside the delivery
    service; it returns the function that stops it. It runs even with no monitors (they may be
    added through the API or the CLI at any time); idle, a round is one read."""
    from tocsin.services.monitors.checker import MonitorChecker

    checker = MonitorChecker(ctx, service.config.worker_id, metrics)

    async def start() -> Callable[[], Awaitable[None]]:
        checker.start()
        return checker.stop

    return start


def worker_listener(settings: Settings, metrics: Metrics) -> MetricsListener | None:
    """The worker's ``/metrics`` and ``/healthz`` listener when TOCSIN_WORKER_METRICS_PORT is
    set (docs/operations.md), its socket bound; a port that cannot be bound is a ConfigError."""
    from tocsin.config import ConfigError, env_name
    from tocsin.observability.listener import MetricsListener, bind

    if settings.worker_metrics_port is None:
        return None
    host, port = settings.worker_metrics_host, settings.worker_metrics_port
    try:
        return MetricsListener(metrics, bind(host, port))
    except OSError as exc:
        problem = f"cannot listen on {host}:{port} ({exc.strerror or exc})"
        raise ConfigError(env_name("worker_metrics_port"), problem) from exc


async def worker_main(settings: Settings, *, timer_handlers: TimerHandlers | None = None) -> None:
    """``tocsin worker``: run until SIGTERM or SIGINT, then stop gracefully. The metrics
    listener, if set, starts first and stops last (``/healthz`` says stopping meanwhile)."""
    import structlog  # imported here for the same reason as in build_delivery

    from tocsin.observability.metrics import create_metrics

    log = structlog.get_logger("tocsin.delivery")
    metrics = create_metrics()
    listener = worker_listener(settings, metrics)  # a port that is taken fails first
    ctx = build_context(settings)
    ctx.db.on_group_commit = metrics.group_committed
    if timer_handlers is None:
        timer_handlers = timer_handlers_for(settings, ctx, metrics)
    service = build_delivery(settings, ctx, metrics, timer_handlers=timer_handlers)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        if listener is not None:
            listener.start()
            log.info("worker metrics listening", host=settings.worker_metrics_host,
                     port=listener.port)  # fmt: skip
        await service.start()
        stop_monitors = await monitor_starter(ctx, service, metrics)()
        await stopping.wait()
        log.info("worker stopping")
        if listener is not None:
            listener.stopping = True
        await stop_monitors()
        await service.stop()
    finally:
        if listener is not None:
            await listener.stop()
        await ctx.db.dispose()
