"""Queueing what subscribers are told: one outbox row per confirmed subscriber per notice, in the
transaction of the change (domain/subscriber_notices.py says which changes make notices).

* Email subscribers get a ``notice`` row for the ``email`` destination carrying a finished
  :class:`~tocsin.domain.mail.MailMessage` (text and HTML, HTML escaped with markupsafe), an
  unsubscribe link and the ``List-Unsubscribe`` headers.
* Webhook subscribers get a ``notice`` row for ``subscriber_webhook`` carrying the notice; the
  signed Statuspage-shaped document is made when it is sent (:func:`webhook_request`).

Rows are keyed ``<destination>:sub<id>:<notice key>`` (queued twice, stored once) and ordered per
subscriber; the delivery machinery paces each destination (delivery/pacing.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from tocsin.domain.effects import Effect
from tocsin.domain.mail import MailMessage
from tocsin.domain.maintenance import Maintenance
from tocsin.domain.model import Incident, Severity, TimelineEntry
from tocsin.domain.policy import Policy
from tocsin.domain.status_view import opaque_id
from tocsin.domain.subscriber_notices import (
    COMPONENT,
    INCIDENT,
    STATUS_WORDS,
    Notice,
    component_notice,
    incident_notices,
    maintenance_notice,
)
from tocsin.domain.subscribers import EMAIL, wants
from tocsin.services.ports import UnitOfWork

if TYPE_CHECKING:
    from tocsin.storage.subscribers import SubscriberRow

PAGE_NAME = "Service status"
EMAIL_DESTINATION, WEBHOOK_DESTINATION = "email", "subscriber_webhook"

_HTML = Markup(
    '<!doctype html><html><body style="font-family: sans-serif">'
    "<h2>{title}</h2><p><strong>{status}</strong></p><p>{body}</p>{affected}"
    '<p><a href="{page}">{page_name}</a></p>'
    '<p style="color: #57606a; font-size: small">You receive this because you subscribed to '
    '{page_name}. <a href="{unsubscribe}">Unsubscribe</a></p></body></html>'
)


def status_url(public_url: str) -> str:
    return f"{public_url.rstrip('/')}/status"


def unsubscribe_url(public_url: str, token: str) -> str:
    return f"{status_url(public_url)}/subscriptions/unsubscribe/{token}"


def page_id(public_url: str) -> str:
    """The page id the public JSON uses (adapters/web/status's ``page_info``)."""
    return opaque_id("page", urlsplit(status_url(public_url)).netloc)


def unsubscribe_headers(link: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe."""
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


_LINK = "\x00unsubscribe\x00"  # stands for each subscriber's own link in a rendered notice


@dataclass(frozen=True, slots=True)
class NoticeMail:
    """A notice rendered once (escaping is the costly part); :meth:`to` fills in each
    subscriber's address and unsubscribe link."""

    subject: str
    text: str
    html: str
    public_url: str

    def to(self, address: str, token: str) -> MailMessage:
        link = unsubscribe_url(self.public_url, token)
        html = self.html.replace(_LINK, str(escape(link)))
        text = self.text.replace(_LINK, link)
        return MailMessage(address, self.subject, text, html, unsubscribe_headers(link))


def notice_mail(notice: Notice, public_url: str) -> NoticeMail:
    page = status_url(public_url)
    if notice.event == INCIDENT:
        status = STATUS_WORDS.get(notice.status, notice.status)
    else:
        status = notice.status.replace("_", " ").capitalize()
    subject = f"[{PAGE_NAME}] {notice.title}: {status}"
    affected = ", ".join(notice.components) if notice.event != COMPONENT else ""
    lines = [notice.title, f"Status: {status}", "", notice.body, ""]
    if affected:
        lines += [f"Affected: {affected}", ""]
    lines += [f"{PAGE_NAME}: {page}", f"Unsubscribe: {_LINK}"]
    html = _HTML.format(
        title=notice.title,
        status=status,
        body=notice.body,
        page=page,
        page_name=PAGE_NAME,
        unsubscribe=_LINK,  # escaping leaves the placeholder as it is
        affected=Markup("<p>Affected: {}</p>").format(affected) if affected else "",
    )
    return NoticeMail(subject, "\n".join(lines) + "\n", str(html), public_url)


def notice_effects(
    notice: Notice, subscribers: Sequence[SubscriberRow], public_url: str
) -> list[Effect]:
    effects = []
    mail = notice_mail(notice, public_url)
    for row in subscribers:
        sub = row.subscriber
        if not wants(sub, notice.heard_by):
            continue
        if sub.kind == EMAIL:
            destination = EMAIL_DESTINATION
            message = mail.to(sub.address, row.unsubscribe_token)
            payload: dict[str, Any] = {"subscriber": sub.id, "mail": message.to_payload()}
        else:
            destination = WEBHOOK_DESTINATION
            payload = {"subscriber": sub.id, "notice": notice.to_payload()}
        key = f"{destination}:sub{sub.id}:{notice.key}"
        order = f"{destination}:sub{sub.id}"
        effects.append(Effect(destination, "notice", payload, key, None, ordering_key=order))
    return effects


async def queue_notices(
    uow: UnitOfWork, notices: Sequence[Notice], public_url: str, now: datetime
) -> int:
    """Rows for every confirmed subscriber who wants each notice; how many were new."""
    if not notices:
        return 0
    subscribers = await uow.subscribers.confirmed()
    effects = [e for n in notices for e in notice_effects(n, subscribers, public_url)]
    return await uow.outbox.add(effects, now)


async def queue_incident_notices(
    uow: UnitOfWork,
    policy: Policy,
    public_url: str,
    incident: Incident,
    entries: Sequence[TimelineEntry],
    now: datetime,
    previous_severity: Severity | None = None,
) -> int:
    notices = incident_notices(incident, entries, policy, previous_severity)
    return await queue_notices(uow, notices, public_url, now)


async def queue_component_notice(
    uow: UnitOfWork, public_url: str, name: str, old: str, new: str, now: datetime
) -> int:
    notice = component_notice(name, old, new, now)
    return await queue_notices(uow, [notice] if notice else [], public_url, now)


async def queue_maintenance_notice(
    uow: UnitOfWork,
    public_url: str,
    m: Maintenance,
    event: str,
    now: datetime,
    before: Maintenance | None = None,
) -> int:
    """Tell the subscribers of ``m``'s components that it was announced, began, completed, was
    cancelled or changed (``event``: created, started, completed, cancelled, rescheduled,
    updated; ``before``: ``m`` before an edit)."""
    notice = maintenance_notice(m, event, now, before)
    return await queue_notices(uow, [notice], public_url, now)
