"""``tocsin page test PERSON``: send a test notification through each of a person's contact
methods, now and directly (not through the outbox), and say for each whether it worked.

The person is a ``[[person]]`` of the policy file, named by ``id``, one of ``also`` or ``name``.
One line per method, its URL masked (``mask_url``), then ``ok`` or the error; the exit status is
1 when any method failed, 2 when the person or the policy file is wrong. Slack and Discord
direct messages and ``mailto:`` contacts are listed but not sent from here (the first go
through the chat senders, the second through the mail platform).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

import click

from tocsin.adapters.cli.common import fail, settings
from tocsin.adapters.cli.errors import ReportingGroup
from tocsin.app import build_policy
from tocsin.delivery.base import DeliveryError
from tocsin.domain.errors import DomainError
from tocsin.domain.notify import DM_CONTACTS, Person, find_person, mask_url
from tocsin.domain.notify.paging import contact_destination

Notify = Callable[..., Awaitable[None]]
TITLE = "tocsin test notification"
BODY = "This is a test from `tocsin page test`: this contact method reaches you. Nothing to do."


@click.group("page", cls=ReportingGroup)
def page() -> None:
    """Paging people: test their contact methods."""


def _person(people: tuple[Person, ...], key: str) -> Person | None:
    return find_person(people, key) or next((p for p in people if p.name == key), None)


async def check_methods(person: Person, notify: Notify, within: float) -> list[tuple[str, bool]]:
    """``(line, ok)`` per contact method of ``person``, each sent under ``within`` seconds."""
    lines: list[tuple[str, bool]] = []
    for name in (*DM_CONTACTS, *person.contacts):
        url = person.contacts.get(name)
        if url is None:
            if any(i.startswith(f"{name}:") for i in person.ids):
                lines.append((f"{name}: {name} direct message: not tested here", True))
            continue
        shown = f"{name}: {mask_url(url)}"
        if contact_destination(url) is None:
            lines.append((f"{shown}: not tested here (mail is sent by the mail platform)", True))
            continue
        try:
            await notify(url, TITLE, BODY, within=within)
        except DeliveryError as exc:
            lines.append((f"{shown}: FAILED: {exc}", False))
        else:
            lines.append((f"{shown}: ok", True))
    return lines


@page.command("test")
@click.argument("person")
@click.option("--timeout", "within", type=click.FloatRange(min=0.1), default=15.0,
              show_default=True,
              help="Seconds to wait for each method.")  # fmt: skip
def test(person: str, within: float) -> None:
    """Send a test notification through each of PERSON's contact methods."""
    from tocsin.platforms.apprise.notify import notify  # Apprise loads only here

    try:
        policy = build_policy(settings())
    except DomainError as exc:
        fail(str(exc).replace("\n", "; "), 2)
    found = _person(policy.people, person)
    if found is None:
        fail(f"no [[person]] {person!r} in the policy file (use their id, also or name)", 2)
    lines = asyncio.run(check_methods(found, notify, within))
    if not lines:
        fail(f"{found.id} has no contact methods", 2)
    for line, _ok in lines:
        click.echo(line)
    if not all(ok for _line, ok in lines):
        sys.exit(1)
