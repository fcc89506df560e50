"""An escalation end to end with real timers: declare a P1 through the REST API, watch the
delivery workers page level 1 (signed webhook, PagerDuty trigger), level 2 one (shortened) minute
later, then acknowledge through the API and see PagerDuty told and the paging stop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from fakes.delivery_kit import HOOK, SECRET, fast, webhook
from fakes.http_fake import FakeServer, Reply
from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.delivery.service import DeliveryService
from tocsin.delivery.timers import TimerHandlers
from tocsin.domain.model import Actor
from tocsin.domain.policy_file import parse_policy
from tocsin.observability.metrics import Metrics, create_metrics
from tocsin.platforms.pagerduty.sender import PagerDutySender
from tocsin.platforms.webhook.sender import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tocsin.services.access.tokens import create_token
from tocsin.services.context import Context
from tocsin.services.paging import Paging, PagingConfig
from tocsin.storage.db import Database

pytestmark = pytest.mark.slow
ENQUEUE = "/v2/enqueue"
MINUTE = 1.0  # one escalation "minute" lasts a second here
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


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        server.route("POST", ENQUEUE, Reply(202, json={"status": "success"}))
        yield server


@pytest.fixture
async def running(
    db: Database, fake: FakeServer
) -> AsyncIterator[tuple[httpx.AsyncClient, Context, Metrics]]:
    """The API app and the delivery workers with paging timers, sharing one context."""
    metrics = create_metrics(process=False)
    ctx = Context(db=db, policy=POLICY, destinations=frozenset({"pagerduty"}))
    paging = Paging(
        PagingConfig(POLICY, frozenset({"pagerduty", "webhook"}), minute=MINUTE), metrics
    )
    senders = {"webhook": webhook(fake), "pagerduty": PagerDutySender("R0UTINGKEY", fake.url)}
    service = DeliveryService(
        db, senders, config=fast(), metrics=metrics, timer_handlers=paging.register(TimerHandlers())
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
            yield http, ctx, metrics
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


async def test_unacknowledged_page_escalates_then_ack_stops_it(
    running: tuple[httpx.AsyncClient, Context, Metrics], fake: FakeServer
) -> None:
    """Level 1 at once, level 2 a "minute" (1 s) later, each a signed webhook; PagerDuty gets
    one trigger for the incident; the API ack reaches PagerDuty and no page follows."""
    http, ctx, metrics = running
    _, token = await create_token(ctx, Actor("cli", "root", "root"), "e2e", "write")
    auth = {"Authorization": f"Bearer {token}"}
    declared = await http.post(
        "/api/v1/incidents", json={"title": "Checkout is down", "severity": "P1"}, headers=auth
    )
    assert declared.status_code == 201, declared.text
    started = time.monotonic()
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
    await fake.wait_for(lambda: len(pages(fake)) >= 2, within=5)
    assert time.monotonic() - started >= MINUTE * 0.9
    second = pages(fake)[1]
    assert (second["targets"], second["level"]) == (["slack:U0LEAD"], 2)
    acked = await http.post("/api/v1/incidents/1/ack", json={}, headers=auth)
    assert acked.status_code == 200, acked.text
    await fake.wait_for(lambda: pagerduty(fake) == ["trigger", "acknowledge"], within=5)
    await asyncio.sleep(MINUTE * 2.5)  # two more levels would have been paged by now
    assert len(pages(fake)) == 2
    assert metrics.escalations_total.labels("2")._value.get() == 1
    assert metrics.time_to_acknowledge_seconds.labels("P1")._sum.get() > MINUTE * 0.9  # type: ignore[attr-defined]
