"""The alert intake in-process: the intake routes on the web app, an integration, and a timer
runner with the alert inbox's handler (plus paging's, as ``tocsin serve`` has them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from tocsin.adapters.web.alerts import alert_intake_routes
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.delivery.timers import TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.domain.policy_file import parse_policy
from tocsin.observability.metrics import Metrics, create_metrics
from tocsin.services.alerts.integrations import Created, create_integration
from tocsin.services.alerts.process import alert_timer_handlers
from tocsin.services.context import Context
from tocsin.storage.alert_groups import StoredGroup
from tocsin.storage.alerts import InboxRow
from tocsin.storage.uow import UnitOfWork


def intake_client(ctx: Context, metrics: Metrics | None = None) -> httpx.AsyncClient:
    """An HTTP client on the app with the intake routes (and the guard layers)."""
    metrics = metrics or create_metrics(process=False)
    app = create_app(ctx, metrics, Runtime(), routes=alert_intake_routes(ctx, metrics))
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://tocsin.test")


async def integration(ctx: Context, kind: str = "webhook", name: str = "src") -> Created:
    return await create_integration(ctx, kind, name, "cli:test")


def path_of(made: Created) -> str:
    """The integration URL's path (``/alerts/<id>/<secret>``)."""
    return urlsplit(made.url).path


def runner(ctx: Context, metrics: Metrics | None = None) -> TimerRunner:
    handlers = alert_timer_handlers(ctx, metrics, TimerHandlers())
    return TimerRunner(
        ctx.db, handlers, Wakeup(), worker_id="alerts-test", poll=0.05, clock=ctx.clock
    )


def routed(*routes: Mapping[str, Any], **extra: Any) -> Any:
    """A policy with these ``[[alert_route]]`` tables."""
    return parse_policy({"alert_route": list(routes), **extra})


def generic(key: str, status: str = "firing", **fields: Any) -> bytes:
    body = {"key": key, "status": status, **fields}
    if status == "firing":
        body.setdefault("title", f"{key} is down")
    return orjson.dumps(body)


async def inbox(
    ctx: Context, states: tuple[str, ...] = ("pending", "done", "failed")
) -> list[InboxRow]:
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        return await uow.alert_inbox.rows(states)


async def groups(ctx: Context) -> list[StoredGroup]:
    async with UnitOfWork(ctx.db, read_only=True) as uow:
        return await uow.alert_groups.list()
