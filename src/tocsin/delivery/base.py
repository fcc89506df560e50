"""The seam between the outbox workers and the outside world.

A :class:`Sender` carries out one claimed outbox row (a :class:`Delivery`) against one destination
(Slack, Discord, Statuspage, PagerDuty, a webhook). It reads what earlier deliveries created for
the incident from :class:`RemoteRefs` (the channel id, the announcement's ts, the Statuspage
incident id) and returns what it created in :class:`Sent`; the worker stores both in the same
transaction that marks the row delivered. It reports failure by raising:

    DeliveryError
    ├── RetryableError   timeouts, connection errors, 5xx, 429 (``retry_after`` seconds if told)
    └── PermanentError   4xx such as invalid_auth or channel_not_found: the row goes to dead
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tocsin.domain.effects import Effect


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed outbox row."""

    id: int
    incident: int | None
    destination: str
    kind: str
    payload: Mapping[str, Any]
    idempotency_key: str
    attempts: int  # attempts made before this one (0 on the first try)
    remote_ids: Mapping[str, str] = field(default_factory=dict)
    # An earlier attempt may have reached the destination (its worker crashed or timed out after
    # sending): look the result up before sending again where the platform allows it.
    maybe_sent: bool = False


@dataclass(frozen=True, slots=True)
class Sent:
    """What a successful delivery produced.

    ``remote_ids``: ids of what this row created (message ts, page dedup key), kept on the row.
    ``refs``: incident-level references for later rows (``channel``, ``announcement_ts``, ...).
    ``follow_ups``: effects to queue in the same transaction (idempotent by their keys), e.g. the
    Slack sender's ``archive_channel`` after a resolve, ``delay_seconds`` later. (Added for the
    Slack sender; a worker that ignores it only loses the automatic archive.)
    """

    remote_ids: Mapping[str, str] = field(default_factory=dict)
    refs: Mapping[str, str] = field(default_factory=dict)
    follow_ups: tuple[Effect, ...] = ()


class DeliveryError(Exception):
    """A delivery failed; ``str()`` is the reason stored on the row."""


class RetryableError(DeliveryError):
    """``maybe_sent``: the request may have reached the destination (e.g. a read timeout)."""

    def __init__(
        self, message: str, retry_after: float | None = None, *, maybe_sent: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent


class PermanentError(DeliveryError):
    """Retrying cannot help (bad token, unknown channel, invalid request)."""


class Skip(DeliveryError):
    """Nothing to do for this row (e.g. no announce channel configured): marked delivered."""


class RemoteRefs(Protocol):
    """Read access to what earlier deliveries of this incident created on this destination."""

    def get(self, name: str) -> str | None: ...


class Sender(Protocol):
    """Carries out deliveries for one destination."""

    destination: str

    async def send(self, delivery: Delivery, refs: RemoteRefs) -> Sent: ...

    async def aclose(self) -> None: ...
