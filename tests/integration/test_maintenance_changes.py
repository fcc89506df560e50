"""Edits and cancels of a scheduled maintenance are told, end to end: the real database, the
real delivery workers and senders, the Slack and Discord fakes (which check every call against
the platforms' OpenAPI descriptions), a real SMTP server (aiosmtpd on 127.0.0.1) and a webhook
receiver on loopback.

A moved window is one message in each announce channel, one mail and one signed webhook with the
new window; a cancel likewise; an edit of the description alone (or one that changes nothing)
tells nobody; a change of components is told to the subscribers of the old components too."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from email.message import EmailMessage
from typing import Any

import pytest
from tests.fakes.delivery_kit import all_rows, eventually, fast
from tests.fakes.http_fake import FakeServer, Reply, Request
from tests.fakes.smtp_server import SmtpServer

from fakes.discord_api import ANNOUNCE, BOT_TOKEN, GUILD_ID, FakeDiscord
from fakes.slack_api import BOT_TOKEN as SLACK_TOKEN
from fakes.slack_api import FakeSlack
from tocsin.app import enabled_destinations, wire_subscribers
from tocsin.config import Settings, load_settings
from tocsin.delivery.service import DeliveryService
from tocsin.delivery.timers import TimerHandlers
from tocsin.domain.maintenance import Maintenance, window_text
from tocsin.domain.model import Actor
from tocsin.domain.policy import Component, default_policy
from tocsin.domain.status_json import stamp
from tocsin.platforms.registry import build_senders
from tocsin.platforms.webhook.subscribers import body_signature
from tocsin.services import maintenance as service
from tocsin.services import subscribers
from tocsin.services.context import Context
from tocsin.services.subscriber_notices import register_fanout
from tocsin.storage.db import Database

ROOT = Actor("cli", "root", "root")
PUBLIC = "http://tocsin.test"
POLICY = replace(default_policy(), components=(Component("API"), Component("Payments")))
ANN, PAY = "ann@example.test", "pay@example.test"


@dataclass
class Rig:
    ctx: Context
    slack: FakeSlack
    channel: str
    discord: FakeDiscord
    smtp: SmtpServer
    hook: FakeServer
    secret: str

    def chat(self) -> list[list[dict[str, Any]]]:
        return [self.slack.messages.get(self.channel, []), self.discord.messages_in(ANNOUNCE)]

    def mails(self, address: str = ANN) -> list[EmailMessage]:
        return self.smtp.mailbox.to(address)

    def posts(self) -> list[Request]:
        return self.hook.requests_to("/hook")

    async def told(self, count: int) -> None:
        """Wait until each channel, Ann's mailbox and the webhook have ``count`` messages."""

        async def arrived() -> bool:
            sizes = [len(m) for m in self.chat()] + [len(self.mails()), len(self.posts())]
            return min(sizes) >= count

        await eventually(arrived)
        assert [len(m) for m in self.chat()] == [count, count]
        assert (len(self.mails()), len(self.posts())) == (count, count)


def settings_for(
    smtp: SmtpServer, slack: FakeSlack, channel: str, discord: FakeDiscord
) -> Settings:
    return load_settings(
        {
            "TOCSIN_SMTP_URL": smtp.url(),
            "TOCSIN_SMTP_FROM": "Status <status@example.test>",
            "TOCSIN_SECRET_KEY": "s" * 40,
            "TOCSIN_PUBLIC_URL": PUBLIC,
            "TOCSIN_SLACK_SIGNING_SECRET": "x" * 32,
            "TOCSIN_SLACK_BOT_TOKEN": SLACK_TOKEN,
            "TOCSIN_SLACK_API_URL": slack.api_url,
            "TOCSIN_SLACK_ANNOUNCE_CHANNEL": channel,
            "TOCSIN_DISCORD_PUBLIC_KEY": "0" * 64,
            "TOCSIN_DISCORD_BOT_TOKEN": BOT_TOKEN,
            "TOCSIN_DISCORD_APPLICATION_ID": "1",
            "TOCSIN_DISCORD_GUILD_ID": GUILD_ID,
            "TOCSIN_DISCORD_ANNOUNCE_CHANNEL": ANNOUNCE,
            "TOCSIN_DISCORD_API_URL": discord.api_url,
        },
        env_file=None,
    )


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, FakeDiscord, SmtpServer, FakeServer]]:
    with FakeSlack() as slack, FakeDiscord() as discord, SmtpServer() as smtp, FakeServer() as hook:
        hook.route("POST", "/hook", Reply(204))
        yield slack, discord, smtp, hook
        assert slack.violations == []
        assert discord.violations == []


@pytest.fixture
async def rig(
    db: Database, fakes: tuple[FakeSlack, FakeDiscord, SmtpServer, FakeServer]
) -> AsyncIterator[Rig]:
    slack, discord, smtp, hook = fakes
    channel = slack.add_channel("incidents")
    settings = settings_for(smtp, slack, channel, discord)
    # The real clock: the delivery workers judge a row's age against it.
    ctx = Context(db=db, policy=POLICY, destinations=enabled_destinations(settings),
                  public_url=PUBLIC)  # fmt: skip
    assert {"slack", "discord"} <= ctx.destinations
    senders = build_senders(settings, ctx.policy, enabled=ctx.destinations)
    wire_subscribers(settings, ctx, senders)
    fanout = register_fanout(TimerHandlers())
    delivery = DeliveryService(ctx.db, senders, config=fast(), timer_handlers=fanout)
    ctx.on_commit.append(delivery.wake)
    await subscribers.add_subscriber(ctx, ROOT, ANN)
    added = await subscribers.add_subscriber(ctx, ROOT, hook.url + "/hook")
    assert added.secret
    await delivery.start()
    try:
        yield Rig(ctx, slack, channel, discord, smtp, hook, added.secret)
    finally:
        await delivery.stop()


def plain(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def utc(m: Maintenance) -> str:
    """The window as the chat messages show it."""
    return f"{m.starts_at:%a %Y-%m-%d %H:%M} UTC to {m.ends_at:%a %Y-%m-%d %H:%M} UTC"


async def scheduled(rig: Rig, components: list[str] | None = None) -> Maintenance:
    made = await service.create(rig.ctx, ROOT, "DB <upgrade>", "+1h", "+2h",
                                components or ["API"], "Writes pause.")  # fmt: skip
    await rig.told(1)
    return made


async def test_a_moved_window_is_told_once_to_each_with_the_new_window(rig: Rig) -> None:
    """Moving the window: one "Maintenance rescheduled" message in the Slack and the Discord
    announce channel with the new window and the old one; one mail (subject "Rescheduled", the
    new and the old window, escaped HTML, the unsubscribe link); one signed webhook, a
    Statuspage scheduled maintenance with the new window."""
    made = await scheduled(rig)
    moved = await service.edit(rig.ctx, ROOT, made.id,
                               service.MaintenanceChange(start="+3h", end="+5h"))  # fmt: skip
    await rig.told(2)
    for messages in rig.chat():
        text = str(messages[1])
        assert "Maintenance rescheduled: DB" in text
        assert utc(moved) in text
        assert utc(made) in text  # what it was
    assert "DB &lt;upgrade&gt;" in rig.chat()[0][1]["text"]  # Slack's escaping
    mail = rig.mails()[1]
    assert mail["Subject"] == "[Service status] DB <upgrade>: Rescheduled"
    body = plain(mail)
    now, was = (
        window_text(moved.starts_at, moved.ends_at),
        window_text(made.starts_at, made.ends_at),
    )
    assert f"rescheduled: now {now} (was {was})" in body
    assert "Affected: API" in body
    assert "DB &lt;upgrade&gt;" in html(mail)
    assert f"Unsubscribe: {PUBLIC}/status/subscriptions/unsubscribe/" in body
    assert mail["List-Unsubscribe"].startswith(f"<{PUBLIC}/status/subscriptions/unsubscribe/")
    post = rig.posts()[1]
    assert post.headers["x-tocsin-signature"] == body_signature(rig.secret, post.body)
    incident = post.json()["incident"]
    assert (incident["status"], incident["impact"]) == ("scheduled", "maintenance")
    assert (incident["scheduled_for"], incident["scheduled_until"]) == (
        stamp(moved.starts_at), stamp(moved.ends_at),
    )  # fmt: skip
    assert f"now {now}" in incident["incident_updates"][0]["body"]


async def test_a_cancel_is_told_once_to_each(rig: Rig) -> None:
    """Cancelling: one "Maintenance cancelled" message in each announce channel, one mail
    (subject "Cancelled") and one webhook whose maintenance is ``completed`` (Statuspage has no
    cancelled status) with the sentence saying it was cancelled."""
    made = await scheduled(rig)
    await service.cancel(rig.ctx, ROOT, made.id)
    await rig.told(2)
    for messages in rig.chat():
        assert "Maintenance cancelled: DB" in str(messages[1])
    mail = rig.mails()[1]
    assert mail["Subject"] == "[Service status] DB <upgrade>: Cancelled"
    assert "has been cancelled" in plain(mail)
    incident = rig.posts()[1].json()["incident"]
    assert incident["status"] == "completed"
    assert incident["resolved_at"] is not None
    assert "has been cancelled" in incident["incident_updates"][0]["body"]


async def test_an_edit_without_a_public_change_tells_nobody(rig: Rig) -> None:
    """A description fix and an edit repeating the window as it is queue no notice for any
    destination; the next told change (a cancel) is then the second and last message of each
    (delivery is in order, so nothing from the edits can still be on its way)."""
    made = await scheduled(rig)
    before = len(await all_rows(rig.ctx.db))
    await service.edit(rig.ctx, ROOT, made.id, service.MaintenanceChange(description="Typo fix"))
    same = service.MaintenanceChange(start=made.starts_at.isoformat(), end=made.ends_at.isoformat())
    await service.edit(rig.ctx, ROOT, made.id, same)
    assert len(await all_rows(rig.ctx.db)) == before
    await service.cancel(rig.ctx, ROOT, made.id)
    await rig.told(2)
    assert "cancelled" in str(rig.chat()[0][1])


async def test_moved_components_are_told_to_the_old_ones_subscribers_too(rig: Rig) -> None:
    """Moving a maintenance from API to Payments tells a Payments-only subscriber (who now is
    concerned) and an API-only one (who no longer is), naming both; a title change alone is an
    "Updated" notice to each."""
    api, pay = "api@example.test", PAY
    await subscribers.add_subscriber(rig.ctx, ROOT, api, ["API"])
    await subscribers.add_subscriber(rig.ctx, ROOT, pay, ["Payments"])
    made = await scheduled(rig)
    await service.edit(rig.ctx, ROOT, made.id, service.MaintenanceChange(components=["Payments"]))
    await service.edit(rig.ctx, ROOT, made.id, service.MaintenanceChange(title="DB upgrade v2"))
    await rig.told(3)

    async def arrived() -> bool:
        return (len(rig.mails(api)), len(rig.mails(pay))) == (2, 2)

    await eventually(arrived)
    moved = rig.mails(pay)[0]
    assert moved["Subject"] == "[Service status] DB <upgrade>: Updated"
    assert "now affects Payments (was API)" in plain(moved)
    assert "now affects Payments (was API)" in plain(rig.mails(api)[1])
    renamed = rig.mails(pay)[1]
    assert renamed["Subject"] == "[Service status] DB upgrade v2: Updated"
    assert "previously named \u201cDB <upgrade>\u201d" in plain(renamed)
    assert "Maintenance updated: DB upgrade v2" in str(rig.chat()[1][2])
