"""Accepting a body: check who sent it and what it is, then commit it, raw, to the inbox.

The request does no routing: :func:`accept` checks the secret (or Grafana's signature), parses the
body with the domain's parser so that a malformed one is refused naming the field, and commits the
body with a timer that hands it to :mod:`tocsin.services.alerts.process`, in one transaction,
before the sender gets its 2xx. A body equal to the last one accepted for the same group (a
redelivery: Alertmanager resends on every ``repeat_interval``) is answered 2xx and not stored
again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from tocsin.domain.alerts import PARSERS, IntegrationKind
from tocsin.domain.errors import AlertPayloadError
from tocsin.services.alerts.integrations import secret_matches, signature_matches
from tocsin.services.context import Context
from tocsin.storage.alerts import IntegrationRow

INBOX_TIMER = "alert_inbox"  # the timer kind that processes one inbox row (and those behind it)


class Rejected(Exception):
    """The body is refused: ``status`` (401, 404, 400), ``reason`` for the metric, ``message``
    for the sender."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the request carries: the secret from the URL or ``Authorization: Bearer``, and
    Grafana's signature headers."""

    secret: str = ""
    signature: str = ""
    timestamp: str = ""


@dataclass(frozen=True, slots=True)
class Accepted:
    inbox_id: int | None  # None: a redelivery, not stored again
    kind: str

    @property
    def duplicate(self) -> bool:
        return self.inbox_id is None


def _authentic(row: IntegrationRow, body: bytes, creds: Credentials, now: float) -> bool:
    if creds.secret and secret_matches(row, creds.secret):
        return True
    return signature_matches(row, body, creds.signature, creds.timestamp, now)


def _group_key(kind: IntegrationKind, body: bytes) -> str:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Rejected(400, "malformed", f"the body is not JSON: {exc}") from None
    try:
        return PARSERS[kind](data).group_key
    except AlertPayloadError as exc:
        raise Rejected(400, "malformed", exc.message) from None


async def accept(ctx: Context, public_id: str, body: bytes, creds: Credentials) -> Accepted:
    """Check and store one body; raises :class:`Rejected` (nothing stored) when refused."""
    async with ctx.uow() as uow:
        row = await uow.integrations.by_public_id(public_id)
        if row is None:
            raise Rejected(404, "unknown", "no such integration")
        now = ctx.clock()
        if not _authentic(row, body, creds, now.timestamp()):
            raise Rejected(401, "unauthorized", "wrong or missing secret or signature")
        group_key = _group_key(IntegrationKind(row.kind), body)
        digest = hashlib.sha256(f"{row.id}\x00".encode() + body).hexdigest()
        if await uow.alert_inbox.latest_digest(row.id, group_key) == digest:
            return Accepted(None, row.kind)
        inbox_id = await uow.alert_inbox.add(row.id, group_key, digest, body.decode(), now)
        await uow.timers.schedule(
            f"{INBOX_TIMER}:{inbox_id}", INBOX_TIMER, now, payload={"inbox": inbox_id}
        )
        await uow.integrations.touch(row.id, now)
        await uow.commit()
    ctx.committed()
    return Accepted(inbox_id, row.kind)
