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
kept as the reason. Apprise's own log records are captured for that and do not reach the
process's log handlers.
"""

from __future__ import annotations

import asyncio
import logging
import re

from tocsin.delivery.base import PermanentError, RetryableError
from tocsin.domain.notify import MASK, mask_url

__all__ = ["DEFAULT_TIMEOUT", "notify", "scrub"]

DEFAULT_TIMEOUT = 15.0
_PIECES = re.compile(r"[^/:@?&=#]+")
logging.getLogger("apprise").propagate = False  # its records may quote the URL; see scrub()


def scrub(text: str, url: str) -> str:
    """``text`` with every secret piece of ``url`` (what :func:`mask_url` hides) replaced."""
    shown = set(_PIECES.findall(mask_url(url)))
    secrets = sorted(
        {p for p in _PIECES.findall(url) if p not in shown and p != MASK}, key=len, reverse=True
    )
    text = text.replace(url, mask_url(url))
    for piece in secrets:
        text = text.replace(piece, MASK)
    return text


def _send(url: str, title: str, body: str) -> tuple[bool, bool, str]:
    """(understood, sent, Apprise's last words), in the calling thread."""
    import apprise  # heavy: loaded only when a contact method is used

    with apprise.LogCapture(level=logging.INFO) as output:
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
        reason = scrub(words, url) or "no reason given"
        raise RetryableError(f"Apprise could not notify {masked}: {reason}"[:500])
