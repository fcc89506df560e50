"""Scheduled maintenance through the outbox: the Statuspage mirror as a scheduled incident (the
fake checks every request against Atlassian's OpenAPI description) and the announce-channel
rows, queued in the same transaction as each change, from creation through the timers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from conftest import Clock
from fakes.statuspage_api import FakeStatuspage, sender_for
from tocsin.delivery.base import Delivery
from tocsin.delivery.timers import TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.delivery.worker import MappingRefs
from tocsin.domain.model import Actor
from tocsin.domain.policy import Component, default_policy
from tocsin.platforms.statuspage.sender import StatuspageSender
from tocsin.services import maintenance as service
from tocsin.services.context import Context
from tocsin.storage.db import Database

OPERATOR = Actor("cli", "root", "root")
POLICY = replace(default_policy(), components=(Component("API"), Component("Web")))
DESTINATIONS = frozenset({"statuspage", "slack", "discord"})


@pytest.fixture
def fake() -> Iterator[FakeStatuspage]:
    with FakeStatuspage() as server:
        server.add_component("API")
        server.add_component("Web")
        yield server
        assert server.violations == []


@pytest.fixture
async def sender(fake: FakeStatuspage) -> AsyncIterator[StatuspageSender]:
    found: StatuspageSender = sender_for(fake)
    yield found
    await found.aclose()


@pytest.fixture
def sctx(db: Database, clock: Clock) -> Context:
    return Context(db=db, policy=POLICY, clock=clock, destinations=DESTINATIONS)


class Outbox:
    """Reads the rows queued since the last look."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.seen: set[int] = set()

    async def new(self) -> list[Delivery]:
        async with self.ctx.uow(read_only=True) as uow:
            rows = await uow.outbox.rows(limit=200)
        fresh = sorted((r for r in rows if r.id not in self.seen), key=lambda r: r.id)
        self.seen |= {r.id for r in fresh}
        return [
            Delivery(r.id, r.incident, r.destination, r.kind, r.payload, r.idempotency_key, 0)
            for r in fresh
        ]


async def push(sender: StatuspageSender, rows: list[Delivery]) -> list[Delivery]:
    """Send the Statuspage rows; return the others."""
    for row in rows:
        if row.destination == "statuspage":
            await sender.send(row, MappingRefs({}))
    return [r for r in rows if r.destination != "statuspage"]


async def test_mirrored_as_a_scheduled_incident_through_its_window(
    sctx: Context, db: Database, clock: Clock, fake: FakeStatuspage, sender: StatuspageSender
) -> None:
    """Created: a scheduled incident (window, maintenance impact, metadata ref) and a notice to
    each announce channel; the start timer puts it in progress with its component under
    maintenance; the end timer completes it and frees the component. Created once."""
    outbox = Outbox(sctx)
    made = await service.create(sctx, OPERATOR, "DB upgrade", "+1h", "+2h", ["API"], "Planned")
    chat = await push(sender, await outbox.new())
    assert sorted((r.destination, r.kind, r.payload["maintenance"]["event"]) for r in chat) == [
        ("discord", "notice", "created"), ("slack", "notice", "created"),
    ]  # fmt: skip
    (incident,) = fake.incidents.values()
    assert incident["status"] == "scheduled"
    assert incident["impact"] == "maintenance"
    assert incident["metadata"] == {"tocsin": {"ref": f"MAINT-{made.id}"}}
    assert incident["scheduled_for"] == made.starts_at.isoformat()
    assert incident["incident_updates"][0]["body"] == "Planned"

    handlers = service.maintenance_timer_handlers(TimerHandlers(), DESTINATIONS)
    timers = TimerRunner(db, handlers, Wakeup(), worker_id="t1", clock=clock)
    clock.advance(hours=1)
    assert await timers.fire_due() == 1
    chat = await push(sender, await outbox.new())
    assert {r.payload["maintenance"]["event"] for r in chat} == {"started"}
    assert incident["status"] == "in_progress"
    assert fake.status_of("API") == "under_maintenance"
    assert fake.status_of("Web") == "operational"

    clock.advance(hours=1)
    assert await timers.fire_due() == 1
    chat = await push(sender, await outbox.new())
    assert {r.payload["maintenance"]["event"] for r in chat} == {"completed"}
    assert incident["status"] == "completed"
    assert fake.status_of("API") == "operational"
    assert len(fake.calls_to("POST", "/pages/{page_id}/incidents")) == 1


async def test_a_new_sender_finds_the_incident_and_a_cancel_deletes_it(
    sctx: Context, fake: FakeStatuspage, sender: StatuspageSender
) -> None:
    """A sender that did not create it (another replica, a restart) finds it by its metadata
    and PATCHes it; cancelling deletes it on Statuspage; the rename and the cancel are each
    announced once per announce channel."""
    outbox = Outbox(sctx)
    made = await service.create(sctx, OPERATOR, "Rotate keys", "+1h", "+2h", ["Web"])
    await push(sender, await outbox.new())
    sender._created.clear()
    edit = service.MaintenanceChange(title="Rotate all keys")
    await service.edit(sctx, OPERATOR, made.id, edit)
    chat = await push(sender, await outbox.new())
    assert sorted((r.destination, r.payload["maintenance"]["event"]) for r in chat) == [
        ("discord", "updated"), ("slack", "updated"),
    ]  # fmt: skip
    (incident,) = fake.incidents.values()
    assert incident["name"] == "Rotate all keys"
    await service.edit(sctx, OPERATOR, made.id, service.MaintenanceChange(description="Typo"))
    assert await push(sender, await outbox.new()) == []  # a description alone: mirrored only
    assert "Typo" in [u["body"] for u in incident["incident_updates"]]
    await service.cancel(sctx, OPERATOR, made.id)
    chat = await push(sender, await outbox.new())
    assert {r.payload["maintenance"]["event"] for r in chat} == {"cancelled"}
    assert fake.incidents == {}
    assert len(fake.calls_to("POST", "/pages/{page_id}/incidents")) == 1


async def test_nothing_is_queued_for_destinations_that_are_off(db: Database, clock: Clock) -> None:
    """With no platform enabled a maintenance queues no outbox row at all."""
    ctx = Context(db=db, policy=POLICY, clock=clock)
    await service.create(ctx, OPERATOR, "Quiet", "+1h", "+2h", ["API"])
    assert await Outbox(ctx).new() == []
