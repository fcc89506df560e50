"""One notification to one Apprise URL, as a :class:`~tocsin.delivery.base.DeliveryError` when
it fails.

Apprise is blocking and answers only True or False, so :func:`notify` runs it in a thread
(``asyncio.to_thread``) under a timeout and turns the outcome into the outbox's vocabulary:

=====================================  ===================================================
what happened                          outcome
=====================================  ===================================================
Apprise does not understand the URL    :class:`PermanentError` (retrying cannot help)
``notify`` returned False              :class:`RetryableError`, with Apprise's own reason
the timeout passed                     :class:`RetryableError` that may have been sent
=====================================  ===================================================

The URL is a secret (it carries tokens): it is never logged, and any piece of it that
:func:`~tocsin.domain.notify.mask_url` masks is scrubbed from Apprise's words before they are
kept as the reason, and from every record of Apprise's own logger (it logs whole URLs at debug
level) before any handler sees it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
from collections.abc import Iterable
from typing import Any

from tocsin.delivery.base import PermanentError, RetryableError
from tocsin.domain.notify import MASK, mask_url

__all__ = ["DEFAULT_TIMEOUT", "notify", "scrub", "secret_pieces"]

DEFAULT_TIMEOUT = 15.0
_PIECES = re.compile(r"[^/:@?&=#]+")


def secret_pieces(url: str) -> set[str]:
    """The pieces of ``url`` that :func:`mask_url` hides (tokens, passwords)."""
    shown = set(_PIECES.findall(mask_url(url)))
    return {p for p in _PIECES.findall(url) if p not in shown and p != MASK}


def scrub(text: str, pieces: Iterable[str]) -> str:
    """``text`` with every one of ``pieces`` replaced by ``****`` (longest first)."""
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, MASK)
    return text


class _Scrub(logging.Filter):
    """Rewrites every record of Apprise's logger with the secrets of every URL notified so far
    masked, whichever handler gets it (Apprise logs whole URLs at debug level)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage(), self.secrets), ()
        return True


_SCRUB = _Scrub()
logging.getLogger("apprise").addFilter(_SCRUB)


def _apprise() -> Any:
    """The ``apprise`` module, loaded on first use (it is heavy). It imports ``imghdr``, which
    warns of its removal in Python 3.13; that warning is Apprise's, not ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise
    return apprise


def _send(url: str, title: str, body: str) -> tuple[bool, bool, str]:
    """(understood, sent, Apprise's last words), in the calling thread."""
    apprise = _apprise()
    _SCRUB.secrets |= secret_pieces(url)
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as output:
        client = apprise.Apprise()
        if not client.add(url):
            return False, False, ""
        sent = bool(client.notify(body=body, title=title))
        lines = [line for line in output.getvalue().splitlines() if line.strip()]
    return True, sent, lines[-1] if lines else ""


async def notify(url: str, title: str, body: str, *, within: float = DEFAULT_TIMEOUT) -> None:
    """Send ``title`` and ``body`` to ``url``; raise a delivery error when that fails."""
    masked = mask_url(url)
    try:
        understood, sent, words = await asyncio.wait_for(
            asyncio.to_thread(_send, url, title, body), within
        )
    except TimeoutError:
        raise RetryableError(
            f"timeout after {within:g} s notifying {masked}", maybe_sent=True
        ) from None
    if not understood:
        raise PermanentError(f"Apprise does not understand the URL {masked}")
    if not sent:
        reason = scrub(words, secret_pieces(url)) or "no reason given"
        raise RetryableError(f"Apprise could not notify {masked}: {reason}"[:500])
