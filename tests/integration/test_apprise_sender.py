"""The Apprise outbox sender against local fakes on 127.0.0.1 (ntfy over plain HTTP and
Apprise's JSON webhook): delivered through the real outbox and workers, a failing method
retried then its own circuit breaker opened (the other method's breaker stays closed), and the
URL's secrets never in the logs or the rows."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from fakes.delivery_kit import all_rows, enqueue, eventually, fast
from fakes.http_fake import FakeServer, Reply
from tocsin.config import Settings
from tocsin.delivery.service import DeliveryService
from tocsin.domain.effects import Effect
from tocsin.domain.policy import Policy
from tocsin.domain.policy_file import parse_policy
from tocsin.platforms.apprise.sender import build_apprise_senders
from tocsin.platforms.registry import build_senders
from tocsin.storage.db import Database

SECRET = "s3cr3tT0ken"  # the ntfy password, and a token in the webhook's query


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


def people_policy(fake: FakeServer) -> Policy:
    port = fake.url.rstrip("/").rsplit(":", 1)[1]
    return parse_policy(
        {
            "person": [
                {
                    "id": "slack:U0ALICE",
                    "name": "Alice",
                    "contacts": {
                        "phone": f"ntfy://alice:{SECRET}@127.0.0.1:{port}/alerts",
                        "hook": f"json://127.0.0.1:{port}/hook?token={SECRET}",
                        "pager": f"ntfy://{SECRET}@127.0.0.1:{port}/pager",  # a token login
                        "mail": "mailto:alice@example.com",
                    },
                    "urgent_rule": ["phone", "hook after 5m"],
                }
            ]
        }
    )


def notify(contact: str, n: int = 1, destination: str = "") -> Effect:
    payload = {"person": "slack:U0ALICE", "contact": contact, "title": "INC-1", "body": f"b{n}"}
    kinds = {"phone": "apprise:ntfy", "pager": "apprise:ntfy", "hook": "apprise:json"}
    where = destination or kinds[contact]
    return Effect(where, "notify", payload, f"{where}:INC-1:{n}", 1)


def service(db: Database, policy: Policy, **config: Any) -> DeliveryService:
    senders = build_apprise_senders(Settings(), policy)
    return DeliveryService(db, senders, config=fast(**config))


def test_one_sender_per_url_scheme_registered_and_mail_left_out(fake: FakeServer) -> None:
    """The registry builds one Apprise sender per scheme among the contacts (its own worker
    and breaker): apprise:ntfy and apprise:json; mailto: is not Apprise's."""
    senders = build_senders(Settings(), people_policy(fake))
    assert sorted(n for n in senders if n.startswith("apprise:")) == [
        "apprise:json",
        "apprise:ntfy",
    ]


async def test_ntfy_and_json_webhook_are_notified_through_the_outbox(
    db: Database, fake: FakeServer
) -> None:
    """A ``notify`` row reaches ntfy (POST with topic, title and message) and the JSON webhook;
    both rows end delivered."""
    svc = service(db, people_policy(fake))
    await enqueue(db, [notify("phone"), notify("hook")])
    stop = await svc.start()
    try:

        async def delivered() -> bool:
            return all(r.state == "delivered" for r in await all_rows(db))

        await eventually(delivered)
    finally:
        await stop()
    ntfy = fake.requests_to("/")
    assert [r.json() for r in ntfy] == [{"topic": "alerts", "title": "INC-1", "message": "b1"}]
    assert [r.json()["message"] for r in fake.requests_to("/hook")] == ["b1"]


async def test_failing_method_is_retried_then_its_breaker_opens_alone(
    db: Database, fake: FakeServer
) -> None:
    """ntfy answers 503: the row is retried (attempts grow, still pending, reason masked), after
    3 failures the apprise:ntfy breaker opens, while apprise:json stays closed and delivers."""
    fake.route("POST", "/", Reply(503, json={"error": "overloaded"}))
    svc = service(db, people_policy(fake), breaker_threshold=3, breaker_open_seconds=60.0)
    await enqueue(db, [notify("phone"), notify("hook")])
    with structlog.testing.capture_logs() as logs:
        stop = await svc.start()
        try:
            await fake.wait_for(lambda: svc.breakers["apprise:ntfy"].state == "open", within=10)

            async def json_done() -> bool:
                rows = await all_rows(db)
                return any(r.destination == "apprise:json" and r.state == "delivered" for r in rows)

            await eventually(json_done)
        finally:
            await stop()
    assert svc.breakers["apprise:json"].state == "closed"
    phone = next(r for r in await all_rows(db) if r.destination == "apprise:ntfy")
    assert phone.state == "pending"
    assert phone.attempts >= 3
    assert "could not notify ntfy://alice:****@127.0.0.1" in (phone.last_error or "")
    assert SECRET not in repr(await all_rows(db))
    assert logs
    assert SECRET not in repr(logs)


# requests warns (DeprecationWarning) about the token login's empty password; not an error here
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_secrets_never_reach_the_logs(
    db: Database, fake: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Sending to URLs with tokens, failing and succeeding, with every logger at DEBUG: no log
    record (tocsin's structlog events, Apprise's and any library's stdlib records) and no
    stored error holds the token; the row names the contact, never the URL. Apprise itself logs
    a token login (``ntfy://TOKEN@host``) in full at debug level: that record is scrubbed."""
    caplog.set_level(logging.DEBUG)
    fake.script("POST", "/", Reply(500, body="boom"))
    svc = service(db, people_policy(fake))
    await enqueue(db, [notify("phone"), notify("hook"), notify("pager", 2)])
    with structlog.testing.capture_logs() as logs:
        stop = await svc.start()
        try:

            async def delivered() -> bool:
                return all(r.state == "delivered" for r in await all_rows(db))

            await eventually(delivered)
        finally:
            await stop()
    rows = await all_rows(db)
    assert rows[0].attempts == 1  # the 500 was retried once, then delivered
    assert "ntfy://****@127.0.0.1" in caplog.text  # Apprise's record, scrubbed
    assert SECRET not in caplog.text
    assert SECRET not in repr(logs)
    assert all(SECRET not in repr(row.payload) for row in rows)
