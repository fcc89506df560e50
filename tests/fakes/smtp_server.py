"""A real SMTP server on 127.0.0.1 (aiosmtpd, in its own thread) that keeps what it receives.

``refuse[address] = "550 5.1.1 No such user"`` answers RCPT for that address with the reply
given (a 4xx to test retries, a 5xx to test bounces); ``logins`` records AUTH attempts when the
server is started with ``users``.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    """The aiosmtpd handler: messages received, refusals to give, logins seen."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: dict[str, str] = {}
        self.logins: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        reply = self.refuse.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address in str(m["To"])]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 made with the openssl command (certificate, key)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class SmtpServer:
    """``with SmtpServer() as smtp: smtp.url ...``; ``users`` turns on AUTH LOGIN/PLAIN;
    ``tls`` ("starttls": STARTTLS required before MAIL, "implicit": TLS from the first byte) with
    ``cert`` (certificate and key files) serves over TLS."""

    def __init__(
        self,
        users: dict[str, str] | None = None,
        *,
        tls: str | None = None,
        cert: tuple[Path, Path] | None = None,
    ) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.users = users
        kwargs: dict[str, Any] = {}
        if users is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        if tls is not None:
            assert cert is not None
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            if tls == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context, server_hostname="127.0.0.1")
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **kwargs)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            self.mailbox.logins.append((user, password))
            if self.users is not None and self.users.get(user) == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def url(self, userinfo: str = "", scheme: str = "smtp") -> str:
        at = f"{userinfo}@" if userinfo else ""
        return f"{scheme}://{at}127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
