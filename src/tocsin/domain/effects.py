"""Effects: work outside tocsin (post a message, page someone, update Statuspage) as plain data.

A service returns effects together with the state change; the storage layer writes them to the
outbox in the same transaction, and the delivery workers carry them out. ``key`` makes an effect
idempotent (written twice, stored once); effects with the same ``ordering_key`` are delivered in
the order they were made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Effect:
    destination: str  # "slack", "discord", "statuspage", "pagerduty", "webhook", ...
    kind: str  # what to do there, e.g. "post_update", "create_channel"
    payload: dict[str, Any]
    key: str  # idempotency key, unique across the outbox
    incident: int | None = None
    ordering_key: str = ""  # defaults to "<destination>:<incident>"
    delay_seconds: float = 0.0

    @property
    def order(self) -> str:
        return self.ordering_key or f"{self.destination}:{self.incident or 0}"
