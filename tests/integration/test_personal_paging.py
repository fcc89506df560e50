"""People with a ``[[person]]`` entry are paged by their own notification rule, through the real
services, durable timers and database, with a hand-moved clock: each step an outbox row at its
delay, an acknowledgement half-way stops the rest, someone without an entry is paged as before,
the acknowledge link in a notification without buttons works once, after a confirmation, and
the API lists people with their contacts masked."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from conftest import Clock
from tocsin.adapters.web.ack import ack_routes
from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.delivery.timers import TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.domain.commands import parse
from tocsin.domain.model import Actor
from tocsin.domain.policy import Policy
from tocsin.domain.policy_file import parse_policy
from tocsin.observability.metrics import create_metrics
from tocsin.services.access.tokens import create_token
from tocsin.services.ack_links import acknowledge_by_link
from tocsin.services.ack_tokens import AckLinkError
from tocsin.services.context import Context, Outcome
from tocsin.services.dispatch import execute
from tocsin.services.paging import Paging, PagingConfig
from tocsin.storage.db import Database
from tocsin.storage.outbox import OutboxRow, OutboxStore

ALICE, BOB = "slack:U0ALICE", "slack:U0BOB"
ALICE_DISCORD = "discord:700000000000000005"
SECRET = "ack-link-secret-for-tests-0123456789"
PUBLIC = "https://tocsin.test"
POLICY: Policy = parse_policy(
    {
        "escalation": [{"name": "default", "levels": [[ALICE, BOB]], "escalate_after_minutes": 60}],
        "person": [
            {
                "id": ALICE,
                "also": [ALICE_DISCORD],
                "name": "Alice",
                "contacts": {
                    "phone": "ntfy://127.0.0.1:9/alice",
                    "hook": "json://127.0.0.1:9/alice",
                },
                "urgent_rule": ["slack", "phone after 5m", "hook after 10m"],
                "default_rule": ["discord"],
            }
        ],
    }
)
DESTINATIONS = frozenset({"slack", "discord"})


def context(db: Database, clock: Clock) -> Context:
    return Context(db=db, policy=POLICY, clock=clock, destinations=DESTINATIONS, public_url=PUBLIC)


def runner(db: Database, clock: Clock) -> TimerRunner:
    config = PagingConfig(POLICY, DESTINATIONS, PUBLIC, ack_secret=SECRET)
    handlers = Paging(config).register(TimerHandlers())
    return TimerRunner(db, handlers, Wakeup(), worker_id="w1", clock=clock)


async def run(ctx: Context, text: str, actor: Actor) -> Outcome:
    return await execute(ctx, actor, parse(text))


async def pages(db: Database) -> list[OutboxRow]:
    """Every page sent, in order: DMs and notifications (not channel posts)."""
    async with db.engine.connect() as conn:
        found = await OutboxStore(conn).rows(limit=100000)
    return sorted((r for r in found if r.kind in ("page_dm", "notify")), key=lambda r: r.id)


def who(row: OutboxRow) -> str:
    if row.kind == "page_dm":
        return f"dm {row.payload['person']['platform']}:{row.payload['person']['user_id']}"
    return f"{row.destination} {row.payload['contact']}"


async def test_rule_steps_follow_their_delays_and_an_ack_stops_the_rest(
    db: Database, clock: Clock
) -> None:
    """P1 (urgent): Alice's step 1 (Slack DM) goes with the page, Bob (no entry) gets the usual
    DM; step 2 (ntfy) 5 minutes later, not before; after Bob acknowledges, step 3 (the JSON
    webhook, due at 10 minutes) is never sent."""
    ctx, timers = context(db, clock), runner(db, clock)
    await run(ctx, "declare Checkout is down P1", Actor("slack", "U0CAROL", "carol"))
    await timers.fire_due()
    assert [who(r) for r in await pages(db)] == [f"dm {BOB}", f"dm {ALICE}"]
    clock.advance(minutes=4, seconds=59)
    await timers.fire_due()
    assert len(await pages(db)) == 2
    clock.advance(seconds=1)
    await timers.fire_due()
    sent = await pages(db)
    assert [who(r) for r in sent][2:] == ["apprise:ntfy phone"]
    phone = sent[2].payload
    assert phone["person"] == ALICE
    assert "ntfy://" not in repr(phone)
    assert phone["title"].startswith("INC-1 (P1): Checkout is down")
    assert f"Acknowledge: {PUBLIC}/ack/" in phone["body"]
    clock.advance(minutes=2)
    await run(ctx, "ack INC-1", Actor("slack", "U0BOB", "bob"))
    clock.advance(minutes=10)
    await timers.fire_due()
    assert [who(r) for r in await pages(db)] == [
        f"dm {BOB}",
        f"dm {ALICE}",
        "apprise:ntfy phone",
    ]


async def test_without_an_ack_every_step_is_sent_once(db: Database, clock: Clock) -> None:
    """Unacknowledged, the three steps go out at 0, 5 and 10 minutes, each once, even when the
    timers are fired again later."""
    ctx, timers = context(db, clock), runner(db, clock)
    await run(ctx, "declare Checkout is down P1", Actor("slack", "U0CAROL", "carol"))
    for _ in range(3):
        await timers.fire_due()
        clock.advance(minutes=5)
    await timers.fire_due()
    alice = [who(r) for r in await pages(db) if who(r) != f"dm {BOB}"]
    assert alice == [f"dm {ALICE}", "apprise:ntfy phone", "apprise:json hook"]


async def test_a_non_urgent_page_follows_the_default_rule(db: Database, clock: Clock) -> None:
    """P3 with paging switched on follows ``default_rule``: a Discord DM to Alice's ``also``
    id, not the Slack one."""
    policy = parse_policy({**_raw_with_p3_paging()})
    ctx = Context(db=db, policy=policy, clock=clock, destinations=DESTINATIONS)
    handlers = Paging(PagingConfig(policy, DESTINATIONS)).register(TimerHandlers())
    timers = TimerRunner(db, handlers, Wakeup(), worker_id="w1", clock=clock)
    await run(ctx, "declare Slow search P3", Actor("slack", "U0CAROL", "carol"))
    await timers.fire_due()
    assert [who(r) for r in await pages(db)] == [f"dm {BOB}", f"dm {ALICE_DISCORD}"]


def _raw_with_p3_paging() -> dict[str, object]:
    person = {
        "id": ALICE,
        "also": [ALICE_DISCORD],
        "urgent_rule": ["slack"],
        "default_rule": ["discord"],
    }
    return {
        "escalation": [{"name": "default", "levels": [[ALICE, BOB]]}],
        "person": [person],
        "severity": {"P3": {"page": True}},
    }


async def _link(db: Database, clock: Clock, ctx: Context) -> str:
    """Declare a P1, let the ntfy step go out, and return the token of its acknowledge link."""
    timers = runner(db, clock)
    await run(ctx, "declare Checkout is down P1", Actor("slack", "U0CAROL", "carol"))
    await timers.fire_due()
    clock.advance(minutes=5)
    await timers.fire_due()
    body = next(r for r in await pages(db) if r.kind == "notify").payload["body"]
    return str(body.split(f"{PUBLIC}/ack/", 1)[1].split()[0])


async def test_an_ack_link_acknowledges_once_as_its_person(db: Database, clock: Clock) -> None:
    """The link acknowledges the incident as Alice (the ack command's path: timeline, paging
    stopped); used again it is refused; an altered token is refused and changes nothing."""
    ctx = context(db, clock)
    token = await _link(db, clock, ctx)
    with pytest.raises(AckLinkError, match="not valid"):
        await acknowledge_by_link(ctx, SECRET, token[:-2] + "xx")
    outcome = await acknowledge_by_link(ctx, SECRET, token)
    assert outcome.incident is not None
    assert outcome.incident.acknowledged_at == clock.now
    shown = await run(ctx, "show INC-1", Actor("slack", "U0CAROL", "carol"))
    assert any(e.kind.value == "acknowledged" and e.actor.key == ALICE for e in shown.timeline)
    with pytest.raises(AckLinkError, match="already used"):
        await acknowledge_by_link(ctx, SECRET, token)


async def test_an_ack_link_expires(db: Database, clock: Clock) -> None:
    """A day later the link is refused and the incident stays unacknowledged."""
    ctx = context(db, clock)
    token = await _link(db, clock, ctx)
    clock.advance(hours=24)
    with pytest.raises(AckLinkError, match="expired"):
        await acknowledge_by_link(ctx, SECRET, token)
    shown = await run(ctx, "show INC-1", Actor("slack", "U0CAROL", "carol"))
    assert shown.incident is not None
    assert shown.incident.acknowledged_at is None


async def test_the_ack_page_confirms_on_get_and_acknowledges_on_post(
    db: Database, clock: Clock
) -> None:
    """GET /ack/<token> (what a link-preview bot does) shows a confirmation and acknowledges
    nothing; POST acknowledges; a second POST gets 410; a forged token gets 400."""
    ctx = context(db, clock)
    token = await _link(db, clock, ctx)
    app = Starlette(routes=ack_routes(ctx, SECRET))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
        page = await client.get(f"/ack/{token}")
        assert page.status_code == 200
        assert "method=post" in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        shown = await run(ctx, "show INC-1", Actor("slack", "U0CAROL", "carol"))
        assert shown.incident is not None
        assert shown.incident.acknowledged_at is None
        done = await client.post(f"/ack/{token}")
        assert done.status_code == 200
        assert "Acknowledged" in done.text
        again = await client.post(f"/ack/{token}")
        assert again.status_code == 410
        forged = await client.get("/ack/bm90LWEtdG9rZW4.c2ln")
        assert forged.status_code == 400
    shown = await run(ctx, "show INC-1", Actor("slack", "U0CAROL", "carol"))
    assert shown.incident is not None
    assert shown.incident.acknowledged_at is not None


async def test_the_api_lists_people_with_their_contacts_masked(db: Database, clock: Clock) -> None:
    """GET /api/v1/people (a read token) shows each person, their rules as written and their
    contacts masked: a token in a contact URL is never shown back; without a token, 401."""
    policy = parse_policy(
        {
            "person": [
                {
                    "id": ALICE,
                    "contacts": {"phone": "ntfy://alice:hunter2pass@ntfy.example.com/alerts"},
                    "urgent_rule": ["slack", "phone after 5m"],
                }
            ]
        }
    )
    ctx = Context(db=db, policy=policy, clock=clock)
    _, secret = await create_token(ctx, Actor("cli", "root", "root"), "reader", "read")
    routes = access_routes(ctx, secret="k" * 40, secure_cookies=False)
    app = create_app(ctx, create_metrics(process=False), Runtime(), routes=routes)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
        assert (await client.get("/api/v1/people")).status_code == 401
        answer = await client.get("/api/v1/people", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200
    assert answer.json()["items"] == [
        {
            "id": ALICE,
            "also": [],
            "name": ALICE,
            "timezone": "UTC",
            "contacts": {"phone": "ntfy://alice:****@ntfy.example.com/alerts"},
            "default_rule": ["slack"],
            "urgent_rule": ["slack", "phone after 5m"],
        }
    ]
    assert "hunter2pass" not in answer.text


async def test_an_ack_link_to_a_resolved_incident_is_a_clear_refusal(
    db: Database, clock: Clock
) -> None:
    """The incident was resolved before the link was used: POST answers 409 with the reason,
    not a server error, and the incident stays resolved."""
    ctx = context(db, clock)
    token = await _link(db, clock, ctx)
    await run(ctx, "resolve INC-1", Actor("slack", "U0CAROL", "carol"))
    app = Starlette(routes=ack_routes(ctx, SECRET))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
        done = await client.post(f"/ack/{token}")
    assert done.status_code == 409, done.text
    assert "Cannot acknowledge" in done.text
    shown = await run(ctx, "show INC-1", Actor("slack", "U0CAROL", "carol"))
    assert shown.incident is not None
    assert shown.incident.resolved_at is not None
