"""A neutral mail message: what any use case hands to the email platform (``platforms/email``).

Plain data, JSON-ready through :meth:`MailMessage.to_payload` so that it travels in an outbox row;
the platform turns it into MIME and SMTP. ``html`` is already escaped by whoever built it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class MailMessage:
    to: str
    subject: str
    text: str
    html: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # e.g. List-Unsubscribe

    def to_payload(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "headers": dict(self.headers),
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> MailMessage:
        """The message in an outbox payload (``data["mail"]``); KeyError when it has none."""
        mail = data["mail"]
        headers = mail.get("headers") or {}
        return cls(
            to=str(mail["to"]),
            subject=str(mail["subject"]),
            text=str(mail["text"]),
            html=str(mail.get("html") or ""),
            headers={str(k): str(v) for k, v in headers.items()},
        )
