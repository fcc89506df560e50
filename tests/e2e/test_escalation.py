"""An escalation end to end with the real timer runner on a clock moved by hand: declare a P1
through the REST API, watch the delivery workers page level 1 (signed webhook, PagerDuty trigger),
level 2 once the clock has moved a minute, then acknowledge through the API and see PagerDuty
told and the paging stop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from fakes.delivery_kit import HOOK, SECRET, eventually, fast, webhook
from fakes.http_fake import FakeServer, Reply
from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.delivery.service import DeliveryService
from tocsin.delivery.timers import TimerHandlers
from tocsin.domain.model import Actor
from tocsin.domain.paging import ESCALATION
from tocsin.domain.policy_file import parse_policy
from tocsin.observability.metrics import Metrics, create_metrics
from tocsin.platforms.pagerduty.sender import PagerDutySender
from tocsin.platforms.webhook.sender import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tocsin.services.access.tokens import create_token
from tocsin.services.context import Context
from tocsin.services.paging import Paging, PagingConfig
from tocsin.storage.db import Database
from tocsin.storage.timers import TimerStore
from tocsin.storage.uow import UnitOfWork

pytestmark = pytest.mark.slow
ENQUEUE = "/v2/enqueue"
MINUTE = timedelta(minutes=1)
POLICY = parse_policy(
    {
        "schedule": [{"name": "primary", "rotation": "daily", "members": ["slack:U0ALICE"]}],
        "escalation": [
            {
                "name": "default",
                "levels": [["schedule:primary"], ["slack:U0LEAD"]],
                "escalate_after_minutes": 1,
                "repeat": 2,
            }
        ],
    }
)


class HandClock:
    """The wall clock of the context and the workers, moved only by :meth:`advance`."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


Running = tuple[httpx.AsyncClient, Context, Metrics, DeliveryService, HandClock]


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        server.route("POST", ENQUEUE, Reply(202, json={"status": "success"}))
        yield server


@pytest.fixture
async def running(db: Database, fake: FakeServer) -> AsyncIterator[Running]:
    """The API app and the delivery workers with paging timers, sharing one context and one
    hand-moved clock."""
    metrics = create_metrics(process=False)
    clock = HandClock()
    ctx = Context(db=db, policy=POLICY, clock=clock, destinations=frozenset({"pagerduty"}))
    paging = Paging(PagingConfig(POLICY, frozenset({"pagerduty", "webhook"})), metrics)
    senders = {"webhook": webhook(fake), "pagerduty": PagerDutySender("R0UTINGKEY", fake.url)}
    handlers = paging.register(TimerHandlers())
    service = DeliveryService(
        db, senders, config=fast(clock=clock), metrics=metrics, timer_handlers=handlers
    )
    ctx.on_commit.append(service.wake)
    await service.start()
    app = create_app(
        ctx, metrics, Runtime(), routes=access_routes(ctx, secret="k" * 40, secure_cookies=False)
    )
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://tocsin.test"
        ) as http:
            yield http, ctx, metrics, service, clock
    finally:
        await service.stop()


def pages(fake: FakeServer) -> list[dict[str, Any]]:
    found = []
    for request in fake.requests_to(HOOK, "POST"):
        body = request.json()
        if body["kind"] == "page":
            found.append({**body["payload"], "_request": request})
    return found


def pagerduty(fake: FakeServer) -> list[str]:
    return [r.json()["event_action"] for r in fake.requests_to(ENQUEUE, "POST")]


async def pending_escalations(db: Database) -> int:
    async with UnitOfWork(db, read_only=True) as uow:
        timers = await TimerStore(uow.connection).find(incident=1)
    return sum(1 for timer in timers if timer.kind == ESCALATION)


async def test_unacknowledged_page_escalates_then_ack_stops_it(
    running: Running, fake: FakeServer, db: Database
) -> None:
    """Level 1 at once, level 2 only once the clock has moved a minute, each a signed webhook;
    PagerDuty gets one trigger for the incident; the API ack reaches PagerDuty, cancels the
    escalation, and no page follows however far the clock moves on."""
    http, ctx, metrics, service, clock = running
    _, token = await create_token(ctx, Actor("cli", "root", "root"), "e2e", "write")
    auth = {"Authorization": f"Bearer {token}"}
    declared = await http.post(
        "/api/v1/incidents", json={"title": "Checkout is down", "severity": "P1"}, headers=auth
    )
    assert declared.status_code == 201, declared.text
    await fake.wait_for(lambda: len(pages(fake)) >= 1, within=5)
    first = pages(fake)[0]
    assert first["targets"] == ["slack:U0ALICE"]
    assert first["level"] == 1
    request = first["_request"]
    signed = verify(
        SECRET,
        request.header(TIMESTAMP_HEADER) or "",
        request.body,
        request.header(SIGNATURE_HEADER) or "",
    )
    assert signed
    await fake.wait_for(lambda: pagerduty(fake) == ["trigger"], within=5)
    clock.advance(MINUTE - timedelta(seconds=1))
    assert await service.timers.fire_due() == 0  # level 2 is not due yet
    assert len(pages(fake)) == 1
    clock.advance(timedelta(seconds=1))
    service.wake()
    await fake.wait_for(lambda: len(pages(fake)) >= 2, within=5)
    second = pages(fake)[1]
    assert (second["targets"], second["level"]) == (["slack:U0LEAD"], 2)
    acked = await http.post("/api/v1/incidents/1/ack", json={}, headers=auth)
    assert acked.status_code == 200, acked.text
    await fake.wait_for(lambda: pagerduty(fake) == ["trigger", "acknowledge"], within=5)
    assert await pending_escalations(db) == 0
    acknowledged = metrics.time_to_acknowledge_seconds.labels("P1")

    async def observed() -> bool:  # the ack's metric timer, due at once, has fired
        return bool(acknowledged._sum.get() > 0)  # type: ignore[attr-defined]

    await eventually(observed, within=5)
    clock.advance(MINUTE * 3)  # two more levels would have been paged by now
    assert await service.timers.fire_due() == 0
    assert len(pages(fake)) == 2
    assert metrics.escalations_total.labels("2")._value.get() == 1
    assert acknowledged._sum.get() >= MINUTE.total_seconds()  # type: ignore[attr-defined]
