"""The email platform against a real SMTP server on loopback (aiosmtpd): the URL's parts, the
login, MIME with text and HTML alternatives and extra headers, and the classification of
refusals, with the password kept out of every error and repr."""

from __future__ import annotations

import shutil
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.delivery_kit import eventually
from tests.fakes.smtp_server import SmtpServer, self_signed

from tocsin.delivery.base import Delivery, PermanentError, RetryableError
from tocsin.domain.mail import MailMessage
from tocsin.platforms.email.sender import EmailSender
from tocsin.platforms.email.smtp import Refused, SmtpClient
from tocsin.platforms.email.smtp import SmtpServer as Server


def row(mail: MailMessage, key: str = "email:sub1:n1") -> Delivery:
    return Delivery(1, None, "email", "notice", {"mail": mail.to_payload()}, key, 0)


def test_the_url_gives_host_port_tls_and_login() -> None:
    """smtp:// defaults to 587 with STARTTLS when offered, smtps:// to 465 with implicit TLS;
    a percent-encoded user is decoded; repr and describe() never show the password."""
    plain = Server.from_url("smtp://ops%40example.test:s3cr%2Ft@mail.example.test")
    assert (plain.host, plain.port, plain.implicit_tls) == ("mail.example.test", 587, False)
    assert (plain.username, plain.password) == ("ops@example.test", "s3cr/t")
    tls = Server.from_url("smtps://mail.example.test")
    assert (tls.port, tls.implicit_tls, tls.username) == (465, True, None)
    assert "s3cr" not in repr(plain)
    assert plain.describe() == "smtp://mail.example.test:587"
    with pytest.raises(ValueError, match="smtp"):
        Server.from_url("http://mail.example.test")


async def test_login_and_mime_with_text_html_and_headers() -> None:
    """With a user in the URL the sender logs in; the message has both parts, the extra
    headers, the From setting and a Message-ID derived from the row's key."""
    with SmtpServer(users={"ops": "pw-123"}) as smtp:
        sender = EmailSender(SmtpClient(Server.from_url(smtp.url("ops:pw-123"))), "S <s@x.test>")
        mail = MailMessage(
            "ann@example.test",
            "Hello",
            "plain body",
            "<p>html body</p>",
            {"List-Unsubscribe": "<http://u.test/x>"},
        )
        sent = await sender.send(row(mail), {})  # type: ignore[arg-type]

        async def arrived() -> bool:
            return bool(smtp.mailbox.messages)

        await eventually(arrived)
        (message,) = smtp.mailbox.messages
    assert smtp.mailbox.logins == [("ops", "pw-123")]
    assert message["From"] == "S <s@x.test>"
    assert message["List-Unsubscribe"] == "<http://u.test/x>"
    assert message["Message-ID"] == sent.remote_ids["message_id"]
    assert message["Message-ID"].endswith("@x.test>")
    parts: Any = message
    assert parts.get_body(("plain",)).get_content().strip() == "plain body"
    assert "html body" in parts.get_body(("html",)).get_content()
    assert isinstance(message, EmailMessage)


async def test_a_wrong_password_is_permanent_blames_no_address_and_hides_the_password() -> None:
    """A refused login (535) makes the row dead without reporting the recipient as bounced,
    and the reason names the server but never the password."""
    refused: list[str] = []

    async def on_refused(address: str, reason: str) -> None:
        refused.append(address)

    with SmtpServer(users={"ops": "right"}) as smtp:
        sender = EmailSender(SmtpClient(Server.from_url(smtp.url("ops:wrong-pw"))), "s@x.test")
        sender.on_refused = on_refused
        with pytest.raises(PermanentError) as failed:
            await sender.send(row(MailMessage("a@example.test", "s", "t")), {})  # type: ignore[arg-type]
    assert isinstance(failed.value, Refused)
    assert failed.value.code == 535
    assert not failed.value.bounced
    assert refused == []
    assert "wrong-pw" not in str(failed.value)
    assert f"127.0.0.1:{smtp.port}" in str(failed.value)


async def test_a_row_without_a_mail_message_is_dead() -> None:
    """A row whose payload has no mail message is a permanent error, sent nowhere."""
    sender = EmailSender(SmtpClient(Server.from_url("smtp://127.0.0.1:9")), "s@x.test")
    bad = Delivery(1, None, "email", "notice", {"text": "hi"}, "k", 0)
    with pytest.raises(PermanentError, match="mail message"):
        await sender.send(bad, {})  # type: ignore[arg-type]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.parametrize(("tls", "scheme"), [("starttls", "smtp"), ("implicit", "smtps")])
async def test_starttls_when_offered_and_implicit_tls_on_smtps(
    tmp_path: Path, tls: str, scheme: str
) -> None:
    """smtp:// upgrades with STARTTLS when the server offers it (this server refuses mail
    without it); smtps:// speaks TLS from the first byte; the certificate is verified."""
    cert = self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert[0]))
    with SmtpServer(tls=tls, cert=cert) as smtp:
        client = SmtpClient(Server.from_url(smtp.url(scheme=scheme)), tls_context=trust)
        sender = EmailSender(client, "s@x.test")
        await sender.send(row(MailMessage("tls@example.test", "over TLS", "t")), {})  # type: ignore[arg-type]

        async def arrived() -> bool:
            return bool(smtp.mailbox.to("tls@example.test"))

        await eventually(arrived)
        untrusted = SmtpClient(Server.from_url(smtp.url(scheme=scheme)))
        with pytest.raises(RetryableError):
            await EmailSender(untrusted, "s@x.test").send(
                row(MailMessage("tls@example.test", "s", "t")),
                {},  # type: ignore[arg-type]
            )
