"""What one step of a person's notification rule sends, pure.

When the paging service pages someone with a ``[[person]]`` entry, each step of their rule for
the page's severity (:func:`~tocsin.domain.notify.rule_for`) becomes effects at its delay:

- ``"slack"`` / ``"discord"``: the usual ``page_dm`` with its Acknowledge button, to the
  person's id on that platform (when that platform is switched on);
- an Apprise URL: a ``notify`` row for destination ``apprise:<scheme>``
  (:func:`contact_destination`), naming the person and the contact, never the URL (the sender
  reads it from the policy file), with a title and a plain-text body;
- ``mailto:``: a ``page_mail`` row for the ``email`` destination carrying a finished
  :class:`~tocsin.domain.mail.MailMessage` (text and escaped HTML, the acknowledge link in
  both), when mail is switched on (TOCSIN_SMTP_URL); nothing otherwise.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping
from typing import Any

from tocsin.domain.effects import Effect
from tocsin.domain.mail import MailMessage
from tocsin.domain.model import Incident
from tocsin.domain.notify.people import DM_CONTACTS, Person
from tocsin.domain.paging import dm_effect

__all__ = ["APPRISE", "MAIL", "NOTIFY", "PAGE_MAIL", "contact_destination", "mail_address",
           "notify_body", "page_mail", "step_effects"]  # fmt: skip

APPRISE = "apprise"
NOTIFY = "notify"
MAIL = "email"  # the email platform's destination
PAGE_MAIL = "page_mail"


def contact_destination(url: str) -> str | None:
    """The outbox destination of a contact URL (``apprise:ntfy``); None for ``mailto:``."""
    scheme = url.partition("://")[0].lower()
    if url.lower().startswith("mailto:") or not scheme:
        return None
    return f"{APPRISE}:{scheme}"


def mail_address(url: str) -> str | None:
    """The address of a ``mailto:`` contact (``mailto:a@example.com`` → ``a@example.com``)."""
    if not url.lower().startswith("mailto:"):
        return None
    return url[len("mailto:") :].split("?", 1)[0] or None


def page_mail(to: str, title: str, text: str, ack_url: str | None, dashboard: str) -> MailMessage:
    """The page as a mail: the plain-text body of :func:`notify_body`, and the same in HTML
    with every piece escaped and the links clickable."""
    words = html.escape(text.replace("Press Acknowledge", "Acknowledge"))
    parts = [f"<p>{words}</p>".replace("\n", "<br>\n")]
    for label, link in (("Acknowledge", ack_url), ("Incident", dashboard)):
        if link:
            href = html.escape(link, quote=True)
            parts.append(f'<p><a href="{href}">{label}</a>: {html.escape(link)}</p>')
    return MailMessage(
        to=to,
        subject=title,
        text=notify_body(text, ack_url, dashboard),
        html="<html><body>\n" + "\n".join(parts) + "\n</body></html>",
    )


def notify_body(text: str, ack_url: str | None, dashboard: str | None) -> str:
    """The body of a notification that cannot carry buttons: the page's words and where to
    acknowledge."""
    lines = [text.replace("Press Acknowledge", "Acknowledge")]
    if ack_url:
        lines.append(f"Acknowledge: {ack_url}")
    if dashboard:
        lines.append(f"Incident: {dashboard}")
    return "\n\n".join(lines)


def step_effects(
    incident: Incident,
    person: Person,
    contact: str,
    base: Mapping[str, Any],
    key: str,
    destinations: Collection[str],
    ack_url: str | None = None,
) -> list[Effect]:
    """The effects of one step (``contact``) of ``person``'s rule; ``key`` makes them unique
    (the page and the step), ``base`` is the page's payload (``text``, ``incident``, levels)."""
    if contact in DM_CONTACTS:
        user = next((i for i in person.ids if i.startswith(f"{contact}:")), None)
        if contact not in destinations or user is None:
            return []
        return [dm_effect(user, base, key, incident.number, person.name)]
    url = person.contacts.get(contact) or ""
    snap = dict(base.get("incident") or {})
    title = f"{incident.ref} ({incident.severity}): {incident.title}"[:250]
    text, dashboard = str(base.get("text", "")), str(snap.get("url") or "")
    address = mail_address(url)
    if address is not None:
        if MAIL not in destinations:
            return []
        mail = page_mail(address, title, text, ack_url, dashboard)
        payload = {"person": person.id, "contact": contact, "mail": mail.to_payload(),
                   "incident": snap}  # fmt: skip
        return [Effect(MAIL, PAGE_MAIL, payload, f"{MAIL}:{key}"[:200], incident.number)]
    destination = contact_destination(url)
    if destination is None:
        return []
    payload = {
        "person": person.id,
        "contact": contact,
        "title": title,
        "body": notify_body(text, ack_url, dashboard),
        "incident": snap,
    }
    return [Effect(destination, NOTIFY, payload, f"{destination}:{key}"[:200], incident.number,
                   ordering_key=f"{destination}:{person.id}"[:200])]  # fmt: skip
