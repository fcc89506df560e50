"""What every chat destination does after posting an incident's timeline entry, written once.

It remembers the latest update (the announcement shows it), marks a resolve so that a delayed
close (archive the Slack channel, lock the Discord channel or archive its thread) can tell
whether the incident was reopened in between, and queues that close as a follow-up effect with
its own ordering key so it never holds the incident's other messages back.
"""

from __future__ import annotations

from tocsin.delivery.base import Delivery, RemoteRefs
from tocsin.domain.effects import Effect

REOPENED = "-"


def after_post(
    delivery: Delivery, *, close_kind: str, suffix: str, close_after: float
) -> tuple[dict[str, str], tuple[Effect, ...]]:
    """Refs to store and follow-ups to queue after ``delivery`` (a ``post``) went through."""
    event = delivery.payload.get("event")
    if event == "update":
        return {"last_update": str(delivery.payload.get("text") or "")[:200]}, ()
    if event == "reopened":
        return {"resolved_key": REOPENED}, ()
    if event != "resolved":
        return {}, ()
    marker = delivery.idempotency_key[:200]
    close = Effect(
        delivery.destination,
        close_kind,
        {"resolved_key": marker},
        f"{delivery.idempotency_key}:{suffix}",
        delivery.incident,
        ordering_key=f"{delivery.destination}:{delivery.incident or 0}:{suffix}",
        delay_seconds=close_after,
    )
    return {"resolved_key": marker}, (close,)


def still_resolved(delivery: Delivery, refs: RemoteRefs) -> bool:
    """True when no reopen (or later resolve) happened since the resolve that queued this close."""
    return refs.get("resolved_key") == delivery.payload.get("resolved_key")
