"""Maintenance told to status-page subscribers, against the real database with an injected
clock: announced on create, begun and completed by the durable timers; one outbox row per
subscriber per notice however often it is queued; the component filter applies; webhook
documents are Statuspage-shaped scheduled maintenances."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from tests.fakes.delivery_kit import all_rows

from conftest import Clock
from tocsin.delivery.timers import TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.domain.model import Actor
from tocsin.domain.policy import Component, default_policy
from tocsin.domain.status_json import stamp
from tocsin.services import maintenance as service
from tocsin.services import subscribers
from tocsin.services.context import Context
from tocsin.services.subscriber_notices import queue_maintenance_notice, register_fanout
from tocsin.storage.db import Database

ROOT = Actor("cli", "root", "root")
PUBLIC = "http://tocsin.test"
POLICY = replace(default_policy(), components=(Component("API"), Component("Payments")))


def _runner(ctx: Context) -> TimerRunner:
    handlers = service.maintenance_timer_handlers(TimerHandlers(), public_url=PUBLIC)
    register_fanout(handlers)  # the notices' fan-out: one more timer fired per notice
    return TimerRunner(ctx.db, handlers, Wakeup(), worker_id="t1", clock=ctx.clock)


async def _notices(db: Database) -> list[tuple[str, str]]:
    rows = [r for r in await all_rows(db) if r.kind == "notice"]
    return [(r.destination, r.idempotency_key.split(":", 1)[1]) for r in rows]


async def test_create_start_and_complete_each_notify_each_subscriber_once(
    db: Database, clock: Clock
) -> None:
    """An email and a webhook subscriber of API get "created", "started" and "completed" once
    each; a Payments-only subscriber gets nothing; queueing a notice again adds no row."""
    ctx = Context(db=db, policy=POLICY, clock=clock, public_url=PUBLIC)
    await subscribers.add_subscriber(ctx, ROOT, "ann@example.test")
    await subscribers.add_subscriber(ctx, ROOT, "http://127.0.0.1:9/hook", ["API"])
    await subscribers.add_subscriber(ctx, ROOT, "pay@example.test", ["Payments"])
    start, end = clock.now + timedelta(hours=1), clock.now + timedelta(hours=2)
    made = await service.create(ctx, ROOT, "DB upgrade", start.isoformat(), end.isoformat(),
                                ["API"], "Read-only for a while.")  # fmt: skip
    clock.advance(hours=1)
    assert await _runner(ctx).fire_due() == 3  # created's fan-out, the start, started's fan-out
    clock.advance(hours=1)
    assert await _runner(ctx).fire_due() == 2  # the end, completed's fan-out
    async with ctx.uow() as uow:
        again = await queue_maintenance_notice(uow, PUBLIC, made, "created", clock.now)
        await uow.commit()
    assert again == 0
    events = [f"maintenance:{made.id}:{e}" for e in ("created", "started", "completed")]
    hooks = [("subscriber_webhook", f"sub2:{e}") for e in events]
    mails = [("email", f"sub1:{e}") for e in events]
    assert sorted(await _notices(db)) == sorted(mails + hooks)


async def test_the_webhook_document_is_a_statuspage_scheduled_maintenance(
    db: Database, clock: Clock
) -> None:
    """The webhook body of a begun maintenance: an ``incident`` with impact maintenance, status
    in_progress, its window, its components under maintenance, and the page's indicator
    ``maintenance``; the email says the status and the window's components."""
    ctx = Context(db=db, policy=POLICY, clock=clock, public_url=PUBLIC)
    await subscribers.add_subscriber(ctx, ROOT, "http://127.0.0.1:9/hook")
    await subscribers.add_subscriber(ctx, ROOT, "ann@example.test")
    end = clock.now + timedelta(hours=1)
    await service.create(ctx, ROOT, "Patch", clock.now.isoformat(), end.isoformat(), ["API"])
    assert await _runner(ctx).fire_due() == 3  # created's fan-out, the start, started's fan-out
    notices = [r for r in await all_rows(db) if r.kind == "notice"]
    rows = [r for r in notices if r.idempotency_key.endswith(":started")]
    started = next(r for r in rows if r.idempotency_key.startswith("subscriber_webhook:"))
    request = await subscribers.webhook_request(ctx, b"k" * 32, started.payload)
    assert request is not None
    document = json.loads(request.body)
    incident = document["incident"]
    assert (incident["name"], incident["status"], incident["impact"]) == (
        "Patch", "in_progress", "maintenance",
    )  # fmt: skip
    assert incident["scheduled_until"] == stamp(end)
    assert incident["components"][0]["name"] == "API"
    assert incident["components"][0]["status"] == "under_maintenance"
    assert document["page"]["status_indicator"] == "maintenance"
    mail = next(r for r in rows if r.idempotency_key.startswith("email:"))
    assert mail.payload["mail"]["subject"] == "[Service status] Patch: In progress"
    assert "Affected: API" in mail.payload["mail"]["text"]
