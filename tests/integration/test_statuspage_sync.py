"""The Statuspage sender against a fake Statuspage checked against Atlassian's OpenAPI description:
create once, PATCH updates, look up before re-creating, back off on 420/429, pace to 1 request/s,
unpublish; and the whole path from a command through the outbox, including failure reports."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest

from fakes.statuspage_api import FakeStatuspage, sender_for
from tocsin.delivery.base import Delivery, PermanentError, RetryableError, Skip
from tocsin.delivery.service import DeliveryConfig, DeliveryService
from tocsin.delivery.worker import MappingRefs
from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Severity
from tocsin.domain.policy import Component, default_policy
from tocsin.platforms.statuspage.sender import (
    RATE,
    REF,
    VERSION,
    StatuspageSender,
    component_ref,
)
from tocsin.services import statuspage_sync_failures, visibility
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage.outbox import OutboxStore

INCIDENTS = "/pages/{page_id}/incidents"
INCIDENT = "/pages/{page_id}/incidents/{incident_id}"
COMPONENTS = "/pages/{page_id}/components"
ALICE = Actor("slack", "U0ALICE", "alice")


@pytest.fixture
def fake() -> Iterator[FakeStatuspage]:
    with FakeStatuspage() as server:
        server.add_component("API")
        server.add_component("Web")
        yield server
        assert server.violations == []


@pytest.fixture
async def sender(fake: FakeStatuspage) -> AsyncIterator[StatuspageSender]:
    found = sender_for(fake)
    yield found
    await found.aclose()


def fields(**overrides: Any) -> dict[str, Any]:
    base = {
        "ref": "INC-1", "name": "Checkout is down", "status": "investigating",
        "impact": "critical", "body": "We are investigating this issue.",
        "opening": "We are investigating this issue.",
        "components": {"API": "major_outage"}, "released": [],
    }  # fmt: skip
    return {**base, **overrides}


def delivery(n: int, kind: str = "sync", maybe_sent: bool = False, **overrides: Any) -> Delivery:
    payload = {"statuspage": fields(**overrides)}
    return Delivery(n, 1, "statuspage", kind, payload, f"statuspage:INC-1:v{n}", 0, {}, maybe_sent)


async def test_first_sync_creates_once_with_oauth_and_metadata(
    fake: FakeStatuspage, sender: StatuspageSender
) -> None:
    """The first sync POSTs the incident (OAuth key, name, status, impact, body, components,
    metadata with the ref) and returns its id as the ref at once; component ids become refs."""
    sent = await sender.send(delivery(1), MappingRefs({}))
    (incident,) = fake.incidents.values()
    assert sent.refs[REF] == incident["id"]
    assert sent.refs[component_ref("API")] == incident["components"][0]["id"]
    assert incident["metadata"] == {"tocsin": {"ref": "INC-1"}}
    assert incident["impact"] == "critical"
    assert incident["incident_updates"][0]["body"] == "We are investigating this issue."
    assert fake.status_of("API") == "major_outage"
    assert fake.status_of("Web") == "operational"
    assert len(fake.calls_to("POST", INCIDENTS)) == 1


async def test_later_syncs_patch_the_same_incident(
    fake: FakeStatuspage, sender: StatuspageSender
) -> None:
    """With the ref stored, syncs PATCH status, impact, components and the update's text; a
    sync without text (a severity change) adds no update."""
    sent = await sender.send(delivery(1), MappingRefs({}))
    refs = MappingRefs(dict(sent.refs))
    await sender.send(delivery(2, body="Rolled back deploy", status="identified"), refs)
    lowered = {"API": "degraded_performance"}
    await sender.send(
        delivery(3, body="", status="identified", impact="minor", components=lowered), refs
    )
    await sender.send(delivery(4, status="resolved", body="This incident has been resolved.",
                               components={"API": "operational"}), refs)  # fmt: skip
    (incident,) = fake.incidents.values()
    bodies = [u["body"] for u in reversed(incident["incident_updates"])]
    assert bodies == [
        "We are investigating this issue.",
        "Rolled back deploy",
        "This incident has been resolved.",
    ]
    assert incident["status"] == "resolved"
    assert incident["resolved_at"] is not None
    assert fake.status_of("API") == "operational"
    assert len(fake.calls_to("POST", INCIDENTS)) == 1
    assert len(fake.calls_to("PATCH", INCIDENT)) == 3
    assert fake.calls_to("GET", COMPONENTS)  # read once, then kept as refs and in memory
    assert len(fake.calls_to("GET", COMPONENTS)) == 1


async def test_lost_answer_is_looked_up_not_created_again(fake: FakeStatuspage) -> None:
    """Statuspage created the incident but the answer was lost: the retry (maybe_sent, in a
    fresh process) finds it by metadata and does not create a second one."""
    first = sender_for(fake)
    fake.drop_after("POST", INCIDENTS)
    with pytest.raises(RetryableError):
        await first.send(delivery(1), MappingRefs({}))
    await first.aclose()
    second = sender_for(fake)
    sent = await second.send(delivery(1, maybe_sent=True), MappingRefs({}))
    await second.aclose()
    assert len(fake.incidents) == 1
    assert sent.remote_ids["incident"] == next(iter(fake.incidents))
    assert len(fake.calls_to("POST", INCIDENTS)) == 1


async def test_update_is_not_posted_twice_after_a_lost_answer(
    fake: FakeStatuspage, sender: StatuspageSender
) -> None:
    """A PATCH whose answer was lost is retried with maybe_sent: its text is already there, so
    the retry syncs the state without adding the update again."""
    refs = MappingRefs(dict((await sender.send(delivery(1), MappingRefs({}))).refs))
    fake.drop_after("PATCH", INCIDENT)
    with pytest.raises(RetryableError):
        await sender.send(delivery(2, body="Failing over"), refs)
    await sender.send(delivery(2, body="Failing over", maybe_sent=True), refs)
    (incident,) = fake.incidents.values()
    assert [u["body"] for u in incident["incident_updates"]].count("Failing over") == 1


@pytest.mark.parametrize(("status", "headers", "wait"), [(429, {"Retry-After": "2"}, 2.0),
                                                          (420, {}, 5.0)])  # fmt: skip
async def test_rate_limits_back_off(
    fake: FakeStatuspage,
    sender: StatuspageSender,
    status: int,
    headers: dict[str, str],
    wait: float,
) -> None:
    """429 with Retry-After and 420 without one are retryable after that long (5 s default),
    and the sender's own pacing pauses for it too."""
    fake.fail("POST", INCIDENTS, status, headers=headers)
    sender.api.bucket.clock = lambda: 500.0  # the pacing's clock, standing still
    with pytest.raises(RetryableError) as caught:
        await sender.send(delivery(1), MappingRefs({}))
    assert caught.value.retry_after == wait
    assert sender.api.bucket.blocked_until == 500.0 + wait


async def test_requests_are_paced_to_one_per_second(fake: FakeStatuspage) -> None:
    """At the default pace a sync that reads the component list and then creates the incident
    sends its two requests at least a second apart: Statuspage never answers 420."""
    fake.strict_rate(1.0)
    sender = sender_for(fake, rate=RATE)
    try:
        await sender.send(delivery(1), MappingRefs({}))
    finally:
        await sender.aclose()
    (read,) = fake.calls_to("GET", COMPONENTS)
    (create,) = fake.calls_to("POST", INCIDENTS)
    assert create - read >= 0.9
    assert len(fake.incidents) == 1


async def test_an_old_row_retried_late_does_not_roll_the_state_back(
    fake: FakeStatuspage, sender: StatuspageSender
) -> None:
    """A dead row an operator retries after newer syncs went out posts its update text but
    leaves the newer status (resolved) alone; without text it is skipped."""
    refs = dict((await sender.send(delivery(1, version=1), MappingRefs({}))).refs)
    done = await sender.send(
        delivery(5, version=5, status="resolved", components={"API": "operational"}),
        MappingRefs(refs),
    )
    refs.update(done.refs)
    assert refs[VERSION] == "5"
    late = delivery(2, version=2, body="Rolling back", components={"API": "major_outage"})
    await sender.send(late, MappingRefs(refs))
    (incident,) = fake.incidents.values()
    assert incident["status"] == "resolved"
    assert incident["incident_updates"][0]["body"] == "Rolling back"
    assert fake.status_of("API") == "operational"
    with pytest.raises(Skip):
        await sender.send(delivery(3, version=3, body=""), MappingRefs(refs))


async def test_deleted_incident_is_created_again(
    fake: FakeStatuspage, sender: StatuspageSender
) -> None:
    """Someone deleted the incident on Statuspage: the next sync (404) creates a new one and
    returns its id as the new ref."""
    sent = await sender.send(delivery(1), MappingRefs({}))
    fake.incidents.clear()
    again = await sender.send(delivery(2, body="Still on it"), MappingRefs(dict(sent.refs)))
    assert again.refs[REF] != sent.refs[REF]
    assert len(fake.incidents) == 1


async def test_unpublish_deletes_and_restores_components(
    fake: FakeStatuspage, sender: StatuspageSender
) -> None:
    """Made private: the components go back to operational, the incident is deleted and the ref
    is cleared; with nothing published it is skipped."""
    refs = dict((await sender.send(delivery(1), MappingRefs({}))).refs)
    gone = await sender.send(delivery(2, kind="unpublish"), MappingRefs(refs))
    assert fake.incidents == {}
    assert fake.status_of("API") == "operational"
    assert gone.refs[REF] == ""
    with pytest.raises(Skip):
        await sender.send(delivery(3, kind="unpublish"), MappingRefs({**refs, **gone.refs}))


async def test_a_bad_key_is_permanent(fake: FakeStatuspage) -> None:
    """A wrong API key (401) is not retried: the delivery goes dead with the reason."""
    fake.api_key = "another-key"
    sender = sender_for(fake)
    try:
        with pytest.raises(PermanentError, match="401"):
            await sender.send(delivery(1), MappingRefs({}))
    finally:
        await sender.aclose()


# --- the whole path -------------------------------------------------------------------------------
def _context(ctx: Context, *destinations: str) -> Context:
    policy = replace(default_policy(), components=(Component("API"), Component("Web")))
    return replace(ctx, policy=policy, destinations=frozenset(destinations), on_commit=[])


async def _drain(ctx: Context, sender: StatuspageSender, done: Any, within: float = 15.0) -> None:
    pacing = {"statuspage": lambda d: [("sp", 50.0, 10)]}
    config = DeliveryConfig(poll=0.05, pacing=pacing, clock=ctx.clock)
    service = DeliveryService(ctx.db, {"statuspage": sender}, config=config)
    await service.start()
    try:
        deadline = time.monotonic() + within
        while not await done():
            assert time.monotonic() < deadline, "the outbox did not drain in time"
            await asyncio.sleep(0.05)
    finally:
        await service.stop()


async def test_downgraded_incident_is_updated_and_resolved_on_statuspage(
    ctx: Context, fake: FakeStatuspage, sender: StatuspageSender
) -> None:
    """Declared P1 with components, lowered to P3, updated and resolved: Statuspage gets one
    incident that ends resolved with impact minor, the update text (never the note), and its
    component back to operational."""
    c = _context(ctx, "statuspage")
    await execute(c, ALICE, Command("declare", text="Search down", severity=Severity.P1))
    await visibility.set_components(c, ALICE, 1, ["API"])
    await execute(c, ALICE, Command("severity", incident=1, severity=Severity.P3))
    await execute(c, ALICE, Command("note", incident=1, text="internal: pg-7 disk full"))
    await execute(c, ALICE, Command("update", incident=1, text="Search is slow for some"))
    await execute(c, ALICE, Command("resolve", incident=1, text="replaced disk"))

    async def resolved() -> bool:
        return any(i["status"] == "resolved" for i in fake.incidents.values())

    await _drain(c, sender, resolved)
    (incident,) = fake.incidents.values()
    assert incident["impact"] == "minor"
    bodies = [u["body"] for u in incident["incident_updates"]]
    assert "Search is slow for some" in bodies
    assert not any("pg-7" in b or "replaced disk" in b for b in bodies)
    assert fake.status_of("API") == "operational"


async def test_failed_sync_shows_in_health_and_the_channel(
    ctx: Context, fake: FakeStatuspage, sender: StatuspageSender
) -> None:
    """A sync refused for good (401) goes dead; the soft check names it with the retry command,
    and one message per chat platform is queued for the incident channel, once."""
    c = _context(ctx, "statuspage", "slack")
    fake.api_key = "rotated"
    check = statuspage_sync_failures.failure_check(c)
    assert await check() is None
    await execute(c, ALICE, Command("declare", text="API down", severity=Severity.P1))

    async def dead() -> bool:
        async with c.uow(read_only=True) as uow:
            rows = await OutboxStore(uow.connection).rows(("dead",))
        return any(r.destination == "statuspage" for r in rows)

    await _drain(c, sender, dead)
    problem = await check()
    assert problem is not None
    assert "1 Statuspage update failed" in problem
    assert "tocsin deliveries retry" in problem
    assert await statuspage_sync_failures.notify_failures(c) == 1
    assert await statuspage_sync_failures.notify_failures(c) == 0
    async with c.uow(read_only=True) as uow:
        rows = await OutboxStore(uow.connection).rows(("pending",))
    (notice,) = [r for r in rows if r.payload.get("event") == "statuspage_failed"]
    assert notice.destination == "slack"
    assert notice.kind == "post"
    assert "could not be updated" in notice.payload["text"]
