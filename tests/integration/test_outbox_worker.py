"""Delivery workers against a loopback webhook fake: outages, 429 storms, classification,
ordering, refs, expiry, shutdown and wake-up, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from fakes.delivery_kit import (
    all_delivered,
    all_rows,
    burst,
    effect,
    enqueue,
    eventually,
    fast,
    now,
    per_incident,
    service,
    sink_on,
    states,
)
from fakes.http_fake import FakeServer, Reply
from tocsin.delivery import worker as worker_module
from tocsin.delivery.base import Delivery, RemoteRefs, Sent, Skip
from tocsin.delivery.retry import RetryPolicy
from tocsin.delivery.service import DeliveryService
from tocsin.domain.commands import parse
from tocsin.domain.effects import Effect
from tocsin.domain.model import Actor
from tocsin.domain.policy import default_policy
from tocsin.services.context import Context
from tocsin.services.declare import declare
from tocsin.storage.db import Database


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


@pytest.fixture
async def running(db: Database, fake: FakeServer) -> AsyncIterator[list[DeliveryService]]:
    """Services started by a test through ``start``; all stopped at the end."""
    started: list[DeliveryService] = []
    yield started
    for svc in started:
        await svc.stop()


async def start(running: list[DeliveryService], svc: DeliveryService) -> DeliveryService:
    await svc.start()
    running.append(svc)
    return svc


class Parking:
    """Watches the delivery workers' waits: ``idle`` is set whenever a worker goes to sleep for
    a whole poll with nothing to wake it (it looked and found nothing due); ``waits`` are the
    seconds each wait was given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, poll: float) -> None:
        self.idle = asyncio.Event()
        self.waits: list[float] = []
        original = worker_module.wait

        async def watched(event: asyncio.Event, seconds: float) -> None:
            self.waits.append(seconds)
            if seconds >= poll and not event.is_set():
                self.idle.set()
            await original(event, seconds)

        monkeypatch.setattr(worker_module, "wait", watched)

    async def until_idle(self) -> None:
        """Wait (10 s at most, a safety net) for a worker to go idle after this call."""
        self.idle.clear()
        await asyncio.wait_for(self.idle.wait(), 10)


WITHIN = 10.0  # seconds: a safety net, well below the 30 s polls that a wake-up must beat


async def test_destination_down_then_back_delivers_everything_once_in_order(
    db: Database, fake: FakeServer, running: list[DeliveryService]
) -> None:
    """A 503 outage (the first ten requests) loses nothing: after it, every message arrives once,
    in order per incident."""
    sink = sink_on(fake)
    fake.script("POST", "/hook", *[Reply(503, json={"error": "maintenance"})] * 10)
    effects = burst(incidents=4, per_incident=8)
    await enqueue(db, effects)
    await start(running, service(db, fake))
    await all_delivered(db, len(effects))
    assert sorted(sink.applied) == sorted(e.key for e in effects)
    assert sink.repeats == 0
    assert all(order == list(range(1, 9)) for order in per_incident(sink.applied).values())
    assert len(fake.requests) >= len(effects) + 10  # the outage was really hit
    rows = await all_rows(db)
    assert any(r.attempts > 0 for r in rows)
    assert all(r.remote_ids == {"status": "200"} for r in rows)


async def test_429_storm_honours_retry_after(
    db: Database, fake: FakeServer, running: list[DeliveryService]
) -> None:
    """After a 429 with Retry-After, nothing is sent to that destination before the time is up,
    and every message is still delivered once."""
    sink = sink_on(fake)
    limited = Reply(429, json={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "0.4"})
    fake.script("POST", "/hook", limited, limited, limited)
    effects = burst(incidents=3, per_incident=3)
    await enqueue(db, effects)
    await start(running, service(db, fake, concurrency=1))
    await all_delivered(db, len(effects))
    assert sink.repeats == 0
    times = [r.at for r in fake.requests]
    for i in range(3):  # each of the three 429s was followed by a pause of 0.4 s
        assert times[i + 1] - times[i] >= 0.38, times
    assert len(sink.applied) == len(effects)


async def test_discord_retry_after_in_the_body_is_honoured(
    db: Database, fake: FakeServer, running: list[DeliveryService]
) -> None:
    """Discord's 429 body ``{"retry_after": 0.3}`` (no header) delays the retry as well."""
    sink = sink_on(fake)
    fake.script(
        "POST", "/hook", Reply(429, json={"message": "You are being rate limited.",
                                          "retry_after": 0.3, "global": False})
    )  # fmt: skip
    await enqueue(db, [effect(1)])
    await start(running, service(db, fake))
    await all_delivered(db, 1)
    first, second = fake.requests[:2]
    assert second.at - first.at >= 0.28
    assert sink.applied == ["INC-1:1"]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(400, json={"error": "invalid_payload"}), "HTTP 400: invalid_payload"),
        (Reply(401, json={"ok": False, "error": "invalid_auth"}), "HTTP 401: invalid_auth"),
        (Reply(404, body="no such hook"), "HTTP 404: no such hook"),
    ],
)
async def test_client_errors_go_dead_at_once_with_the_reason(
    db: Database, fake: FakeServer, running: list[DeliveryService], reply: Reply, reason: str
) -> None:
    """A 4xx other than 408/429 cannot be fixed by retrying: dead after one attempt, with why."""
    fake.route("POST", "/hook", reply)
    await enqueue(db, [effect(1)])
    await start(running, service(db, fake))
    await eventually(lambda: _state_is(db, "dead"))
    (row,) = await all_rows(db)
    assert row.last_error == reason
    assert row.attempts == 1
    assert len(fake.requests) == 1


async def test_server_errors_and_timeouts_retry_until_max_attempts(
    db: Database, fake: FakeServer, running: list[DeliveryService]
) -> None:
    """5xx and timeouts are retried; after max_attempts the row is dead saying so."""
    fake.script("POST", "/hook", Reply(500), Reply(200, delay=1.0))  # 2nd attempt times out
    fake.route("POST", "/hook", Reply(502, body="bad gateway"))
    retry = RetryPolicy(base=0.01, cap=0.02, max_attempts=4)
    await enqueue(db, [effect(1)])
    await start(running, service(db, fake, retry=retry, send_timeout=0.3))
    await eventually(lambda: _state_is(db, "dead"))
    (row,) = await all_rows(db)
    assert row.attempts == 4
    assert row.last_error == "gave up after 4 attempts; last error: HTTP 502: bad gateway"
    assert row.maybe_sent is True  # the timed-out attempt may have arrived
    assert len(fake.requests) == 4


async def test_ordering_per_incident_while_other_incidents_flow(
    db: Database, fake: FakeServer, running: list[DeliveryService]
) -> None:
    """INC-1's first message failing holds INC-1's later ones back, not INC-2's: INC-1:1 keeps
    failing until all of INC-2 has gone through, and only then do INC-1's messages follow."""
    sink = sink_on(fake)

    def flaky_first(request):  # type: ignore[no-untyped-def]
        key = request.header("Idempotency-Key")
        if key == "INC-1:1" and "INC-2:3" not in sink.applied:
            return Reply(503)
        return sink(request)

    fake.route("POST", "/hook", flaky_first)
    await enqueue(db, [effect(n, 1) for n in (1, 2, 3)] + [effect(n, 2) for n in (1, 2, 3)])
    retry = RetryPolicy(base=0.05, cap=0.1, max_attempts=1000)  # as long as INC-2 needs
    await start(running, service(db, fake, retry=retry))
    await all_delivered(db, 6)
    assert per_incident(sink.applied) == {"INC-1": [1, 2, 3], "INC-2": [1, 2, 3]}
    assert sink.applied.index("INC-2:3") < sink.applied.index("INC-1:1")


class RefSender:
    """A sender that opens a 'channel' once and posts into it using the stored ref."""

    destination = "webhook"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []

    async def send(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        self.seen.append((delivery.kind, refs.get("channel")))
        if delivery.kind == "open_channel":
            return Sent(remote_ids={"channel": "C42"}, refs={"channel": "C42"})
        if delivery.kind == "skip":
            raise Skip("no announcement channel configured")
        if delivery.kind == "resolve":
            archive = Effect("webhook", "archive", {"n": 99}, "archive-1", delivery.incident)
            return Sent(follow_ups=(archive,))
        return Sent(remote_ids={"ts": f"{delivery.payload['n']}.0"})

    async def aclose(self) -> None:
        return None


async def test_refs_from_one_delivery_reach_the_next_and_skip_counts_as_done(
    db: Database, running: list[DeliveryService]
) -> None:
    """Sent.refs are stored with the delivery and handed to later rows; Skip marks delivered."""
    sender = RefSender()
    await enqueue(
        db, [effect(1, kind="open_channel"), effect(2, kind="post"), effect(3, kind="skip")]
    )
    await start(running, DeliveryService(db, {"webhook": sender}, config=fast()))
    await all_delivered(db, 3)
    assert sender.seen == [("open_channel", None), ("post", "C42"), ("skip", "C42")]
    rows = await all_rows(db)
    assert rows[1].remote_ids == {"ts": "2.0"}
    assert rows[2].last_error == "skipped: no announcement channel configured"


async def test_follow_ups_of_a_delivery_are_queued_once_and_delivered(
    db: Database, running: list[DeliveryService]
) -> None:
    """Sent.follow_ups (a sender's 'archive the channel later') are queued in the transaction
    that records the delivery, once, and then delivered like any other row."""
    sender = RefSender()
    await enqueue(db, [effect(1, kind="resolve")])
    await start(running, DeliveryService(db, {"webhook": sender}, config=fast()))
    await all_delivered(db, 2)
    rows = await all_rows(db)
    assert [row.kind for row in rows] == ["resolve", "archive"]
    assert rows[1].idempotency_key == "archive-1"
    assert [kind for kind, _ in sender.seen] == ["resolve", "archive"]


async def test_rows_older_than_max_age_go_dead_unsent(
    db: Database, fake: FakeServer, running: list[DeliveryService]
) -> None:
    """A message queued a day ago is not sent late; it is dead with 'expired'."""
    await enqueue(db, [effect(1)], at=now() - timedelta(hours=2))
    await start(running, service(db, fake, retry=RetryPolicy(max_age=3600)))
    await eventually(lambda: _state_is(db, "dead"))
    (row,) = await all_rows(db)
    assert row.last_error == "expired: not delivered within 1 hour of being queued"
    assert fake.requests == []


async def test_destination_without_sender_stays_pending(
    db: Database, fake: FakeServer, running: list[DeliveryService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows for a destination this process cannot reach wait, untouched, for one that can: once
    the webhook row is delivered the worker looks again, finds nothing, and goes idle."""
    sink_on(fake)
    config = fast()
    parking = Parking(monkeypatch, config.poll)
    await enqueue(db, [effect(1), effect(1, 1, "statuspage", key="sp-1")])
    await start(running, service(db, fake))
    await all_delivered(db, 1)
    await parking.until_idle()
    assert await states(db) == {"delivered": 1, "pending": 1}


async def test_stop_finishes_in_flight_and_releases_the_rest(
    db: Database, fake: FakeServer
) -> None:
    """On stop: claiming ends, slow deliveries (the fake answers after 3 s) are cut at the grace
    time (0.3 s) rather than awaited, and handed back to pending marked maybe_sent; nothing is
    left in flight or delivered."""
    fake.route("POST", "/hook", Reply(200, delay=3.0))
    await enqueue(db, [effect(1, i) for i in range(1, 4)])
    svc = service(db, fake, shutdown_timeout=0.3, send_timeout=5.0)
    await svc.start()
    await fake.wait_for(lambda: len(fake.requests) == 3)
    await svc.stop()
    assert all(worker.in_flight == 0 for worker in svc.workers.values())
    rows = await all_rows(db)
    assert {r.state for r in rows} == {"pending"}
    assert all(r.maybe_sent and r.attempts == 0 for r in rows)


async def test_new_work_from_another_process_is_picked_up_within_a_second(
    db: Database, fake: FakeServer, running: list[DeliveryService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows written by another process (the CLI) to an idle worker are delivered within a
    second: PostgreSQL LISTEN/NOTIFY wakes it (polling is 30 s here); on SQLite it never sleeps
    longer than its 0.5 s poll before looking again."""
    sink = sink_on(fake)
    poll = 0.5 if db.is_sqlite else 30.0
    parking = Parking(monkeypatch, poll)
    svc = await start(running, service(db, fake, poll=poll))
    if svc.listener is not None:
        await asyncio.wait_for(svc.listener.connected.wait(), 5)
    await parking.until_idle()
    other = Database(db.url)
    try:
        await enqueue(other, [effect(1)])
        await fake.wait_for(lambda: sink.applied == ["INC-1:1"], within=WITHIN)
    finally:
        await other.dispose()
    if db.is_sqlite:  # nothing notifies: the next look is at most one 0.5 s poll away
        assert max(parking.waits) <= poll


async def test_in_process_commit_wakes_the_workers_at_once(
    db: Database, fake: FakeServer, running: list[DeliveryService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``wake()`` (called on commit by the services) beats a 30 s poll on any database: an idle
    worker delivers a row committed after it went to sleep."""
    sink = sink_on(fake)
    parking = Parking(monkeypatch, 30.0)
    svc = await start(running, service(db, fake, poll=30.0))
    await parking.until_idle()
    await enqueue(db, [effect(1)])
    svc.wake()
    await fake.wait_for(lambda: len(sink.applied) == 1, within=WITHIN)


async def _state_is(db: Database, state: str) -> bool:
    return {r.state for r in await all_rows(db)} == {state}


class Recorder:
    """A chat sender double that records what it was asked to deliver."""

    destination = "slack"

    def __init__(self) -> None:
        self.kinds: list[str] = []

    async def send(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        self.kinds.append(delivery.kind)
        return Sent()

    async def aclose(self) -> None:
        return None


async def test_a_declared_incident_is_delivered_at_once_through_the_commit_hook(
    db: Database, running: list[DeliveryService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline calls Context.on_commit after the change commits; build_delivery hooks the
    workers there, so a declaration's channel and announcement go out without waiting for a
    poll (30 s here)."""
    ctx = Context(db=db, policy=default_policy(), destinations=frozenset({"slack"}))
    recorder = Recorder()
    parking = Parking(monkeypatch, 30.0)
    svc = await start(running, DeliveryService(db, {"slack": recorder}, config=fast(poll=30.0)))
    ctx.on_commit.append(svc.wake)
    await parking.until_idle()
    await declare(ctx, Actor("cli", "u1", "Ann"), parse('declare "Checkout down" P1'))
    done = ["open_channel", "announce"]
    await eventually(lambda: _true(recorder.kinds == done), within=WITHIN)


async def _true(value: bool) -> bool:
    return value
