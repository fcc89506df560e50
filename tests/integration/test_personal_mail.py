"""A ``mailto:`` contact in someone's notification rule is mailed through the email platform: a
real SMTP server (aiosmtpd on 127.0.0.1), the real delivery workers, durable timers and database,
and a hand-moved clock. An acknowledgement before the mail step stops it; without one the mail
arrives with a working acknowledge link, escaped in its HTML part; without TOCSIN_SMTP_URL the
step is skipped with a warning."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage

import httpx
import pytest
import structlog
from starlette.applications import Starlette
from tests.fakes.delivery_kit import all_rows, eventually, fast
from tests.fakes.smtp_server import SmtpServer

from conftest import Clock
from tocsin.adapters.web.ack import ack_routes
from tocsin.config import Settings, load_settings
from tocsin.delivery.service import DeliveryService
from tocsin.delivery.timers import TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.domain.commands import parse
from tocsin.domain.model import Actor
from tocsin.domain.policy import Policy
from tocsin.domain.policy_file import parse_policy
from tocsin.platforms.email.sender import build_email_sender
from tocsin.services.ack_tokens import ack_secret
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.services.paging import paging_timer_handlers
from tocsin.storage.db import Database

ALICE, BOB = "slack:U0ALICE", "slack:U0BOB"
ADDRESS = "alice@example.test"
PUBLIC = "https://tocsin.test"
CAROL = Actor("slack", "U0CAROL", "carol")
POLICY: Policy = parse_policy(
    {
        "escalation": [{"name": "default", "levels": [[ALICE, BOB]], "escalate_after_minutes": 60}],
        "person": [
            {
                "id": ALICE,
                "name": "Alice",
                "contacts": {"phone": "ntfy://127.0.0.1:9/alice", "mail": f"mailto:{ADDRESS}"},
                "urgent_rule": ["slack", "phone after 5m", "mail after 10m"],
            }
        ],
    }
)
ACK_LINK = re.compile(r"https://tocsin\.test(/ack/[\w.-]+)")


def settings_for(smtp: SmtpServer | None) -> Settings:
    values = {"TOCSIN_SECRET_KEY": "s" * 40, "TOCSIN_PUBLIC_URL": PUBLIC}
    if smtp is not None:
        values |= {"TOCSIN_SMTP_URL": smtp.url(), "TOCSIN_SMTP_FROM": "tocsin <t@example.test>"}
    return load_settings(values, env_file=None)


@dataclass
class Rig:
    ctx: Context
    timers: TimerRunner
    smtp: SmtpServer
    settings: Settings

    async def step(self, clock: Clock, **delta: float) -> None:
        """Move the clock and fire what is due."""
        clock.advance(**delta)
        await self.timers.fire_due()


def runner(settings: Settings, ctx: Context, clock: Clock) -> TimerRunner:
    handlers = paging_timer_handlers(settings, ctx)
    return TimerRunner(ctx.db, handlers, Wakeup(), worker_id="w1", clock=clock)


@pytest.fixture
async def rig(db: Database, clock: Clock) -> AsyncIterator[Rig]:
    ctx = Context(db=db, policy=POLICY, clock=clock, destinations={"slack"}, public_url=PUBLIC)
    with SmtpServer() as smtp:
        settings = settings_for(smtp)
        sender = build_email_sender(settings)
        assert sender is not None
        service = DeliveryService(db, {"email": sender}, config=fast(clock=clock))
        ctx.on_commit.append(service.wake)
        await service.start()
        try:
            yield Rig(ctx, runner(settings, ctx, clock), smtp, settings)
        finally:
            await service.stop()


async def declare(ctx: Context, title: str = "Checkout is down") -> None:
    await execute(ctx, CAROL, parse(f"declare {title} P1"))


async def mails(rig: Rig) -> list[EmailMessage]:
    async def arrived() -> bool:
        return bool(rig.smtp.mailbox.to(ADDRESS))

    await eventually(arrived)
    return rig.smtp.mailbox.to(ADDRESS)


def part(message: EmailMessage, kind: str) -> str:
    body = message.get_body((kind,))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


async def test_an_ack_after_the_second_step_stops_the_mail(rig: Rig, clock: Clock) -> None:
    """Slack DM at once, ntfy at 5 minutes, Bob acknowledges at 7: the mail step due at 10
    minutes queues nothing and no mail reaches the server."""
    await declare(rig.ctx)
    await rig.timers.fire_due()
    await rig.step(clock, minutes=5)
    assert [r.destination for r in await all_rows(rig.ctx.db) if r.kind == "notify"] == [
        "apprise:ntfy"
    ]
    clock.advance(minutes=2)
    await execute(rig.ctx, Actor("slack", "U0BOB", "bob"), parse("ack INC-1"))
    await rig.step(clock, minutes=10)
    assert [r for r in await all_rows(rig.ctx.db) if r.destination == "email"] == []
    assert rig.smtp.mailbox.messages == []


async def test_without_an_ack_the_mail_arrives_with_a_working_link(rig: Rig, clock: Clock) -> None:
    """Unacknowledged, the mail goes out at 10 minutes (not before): subject and text name the
    incident, the HTML part escapes the title, and the acknowledge link in it shows a
    confirmation on GET and acknowledges as Alice on POST."""
    await declare(rig.ctx, "Checkout <b>down</b> & out")
    await rig.timers.fire_due()
    await rig.step(clock, minutes=9, seconds=59)
    assert [r for r in await all_rows(rig.ctx.db) if r.destination == "email"] == []
    await rig.step(clock, seconds=1)
    [mail] = await mails(rig)
    assert str(mail["Subject"]).startswith("INC-1 (P1): Checkout <b>down</b> & out")
    text, html = part(mail, "plain"), part(mail, "html")
    assert "Acknowledge: https://tocsin.test/ack/" in text
    assert "Checkout &lt;b&gt;down&lt;/b&gt; &amp; out" in html
    assert "<b>down</b>" not in html
    [path] = ACK_LINK.findall(text)
    assert f'href="{PUBLIC}{path}"' in html
    app = Starlette(routes=ack_routes(rig.ctx, ack_secret(rig.settings)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
        confirm = await client.get(path)
        assert confirm.status_code == 200
        assert "method=post" in confirm.text
        shown = await execute(rig.ctx, CAROL, parse("show INC-1"))
        assert shown.incident is not None
        assert shown.incident.acknowledged_at is None
        done = await client.post(path)
        assert done.status_code == 200, done.text
    shown = await execute(rig.ctx, CAROL, parse("show INC-1"))
    assert shown.incident is not None
    assert shown.incident.acknowledged_at == clock.now
    assert any(e.kind.value == "acknowledged" and e.actor.key == ALICE for e in shown.timeline)


async def test_without_smtp_the_mail_step_is_skipped_with_a_warning(
    db: Database, clock: Clock
) -> None:
    """No TOCSIN_SMTP_URL: at 10 minutes no email row is queued and a warning names the person
    and the contact, never the address."""
    ctx = Context(db=db, policy=POLICY, clock=clock, destinations={"slack"}, public_url=PUBLIC)
    timers = runner(settings_for(None), ctx, clock)
    await declare(ctx)
    await timers.fire_due()
    with structlog.testing.capture_logs() as logs:
        clock.advance(minutes=10)
        await timers.fire_due()
    assert [r for r in await all_rows(db) if r.destination == "email"] == []
    skipped = [e for e in logs if e["event"].startswith("mail step skipped")]
    assert [(e["person"], e["contact"]) for e in skipped] == [(ALICE, "mail")]
    assert ADDRESS not in repr(logs)
