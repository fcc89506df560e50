"""The email outbox sender: a row's :class:`~tocsin.domain.mail.MailMessage` out over SMTP.

Any row for the ``email`` destination whose payload has a ``mail`` object is sent as one message
(text, and HTML as an alternative part when given; extra headers such as ``List-Unsubscribe``
copied as they are). The row's idempotency key becomes a stable ``Message-ID``, so a retried
row is recognisable as the same message. Failures follow ``smtp.smtp_error``; when the server
refuses the recipient for good, :attr:`EmailSender.on_refused` (set by the composition root to
the subscribers' service) hears of it before the row goes dead, and
:attr:`EmailSender.still_wanted` may skip a row whose subscriber left after it was queued.
Pacing and the circuit breaker are the delivery machinery's, per destination, as for every
sender.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

import structlog

from tocsin.config import Settings
from tocsin.delivery.base import Delivery, PermanentError, RemoteRefs, Sent, Skip
from tocsin.domain.mail import MailMessage
from tocsin.platforms.email.smtp import Refused, SmtpClient, SmtpServer

log = structlog.get_logger("tocsin.email")

RefusalHook = Callable[[str, str], Awaitable[None]]  # (address, reason)
WantedHook = Callable[[Mapping[str, Any]], Awaitable[bool]]  # (payload) -> still to be sent?
DESTINATION = "email"


def build_mime(mail: MailMessage, sender: str, message_id: str) -> EmailMessage:
    """The MIME message: text/plain, plus text/html as the preferred alternative when given."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    return message


def _message_id(key: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "tocsin.invalid"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


class EmailSender:
    destination = DESTINATION

    def __init__(self, client: SmtpClient, sender: str) -> None:
        self.client = client
        self.sender = sender
        self.envelope_from = parseaddr(sender)[1] or sender
        self.on_refused: RefusalHook | None = None
        self.still_wanted: WantedHook | None = None  # e.g. the subscriber has not unsubscribed

    async def send(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        try:
            mail = MailMessage.from_payload(delivery.payload)
        except (KeyError, TypeError, AttributeError):
            raise PermanentError(
                f"an email row needs a mail message, got {delivery.kind}"
            ) from None
        if self.still_wanted is not None and not await self.still_wanted(delivery.payload):
            raise Skip("the message is no longer wanted (its subscriber left)")
        try:
            message_id = await self.send_mail(mail, delivery.idempotency_key)
        except Refused as refused:
            recipient = parseaddr(mail.to)[1] or mail.to
            if refused.bounced and self.on_refused is not None:
                await self.on_refused(recipient, str(refused))
            log.warning("mail refused", row=delivery.id, code=refused.code)
            raise
        return Sent(remote_ids={"message_id": message_id})

    async def send_mail(self, mail: MailMessage, key: str) -> str:
        """Send ``mail`` now (``key`` makes its ``Message-ID``) and return that id; raises a
        :class:`~tocsin.delivery.base.DeliveryError` (:class:`Refused` for a 5xx)."""
        message = build_mime(mail, self.sender, _message_id(key, self.sender))
        recipient = parseaddr(mail.to)[1] or mail.to
        await self.client.send(message, self.envelope_from, recipient)
        return str(message["Message-ID"])

    async def aclose(self) -> None:
        return None


def build_email_sender(settings: Settings, policy: object = None) -> EmailSender | None:
    """The email sender when TOCSIN_SMTP_URL and TOCSIN_SMTP_FROM are set."""
    if settings.smtp_url is None or not settings.smtp_from:
        return None
    server = SmtpServer.from_url(settings.smtp_url.get_secret_value())
    return EmailSender(SmtpClient(server), settings.smtp_from)


__all__ = ["EmailSender", "build_email_sender", "build_mime"]
