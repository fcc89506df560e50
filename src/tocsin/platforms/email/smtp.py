"""The SMTP client: one connection per message, with the server given by ``TOCSIN_SMTP_URL``.

``smtp://[user:password@]host[:port]`` (port 587 by default) upgrades with STARTTLS when the
server offers it; ``smtps://`` (port 465) speaks TLS from the first byte. A user in the URL means
a login. :class:`SmtpServer` keeps the password out of ``repr`` and of every error message.

What the server answers decides the delivery's fate (:func:`smtp_error`):

* 4xx codes (greylisting, a full mailbox, "try again later"), timeouts and connection errors are
  retried through the outbox;
* 5xx codes are permanent: :class:`Refused` (a :class:`~tocsin.delivery.base.PermanentError`)
  carries the code, and the sender reports the refused address before the row goes dead.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

from tocsin.delivery.base import DeliveryError, PermanentError, RetryableError


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("the SMTP URL must be smtp://host[:port] or smtps://host[:port]")
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            implicit_tls=implicit,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def describe(self) -> str:
        """Where mail goes, without credentials (for logs and errors)."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{self.host}:{self.port}"


class Refused(PermanentError):
    """The server refused the message for good (5xx); ``code`` is its reply code and
    ``bounced`` says whether the refusal was about the recipient (RCPT or DATA) rather than
    about tocsin (its login, its sender address)."""

    def __init__(self, message: str, code: int, *, bounced: bool) -> None:
        super().__init__(message)
        self.code = code
        self.bounced = bounced


def smtp_error(exc: BaseException, where: str) -> DeliveryError:
    """What an aiosmtplib error means for the outbox (see the module docstring)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        first = exc.recipients[0]
        return smtp_error(first, where)
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return RetryableError(f"timeout talking to {where}", maybe_sent=True)
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code > 0:
        reason = f"SMTP {exc.code} from {where}: {' '.join(exc.message.split())[:200]}"
        if 500 <= exc.code < 600:
            about_recipient = isinstance(
                exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError
            )
            return Refused(reason, exc.code, bounced=about_recipient)
        return RetryableError(reason)
    if isinstance(exc, aiosmtplib.SMTPException | OSError):
        return RetryableError(f"connection error with {where}: {type(exc).__name__}")
    return PermanentError(f"internal error in the email sender: {type(exc).__name__}")


class SmtpClient:
    """Sends one :class:`EmailMessage` per connection (no pooled connection to go stale)."""

    def __init__(
        self,
        server: SmtpServer,
        *,
        timeout: float = 20.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.server = server
        self.timeout = timeout
        self.tls_context = tls_context

    async def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """Deliver ``message``; raises a :class:`~tocsin.delivery.base.DeliveryError`."""
        server = self.server
        client = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            use_tls=server.implicit_tls,
            start_tls=False if server.implicit_tls else None,  # None: when offered
            timeout=self.timeout,
            tls_context=self.tls_context,
        )
        try:
            async with client:
                if server.username:
                    await client.login(server.username, server.password or "")
                await client.send_message(message, sender=sender, recipients=[recipient])
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise smtp_error(exc, server.describe()) from None
