"""``tocsin page test PERSON``: send a test notification through each of a person's contact
methods, now and directly (not through the outbox), and say for each whether it worked.

The person is a ``[[person]]`` of the policy file, named by ``id``, one of ``also`` or ``name``,
with their stored edits applied (``tocsin person``, My contacts, the API): the same people
paging reads (:func:`tocsin.services.person_edits.find`), so it needs the database. One line per
method, its URL masked (``mask_url``), then ``ok`` or the error; the exit status is
1 when any method failed, 2 when the person or the policy file is wrong. ``mailto:`` contacts
get a test mail straight over SMTP (TOCSIN_SMTP_URL; without it they are reported as failed,
since paging would skip them). Slack and Discord direct messages are listed but not sent from
here (they go through the chat senders).
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Awaitable, Callable

import click

from tocsin.adapters.cli.common import fail, run_with_context, settings
from tocsin.adapters.cli.errors import ReportingGroup
from tocsin.config import Settings
from tocsin.delivery.base import DeliveryError
from tocsin.domain.errors import DomainError, NotFound
from tocsin.domain.mail import MailMessage
from tocsin.domain.notify import DM_CONTACTS, Person, mask_url
from tocsin.domain.notify.paging import mail_address
from tocsin.services import person_edits
from tocsin.services.context import Context

Notify = Callable[..., Awaitable[None]]
MailTest = Callable[[str, float], Awaitable[None]]  # (address, within seconds)
MAIL_OFF = "FAILED: mail is off (set TOCSIN_SMTP_URL and TOCSIN_SMTP_FROM)"
TITLE = "tocsin test notification"
BODY = "This is a test from `tocsin page test`: this contact method reaches you. Nothing to do."


@click.group("page", cls=ReportingGroup)
def page() -> None:
    """Paging people: test their contact methods."""


async def _attempt(shown: str, attempt: Awaitable[None]) -> tuple[str, bool]:
    try:
        await attempt
    except DeliveryError as exc:
        return f"{shown}: FAILED: {exc}", False
    except TimeoutError:
        return f"{shown}: FAILED: no answer in time", False
    return f"{shown}: ok", True


async def check_methods(
    person: Person, notify: Notify, within: float, mail: MailTest | None = None
) -> list[tuple[str, bool]]:
    """``(line, ok)`` per contact method of ``person``, each sent under ``within`` seconds;
    ``mail`` sends a test mail (None: mail is not set up)."""
    lines: list[tuple[str, bool]] = []
    for name in (*DM_CONTACTS, *person.contacts):
        url = person.contacts.get(name)
        if url is None:
            if any(i.startswith(f"{name}:") for i in person.ids):
                lines.append((f"{name}: {name} direct message: not tested here", True))
            continue
        shown = f"{name}: {mask_url(url)}"
        address = mail_address(url)
        if address is not None and mail is None:
            lines.append((f"{shown}: {MAIL_OFF}", False))
        elif address is not None and mail is not None:
            lines.append(await _attempt(shown, asyncio.wait_for(mail(address, within), within)))
        else:
            lines.append(await _attempt(shown, notify(url, TITLE, BODY, within=within)))
    return lines


def mail_test(config: Settings) -> MailTest | None:
    """Sends the test mail directly over SMTP; None without TOCSIN_SMTP_URL/TOCSIN_SMTP_FROM."""
    from tocsin.platforms.email.sender import build_email_sender  # aiosmtplib loads only here

    sender = build_email_sender(config)
    if sender is None:
        return None

    async def send(address: str, within: float) -> None:
        sender.client.timeout = within
        mail = MailMessage(to=address, subject=TITLE, text=BODY)
        await sender.send_mail(mail, f"page-test:{secrets.token_hex(8)}")

    return send


@page.command("test")
@click.argument("person")
@click.option("--timeout", "within", type=click.FloatRange(min=0.1), default=15.0,
              show_default=True,
              help="Seconds to wait for each method.")  # fmt: skip
def test(person: str, within: float) -> None:
    """Send a test notification through each of PERSON's contact methods."""
    from tocsin.platforms.apprise.notify import notify  # Apprise loads only here

    config = settings()

    async def lookup(ctx: Context) -> Person:
        try:
            return await person_edits.find(ctx, person)
        except NotFound as exc:
            fail(str(exc), 2)

    try:
        found = run_with_context(lookup)
    except DomainError as exc:  # the policy file
        fail(str(exc).replace("\n", "; "), 2)
    lines = asyncio.run(check_methods(found, notify, within, mail_test(config)))
    if not lines:
        fail(f"{found.id} has no contact methods", 2)
    for line, _ok in lines:
        click.echo(line)
    if not all(ok for _line, ok in lines):
        sys.exit(1)
