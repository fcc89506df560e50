"""Status-page subscribers end to end: the real app, the real database, the real delivery
workers, a real SMTP server (aiosmtpd on 127.0.0.1) and a webhook receiver on loopback.

Subscribe → confirmation mail → its link (a plain GET) → a public incident update mailed with a
working unsubscribe link; the same answer for known and unknown addresses; the rate limit per
client IP; a 550 refusal marking the address bounced while a 451 is retried; signed webhooks in
Statuspage's shape; a component filter."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage

import httpx
import pytest
from tests.fakes.delivery_kit import all_rows, eventually, fast
from tests.fakes.http_fake import FakeServer, Reply
from tests.fakes.smtp_server import SmtpServer

from tocsin.adapters.web.api.ratelimit import MemoryLimiter
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.adapters.web.status import build_cache, page_info, subscribe
from tocsin.adapters.web.status.routes import public_routes
from tocsin.app import wire_subscribers
from tocsin.config import load_settings
from tocsin.delivery.service import DeliveryService
from tocsin.delivery.timers import TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Severity
from tocsin.domain.policy import default_policy
from tocsin.observability.metrics import create_metrics
from tocsin.platforms.registry import build_senders
from tocsin.platforms.webhook.subscribers import body_signature
from tocsin.services import subscribers
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.services.public_status_page import ComponentChange, save_component
from tocsin.services.subscriber_notices import register_fanout
from tocsin.storage.db import Database
from tocsin.storage.outbox import OutboxRow

ALICE = Actor("slack", "U0ALICE", "alice")
ROOT = Actor("cli", "root", "root")
PUBLIC = "http://tocsin.test"
LINK = re.compile(r"http://tocsin\.test(/status/subscriptions/(?:confirm|unsubscribe)/[\w-]+)")


@dataclass
class Rig:
    http: httpx.AsyncClient
    smtp: SmtpServer
    ctx: Context


def settings_for(smtp: SmtpServer, userinfo: str = "") -> object:
    return load_settings(
        {
            "TOCSIN_SMTP_URL": smtp.url(userinfo),
            "TOCSIN_SMTP_FROM": "Status <status@example.test>",
            "TOCSIN_SECRET_KEY": "s" * 40,
            "TOCSIN_PUBLIC_URL": PUBLIC,
        },
        env_file=None,
    )


@pytest.fixture
async def rig(db: Database) -> AsyncIterator[Rig]:
    # The real clock: the delivery workers judge a row's age against it.
    ctx = Context(db=db, policy=default_policy(), public_url=PUBLIC)
    with SmtpServer() as smtp:
        settings = settings_for(smtp)
        senders = build_senders(settings, ctx.policy)  # type: ignore[arg-type]
        wire_subscribers(settings, ctx, senders)  # type: ignore[arg-type]
        fanout = register_fanout(TimerHandlers())
        service = DeliveryService(ctx.db, senders, config=fast(), timer_handlers=fanout)
        ctx.on_commit.append(service.wake)
        metrics = create_metrics(process=False)
        cache = build_cache(ctx, page_info(PUBLIC), b"k" * 32, metrics)
        routes = [*public_routes(cache), *subscribe.routes(ctx, MemoryLimiter(capacity=5))]
        app = create_app(ctx, metrics, Runtime(), routes=routes)
        await service.start()
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as http:
                yield Rig(http, smtp, ctx)
        finally:
            await service.stop()


async def mails_to(rig: Rig, address: str, count: int) -> list[EmailMessage]:
    async def arrived() -> bool:
        return len(rig.smtp.mailbox.to(address)) >= count

    await eventually(arrived)
    return rig.smtp.mailbox.to(address)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def link(message: EmailMessage, kind: str) -> str:
    paths = [p for p in LINK.findall(text_of(message)) if f"/{kind}/" in p]
    assert paths, text_of(message)
    return paths[0]


async def declare_p1(ctx: Context, title: str = "Checkout is failing") -> None:
    await execute(ctx, ALICE, Command("declare", text=title, severity=Severity.P1))


async def state_of(ctx: Context, address: str) -> str:
    rows = await subscribers.list_subscribers(ctx, ROOT)
    return next(s.state for s in rows if s.address == address)


async def test_subscribe_confirm_notice_and_unsubscribe(rig: Rig) -> None:
    """A subscriber gets a confirmation mail whose link (a plain GET) confirms; then a public
    incident update reaches them as text and escaped HTML with an unsubscribe link and the
    List-Unsubscribe header; the link unsubscribes, and later updates queue nothing for them."""
    answer = await rig.http.post("/status/subscribe", data={"email": "Ann@Example.TEST"})
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    (confirmation,) = await mails_to(rig, "Ann@example.test", 1)
    assert confirmation["Subject"].startswith("Confirm your subscription")
    await declare_p1(rig.ctx)  # not confirmed yet: nothing for Ann
    confirmed = await rig.http.get(link(confirmation, "confirm"))
    assert confirmed.status_code == 200
    assert "Subscribed" in confirmed.text
    await execute(rig.ctx, ALICE, Command("update", incident=1, text="Failing over <db-2>"))
    mails = await mails_to(rig, "Ann@example.test", 2)
    notice = mails[1]
    assert "Checkout is failing" in notice["Subject"]
    assert "Failing over <db-2>" in text_of(notice)
    html = notice.get_body(("html",))
    assert html is not None
    assert "Failing over &lt;db-2&gt;" in str(html.get_content())
    unsubscribe_path = link(notice, "unsubscribe")
    assert notice["List-Unsubscribe"] == f"<{PUBLIC}{unsubscribe_path}>"
    gone = await rig.http.get(unsubscribe_path)
    assert gone.status_code == 200
    assert "Unsubscribed" in gone.text
    assert await state_of(rig.ctx, "Ann@example.test") == "unsubscribed"
    await execute(rig.ctx, ALICE, Command("update", incident=1, text="Recovered"))
    rows = [r for r in await all_rows(rig.ctx.db) if r.destination == "email"]
    assert len(rows) == 2  # the confirmation and the one notice


async def test_the_same_answer_for_known_and_unknown_addresses(rig: Rig) -> None:
    """Subscribing a confirmed address, a pending one and a new one answers the same page, and
    a confirmed address gets no second mail."""
    await subscribers.add_subscriber(rig.ctx, ROOT, "known@example.test")
    answers = [
        await rig.http.post("/status/subscribe", data={"email": address})
        for address in ("known@example.test", "new@example.test", "new@example.test")
    ]
    assert {(a.status_code, a.text) for a in answers} == {(answers[0].status_code, answers[0].text)}
    await mails_to(rig, "new@example.test", 2)  # a new link each time it is not confirmed
    assert rig.smtp.mailbox.to("known@example.test") == []


async def test_subscriptions_are_rate_limited_per_client(rig: Rig) -> None:
    """Five subscriptions from one client pass, the sixth gets 429 with Retry-After and queues
    no mail."""
    for n in range(5):
        ok = await rig.http.post("/status/subscribe", data={"email": f"u{n}@example.test"})
        assert ok.status_code == 200
    refused = await rig.http.post("/status/subscribe", data={"email": "u5@example.test"})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    addresses = {s.address for s in await subscribers.list_subscribers(rig.ctx, ROOT)}
    assert "u5@example.test" not in addresses


async def test_bad_input_is_a_clear_400_or_413(rig: Rig) -> None:
    """A malformed address answers 400 naming the field, a huge body 413; nothing is stored."""
    bad = await rig.http.post("/status/subscribe", data={"email": "not an address"})
    assert bad.status_code == 400
    assert "email" in bad.text
    huge = await rig.http.post("/status/subscribe", data={"email": "a@b.test" + "x" * 10_000})
    assert huge.status_code == 413
    unknown = await rig.http.post(
        "/status/subscribe", data={"email": "c@example.test", "component": "Nope"}
    )
    assert unknown.status_code == 400
    assert "component" in unknown.text
    assert await subscribers.list_subscribers(rig.ctx, ROOT) == []
    assert (await rig.http.get("/status/subscriptions/confirm/forged")).status_code == 404


async def test_a_550_marks_the_address_bounced_and_a_451_is_retried(rig: Rig) -> None:
    """The server's 550 for one address makes its row dead and the subscriber bounced; a 451
    for another is retried until the server takes it."""
    rig.smtp.mailbox.refuse["gone@example.test"] = "550 5.1.1 No such user"
    rig.smtp.mailbox.refuse["later@example.test"] = "451 4.7.1 Try again later"
    for address in ("gone@example.test", "later@example.test"):
        await subscribers.add_subscriber(rig.ctx, ROOT, address)
    await declare_p1(rig.ctx)

    async def rows() -> dict[str, OutboxRow]:
        return {r.payload["mail"]["to"]: r for r in await all_rows(rig.ctx.db)}

    async def dead() -> bool:  # once the fan-out has queued it
        row = (await rows()).get("gone@example.test")
        return row is not None and row.state == "dead"

    await eventually(dead)  # the refusal is recorded before the row is marked dead
    assert await state_of(rig.ctx, "gone@example.test") == "bounced"
    assert "550" in ((await rows())["gone@example.test"].last_error or "")

    async def retried() -> bool:
        return (await rows())["later@example.test"].attempts >= 2

    await eventually(retried)
    del rig.smtp.mailbox.refuse["later@example.test"]
    await mails_to(rig, "later@example.test", 1)
    assert await state_of(rig.ctx, "later@example.test") == "confirmed"


async def test_webhook_subscribers_get_signed_statuspage_shaped_posts(rig: Rig) -> None:
    """A webhook subscriber receives each public change as JSON signed with the secret shown at
    creation (HMAC-SHA256 of the body), shaped like Statuspage's subscriber webhooks."""
    with FakeServer() as receiver:
        receiver.route("POST", "/hook", Reply(204))
        added = await subscribers.add_subscriber(rig.ctx, ROOT, receiver.url + "/hook")
        assert added.secret
        await declare_p1(rig.ctx, "Search is slow")
        await save_component(rig.ctx, ROOT, "API", ComponentChange(status="partial_outage"))

        async def two() -> bool:
            return len(receiver.requests) >= 2

        await eventually(two)
        for request in receiver.requests:
            signature = request.headers["x-tocsin-signature"]
            assert signature == body_signature(added.secret, request.body)
            assert signature != body_signature("wrong", request.body)
        incident, component = (r.json() for r in receiver.requests)
        assert set(incident) == {"meta", "page", "incident"}
        assert incident["incident"]["name"] == "Search is slow"
        assert incident["incident"]["incident_updates"][0]["body"]
        assert incident["meta"]["unsubscribe"].startswith(f"{PUBLIC}/status/subscriptions/")
        assert component["component"]["name"] == "API"
        assert component["component_update"]["new_status"] == "partial_outage"


async def test_component_filter(rig: Rig) -> None:
    """A subscriber limited to one component hears of that component's changes, not another's."""
    for name in ("API", "Payments"):
        await save_component(rig.ctx, ROOT, name, ComponentChange(description=name))
    await subscribers.add_subscriber(rig.ctx, ROOT, "api@example.test", ["api"])
    await save_component(rig.ctx, ROOT, "Payments", ComponentChange(status="major_outage"))
    await save_component(rig.ctx, ROOT, "API", ComponentChange(status="degraded_performance"))
    (mail,) = await mails_to(rig, "api@example.test", 1)
    assert "API" in mail["Subject"]
    rows = [r for r in await all_rows(rig.ctx.db) if r.destination == "email"]
    assert len(rows) == 1


async def test_the_page_offers_the_form_and_its_csp_lets_it_post_here(rig: Rig) -> None:
    """/status has the subscribe form (one checkbox per component) posting to /status/subscribe,
    and its Content-Security-Policy allows forms to post to this origin only."""
    await save_component(rig.ctx, ROOT, "API", ComponentChange(description="The API"))
    page = await rig.http.get("/status")
    assert '<form method="post" action="/status/subscribe">' in page.text
    assert 'name="component" value="API"' in page.text
    assert "form-action 'self'" in page.headers["content-security-policy"]


async def test_a_notice_queued_before_an_unsubscribe_is_not_sent(db: Database) -> None:
    """The email sender asks the subscribers' service just before sending: a row queued while
    the subscriber was confirmed is skipped (delivered, nothing sent) once they unsubscribed."""
    ctx = Context(db=db, policy=default_policy(), public_url=PUBLIC)
    with SmtpServer() as smtp:
        settings = settings_for(smtp)
        senders = build_senders(settings, ctx.policy)  # type: ignore[arg-type]
        wire_subscribers(settings, ctx, senders)  # type: ignore[arg-type]
        added = await subscribers.add_subscriber(ctx, ROOT, "leaver@example.test")
        await declare_p1(ctx)  # queued now; no delivery worker runs yet
        fanout = register_fanout(TimerHandlers())
        assert await TimerRunner(db, fanout, Wakeup(), worker_id="t").fire_due() == 1
        (queued,) = [r for r in await all_rows(db) if r.destination == "email"]
        token = queued.payload["mail"]["text"].rsplit("/", 1)[-1].strip()
        assert await subscribers.unsubscribe(ctx, token)
        service = DeliveryService(db, senders, config=fast())
        await service.start()
        try:

            async def done() -> bool:
                return (await all_rows(db))[0].state == "delivered"

            await eventually(done)
        finally:
            await service.stop()
    assert smtp.mailbox.messages == []
    assert await state_of(ctx, added.subscriber.address) == "unsubscribed"


async def test_without_smtp_there_is_no_form_and_no_subscribing(ctx: Context) -> None:
    """A page built without email has no form and POST /status/subscribe is not served, but
    the links of mails sent earlier still answer."""
    cache = build_cache(ctx, page_info(PUBLIC), b"k" * 32, subscribe=False)
    routes = [*public_routes(cache), *subscribe.routes(ctx, MemoryLimiter(), email=False)]
    app = create_app(ctx, create_metrics(process=False), Runtime(), routes=routes)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as http:
        page = await http.get("/status")
        assert page.status_code == 200
        assert "/status/subscribe" not in page.text
        refused = await http.post("/status/subscribe", data={"email": "a@example.test"})
        assert refused.status_code in (404, 405)
        old_link = await http.get("/status/subscriptions/unsubscribe/old")
        assert "This unsubscribe link is unknown" in old_link.text
    assert await subscribers.list_subscribers(ctx, ROOT) == []
