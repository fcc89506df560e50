"""The PagerDuty Events v2 sender against a loopback fake: trigger, acknowledge and resolve share
one deterministic dedup_key per incident; 429 is retried; 400 goes dead."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from fakes.delivery_kit import eventually, fast
from fakes.http_fake import FakeServer, Reply
from tocsin.config import load_settings
from tocsin.delivery.service import DeliveryService
from tocsin.domain.commands import parse
from tocsin.domain.model import Actor
from tocsin.domain.policy import default_policy
from tocsin.platforms.pagerduty.sender import PagerDutySender, build_pagerduty_sender
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage.db import Database
from tocsin.storage.outbox import OutboxRow, OutboxStore

ENQUEUE = "/v2/enqueue"
ALICE = Actor("slack", "U0ALICE", "alice")
ACCEPTED = Reply(202, json={"status": "success", "message": "Event processed"})


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer(default=ACCEPTED) as server:
        yield server


@pytest.fixture
async def delivery(db: Database, fake: FakeServer) -> AsyncIterator[DeliveryService]:
    sender = PagerDutySender("R0UTINGKEY", fake.url)
    service = DeliveryService(db, {"pagerduty": sender}, config=fast())
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


def context(db: Database, service: DeliveryService) -> Context:
    """Real time: the delivery workers give up on rows queued more than a day ago."""
    ctx = Context(db=db, policy=default_policy(), destinations=frozenset({"pagerduty"}))
    ctx.on_commit.append(service.wake)
    return ctx


async def rows(db: Database) -> list[OutboxRow]:
    async with db.engine.connect() as conn:
        return sorted(await OutboxStore(conn).rows(limit=1000), key=lambda r: r.id)


async def settled(db: Database, count: int) -> list[OutboxRow]:
    async def done() -> bool:
        found = await rows(db)
        return len(found) == count and all(r.state in ("delivered", "dead") for r in found)

    await eventually(done, 10)
    return await rows(db)


async def test_trigger_acknowledge_resolve_share_the_incident_dedup_key(
    db: Database, fake: FakeServer, delivery: DeliveryService
) -> None:
    """Each event is one POST to /v2/enqueue with the routing key; every event of INC-1 carries
    dedup_key tocsin-INC-1, in the order they happened; 202 marks the row delivered."""
    ctx = context(db, delivery)
    await execute(ctx, ALICE, parse("declare Checkout is down P1"))
    await execute(ctx, ALICE, parse("ack INC-1"))
    await execute(ctx, ALICE, parse("resolve INC-1 fixed"))
    found = await settled(db, 3)
    assert [r.state for r in found] == ["delivered"] * 3
    assert found[0].remote_ids == {"dedup_key": "tocsin-INC-1"}
    bodies = [r.json() for r in fake.requests_to(ENQUEUE, "POST")]
    assert [b["event_action"] for b in bodies] == ["trigger", "acknowledge", "resolve"]
    assert {b["dedup_key"] for b in bodies} == {"tocsin-INC-1"}
    assert {b["routing_key"] for b in bodies} == {"R0UTINGKEY"}
    assert bodies[0]["payload"]["severity"] == "critical"
    assert bodies[0]["payload"]["summary"] == "INC-1 (P1): Checkout is down"


async def test_429_is_retried_with_the_same_dedup_key(
    db: Database, fake: FakeServer, delivery: DeliveryService
) -> None:
    """A rate-limited trigger is sent again after Retry-After; both attempts carry the same key,
    so PagerDuty merges them into one alert."""
    fake.script("POST", ENQUEUE, Reply(429, headers={"Retry-After": "0"}, json={"status": "x"}))
    ctx = context(db, delivery)
    await execute(ctx, ALICE, parse("declare Payments failing P2"))
    found = await settled(db, 1)
    assert found[0].state == "delivered"
    keys = [r.json()["dedup_key"] for r in fake.requests_to(ENQUEUE)]
    assert keys == ["tocsin-INC-1", "tocsin-INC-1"]


async def test_400_invalid_event_goes_dead_with_the_reason(
    db: Database, fake: FakeServer, delivery: DeliveryService
) -> None:
    """PagerDuty's 400 means the event can never be accepted: dead at once, reason kept."""
    invalid = {"status": "invalid event", "message": "Event object is invalid", "errors": ["x"]}
    fake.route("POST", ENQUEUE, Reply(400, json=invalid))
    ctx = context(db, delivery)
    await execute(ctx, ALICE, parse("declare Login broken P1"))
    found = await settled(db, 1)
    assert found[0].state == "dead"
    assert "HTTP 400" in (found[0].last_error or "")
    assert "Event object is invalid" in (found[0].last_error or "")
    assert len(fake.requests_to(ENQUEUE)) == 1


def test_the_sender_exists_only_with_a_routing_key() -> None:
    """TOCSIN_PAGERDUTY_ROUTING_KEY switches PagerDuty on; the API URL defaults to PagerDuty's."""
    assert build_pagerduty_sender(load_settings({}, env_file=None)) is None
    settings = load_settings(
        {
            "TOCSIN_PAGERDUTY_ROUTING_KEY": "R0UTINGKEY",
            "TOCSIN_PAGERDUTY_API_URL": "http://127.0.0.1:9/",
        },
        env_file=None,
    )
    sender = build_pagerduty_sender(settings)
    assert sender is not None
    assert sender.url == "http://127.0.0.1:9/v2/enqueue"
