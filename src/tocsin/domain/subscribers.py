"""Status-page subscribers: who hears of public changes, and the rules of their life cycle.

A subscriber is an email address or a webhook URL, optionally limited to some components.

* **Email** starts ``pending`` and becomes ``confirmed`` only through the link of the
  confirmation mail (double opt-in); an unconfirmed address gets nothing else. An address the
  mail server refuses for good (5xx) becomes ``bounced``; the unsubscribe link makes it
  ``unsubscribed``. Subscribing again restarts a bounced or unsubscribed address at ``pending``.
* **Webhooks** are added by an admin and are ``confirmed`` at once.
* **Filter** (:func:`wants`): a subscriber without components hears of everything; one with
  components hears of incidents naming one of them, of incidents naming none, and of changes of
  those components.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from tocsin.domain.errors import ParseError

EMAIL, WEBHOOK = "email", "webhook"
KINDS = (EMAIL, WEBHOOK)
PENDING, CONFIRMED, BOUNCED, UNSUBSCRIBED = "pending", "confirmed", "bounced", "unsubscribed"
STATES = (PENDING, CONFIRMED, BOUNCED, UNSUBSCRIBED)
MAX_ADDRESS = 254
MAX_COMPONENTS = 50
# Deliberately simple: one @, no spaces or angle brackets, a dot in the domain.
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+$")


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    kind: str
    address: str  # the email address or the webhook URL
    components: tuple[str, ...]
    state: str
    created_at: datetime
    confirmed_at: datetime | None = None
    last_error: str = ""

    @property
    def active(self) -> bool:
        return self.state == CONFIRMED

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "address": self.address,
            "components": list(self.components),
            "state": self.state,
            "created_at": self.created_at.isoformat(),
            "confirmed_at": self.confirmed_at.isoformat() if self.confirmed_at else None,
            "last_error": self.last_error,
        }


def normalize_email(raw: str) -> str:
    """The address as stored (domain in lower case); ParseError naming the field when bad."""
    address = raw.strip()
    if len(address) > MAX_ADDRESS or not _EMAIL.match(address):
        raise ParseError("email: give one email address, like name@example.com.")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalize_url(raw: str) -> str:
    url = raw.strip()
    parts = urlsplit(url)
    if len(url) > 2000 or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ParseError("url: give an http:// or https:// URL for the webhook.")
    return url


def kind_of(address: str) -> str:
    """``webhook`` for an http(s) URL, else ``email``."""
    return WEBHOOK if address.strip().lower().startswith(("http://", "https://")) else EMAIL


def match_components(names: Sequence[str], known: Collection[str]) -> tuple[str, ...]:
    """``names`` as the known components' own spelling (ignoring case), each once."""
    by_key = {name.casefold(): name for name in known}
    chosen: list[str] = []
    for raw in names:
        if not raw.strip():
            continue
        name = by_key.get(raw.strip().casefold())
        if name is None:
            listed = ", ".join(sorted(known)) or "none"
            raise ParseError(f"component: there is no component {raw.strip()!r}. Known: {listed}.")
        if name not in chosen:
            chosen.append(name)
    if len(chosen) > MAX_COMPONENTS:
        raise ParseError(f"component: name at most {MAX_COMPONENTS} components.")
    return tuple(chosen)


def wants(subscriber: Subscriber, components: Collection[str]) -> bool:
    """Does ``subscriber`` hear of a change touching ``components``? See the module docstring."""
    if not subscriber.active:
        return False
    if not subscriber.components or not components:
        return True
    return any(name in components for name in subscriber.components)
