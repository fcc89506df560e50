"""Queueing what subscribers are told: one outbox row per confirmed subscriber per notice
(domain/subscriber_notices.py says which changes make notices), written by a fan-out off the
change's transaction.

* The change's transaction writes one durable ``subscriber_fanout`` timer carrying its notices
  (:func:`queue_notices`), however many subscribers there are; none when nobody is confirmed.
* Its handler (:func:`expand_fanout`, registered by :func:`register_fanout`) expands it a batch
  of subscribers at a time: each firing queues the rows of the next ``batch`` confirmed
  subscribers (by id) and re-arms the timer with the last id done, in one transaction, so a
  crash loses no batch and repeats none. Fan-outs run one after the other, oldest first, so each
  subscriber's notices stay in the order of the changes.
* Email subscribers get a ``notice`` row for the ``email`` destination carrying a finished
  :class:`~tocsin.domain.mail.MailMessage` (text and HTML, HTML escaped with markupsafe), an
  unsubscribe link and the ``List-Unsubscribe`` headers.
* Webhook subscribers get a ``notice`` row for ``subscriber_webhook`` carrying the notice; the
  signed Statuspage-shaped document is made when it is sent (:func:`webhook_request`).

Rows are keyed ``<destination>:sub<id>:<notice key>`` (queued twice, stored once) and ordered per
subscriber; the delivery machinery paces each destination (delivery/pacing.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import structlog
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
from tocsin.storage.timers import Timer

if TYPE_CHECKING:
    from tocsin.delivery.timers import TimerContext, TimerHandlers
    from tocsin.storage.subscribers import SubscriberRow

log = structlog.get_logger("tocsin.subscribers")

PAGE_NAME = "Service status"
EMAIL_DESTINATION, WEBHOOK_DESTINATION = "email", "subscriber_webhook"
FANOUT = "subscriber_fanout"  # the timer kind
BATCH = 500  # subscribers per fan-out transaction
WAIT = timedelta(seconds=1)  # how long a fan-out waits for an older one another process runs

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


def fanout_key(notices: Sequence[Notice]) -> str:
    """The fan-out timer's key: the same notices queued again make no second fan-out."""
    digest = hashlib.sha256("\x00".join(n.key for n in notices).encode()).hexdigest()[:16]
    return f"{FANOUT}:{notices[0].key}"[:180] + f":{digest}"


async def queue_notices(
    uow: UnitOfWork, notices: Sequence[Notice], public_url: str, now: datetime
) -> int:
    """Hand ``notices`` to a fan-out (one timer row, due now); how many notices were new (0
    when these were queued before, or when no subscriber is confirmed)."""
    if not notices or not await uow.subscribers.has_confirmed():
        return 0
    told = [{"notice": n.to_payload(), "heard_by": list(n.heard_by)} for n in notices]
    payload = {"public_url": public_url, "notices": told, "after": 0}
    new = await uow.timers.schedule(fanout_key(notices), FANOUT, now, payload=payload)
    return len(notices) if new else 0


async def expand_fanout(timer: Timer, tx: TimerContext, batch: int = BATCH) -> int:
    """Queue the rows of the next ``batch`` confirmed subscribers after the timer's ``after``
    and re-arm it past them while more remain; how many rows were new."""
    if await tx.timers.pending_before(FANOUT, timer.id):  # an older fan-out goes first
        await tx.timers.schedule(timer.key, FANOUT, tx.now + WAIT, payload=timer.payload,
                                 replace=True)  # fmt: skip
        return 0
    after = int(timer.payload.get("after", 0))
    rows = await tx.uow.subscribers.confirmed(after=after, limit=batch + 1)
    more, rows = len(rows) > batch, rows[:batch]
    public_url = str(timer.payload.get("public_url", ""))
    notices = [Notice.from_payload(n["notice"], n["heard_by"]) for n in timer.payload["notices"]]
    effects = [e for n in notices for e in notice_effects(n, rows, public_url)]
    added = await tx.uow.outbox.add(effects, tx.now)
    if more:  # the next batch in the next transaction
        payload = {**timer.payload, "after": rows[-1].subscriber.id}
        await tx.timers.schedule(timer.key, FANOUT, timer.due_at, payload=payload, replace=True)
    log.info("subscriber fan-out", key=timer.key, after=after, subscribers=len(rows),
             rows=added, done=not more)  # fmt: skip
    return added


def register_fanout(handlers: TimerHandlers, batch: int = BATCH) -> TimerHandlers:
    """Register the fan-out's handler on ``handlers`` (``tocsin serve`` and ``tocsin worker``:
    app.py's ``timer_handlers_for``); ``batch`` subscribers per transaction."""

    async def handle(timer: Timer, tx: TimerContext) -> None:
        await expand_fanout(timer, tx, batch)

    handlers.register(FANOUT, handle)
    return handlers


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
