"""The tokens of acknowledge links (see :mod:`tocsin.services.ack_links`), stdlib only.

Acknowledge links for notifications that cannot carry buttons (ntfy, Telegram, mail, ...).

A link is ``<public url>/ack/<token>``; the token says which incident, for whom, until when, and
carries a random nonce, signed with HMAC-SHA256 under TOCSIN_SECRET_KEY. Opening it (GET) only
shows a confirmation page, so a link-preview bot that fetches it acknowledges nothing; the
page's button POSTs it back, and :func:`acknowledge_by_link` acknowledges as that person through
the same command path as ``/incident ack``. Each nonce is spent once (``ack_link_uses``): a link
that was used, has expired or was altered is refused with a sentence.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tocsin.config import Settings

__all__ = ["LINK_LIFETIME", "AckClaim", "AckLinkError", "ack_secret", "ack_url", "read_token",
           "sign_token"]  # fmt: skip

LINK_LIFETIME = timedelta(hours=24)
MAX_TOKEN = 600


class AckLinkError(ValueError):
    """A link that cannot acknowledge; ``str()`` is the sentence to show."""


@dataclass(frozen=True, slots=True)
class AckClaim:
    """What a valid token says."""

    incident: int
    person: str
    expires: datetime
    nonce: str


def ack_secret(settings: Settings) -> str | None:
    """The key that signs acknowledge links: TOCSIN_SECRET_KEY (no links without it, since a
    generated development key would differ between processes)."""
    return settings.secret_key.get_secret_value() if settings.secret_key else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    key = hashlib.sha256(b"tocsin-ack-link:" + secret.encode()).digest()
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def sign_token(secret: str, incident: int, person: str, expires: datetime) -> str:
    """A fresh single-use token for ``person`` to acknowledge ``incident`` until ``expires``."""
    claim = {"i": incident, "p": person, "e": int(expires.timestamp()), "n": secrets.token_hex(8)}
    body = _b64(json.dumps(claim, separators=(",", ":")).encode())
    return f"{body}.{_mac(secret, body)}"


def read_token(secret: str, token: str, now: datetime) -> AckClaim:
    """The claim of a genuine, unexpired token; :class:`AckLinkError` otherwise."""
    body, dot, mac = token.partition(".")
    if len(token) > MAX_TOKEN or not dot or not hmac.compare_digest(_mac(secret, body), mac):
        raise AckLinkError("This acknowledge link is not valid (it may have been cut short).")
    try:
        data = json.loads(_unb64(body))
        claim = AckClaim(int(data["i"]), str(data["p"]),
                         datetime.fromtimestamp(int(data["e"]), UTC), str(data["n"]))  # fmt: skip
    except (ValueError, KeyError, TypeError) as exc:
        raise AckLinkError("This acknowledge link is not valid.") from exc
    if claim.expires <= now:
        raise AckLinkError(
            "This acknowledge link has expired: acknowledge in chat or the dashboard."
        )
    return claim


def ack_url(
    public_url: str, secret: str | None, incident: int, person: str, now: datetime
) -> str | None:
    """The link to put in a notification, or None without a public URL or secret key."""
    if not secret or not public_url:
        return None
    token = sign_token(secret, incident, person, now + LINK_LIFETIME)
    return f"{public_url.rstrip('/')}/ack/{token}"
