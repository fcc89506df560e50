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
from datetime import datetime

import orjson

from tocsin.domain.alerts import PARSERS, IntegrationKind
from tocsin.domain.errors import AlertPayloadError
from tocsin.services.alerts.integrations import arm_heartbeat, secret_matches, signature_matches
from tocsin.services.context import Context
from tocsin.services.ports import UnitOfWork
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
    inbox_id: int | None  # None: nothing new for the worker (a redelivery, a heartbeat's call)
    kind: str
    duplicate: bool = False  # the same body as the group's last one, not stored again


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


async def enqueue(
    uow: UnitOfWork, integration: int, group_key: str, body: bytes, now: datetime
) -> int:
    """Commit ``body`` to the inbox (with the caller's transaction) and the timer that hands it
    to the worker; the inbox row's id."""
    digest = body_digest(integration, body)
    inbox_id = await uow.alert_inbox.add(integration, group_key, digest, body.decode(), now)
    await uow.timers.schedule(
        f"{INBOX_TIMER}:{inbox_id}", INBOX_TIMER, now, payload={"inbox": inbox_id}
    )
    return inbox_id


def body_digest(integration: int, body: bytes) -> str:
    return hashlib.sha256(f"{integration}\x00".encode() + body).hexdigest()


async def _beat(uow: UnitOfWork, row: IntegrationRow, now: datetime) -> int | None:
    """A heartbeat's call: the next one is due a period from now; a missed heartbeat (its group
    firing) gets a resolve in the inbox."""
    await arm_heartbeat(uow, row, now)
    kept = await uow.alert_groups.find(row.id, row.name)
    if kept is None or not kept.group.firing:
        return None
    body = orjson.dumps({"status": "resolved", "at": now.isoformat()})
    return await enqueue(uow, row.id, row.name, body, now)


async def accept(
    ctx: Context, public_id: str, body: bytes, creds: Credentials, *, method: str = "POST"
) -> Accepted:
    """Check and store one body (or a heartbeat's call, GET or POST, body ignored); raises
    :class:`Rejected` (nothing stored) when refused."""
    async with ctx.uow() as uow:
        row = await uow.integrations.by_public_id(public_id)
        if row is None:
            raise Rejected(404, "unknown", "no such integration")
        now = ctx.clock()
        if not _authentic(row, body, creds, now.timestamp()):
            raise Rejected(401, "unauthorized", "wrong or missing secret or signature")
        if row.kind == IntegrationKind.HEARTBEAT:
            inbox_id = await _beat(uow, row, now)
        elif method != "POST":
            raise Rejected(405, "method", "only heartbeat integrations take GET; POST the alerts")
        else:
            group_key = _group_key(IntegrationKind(row.kind), body)
            if await uow.alert_inbox.latest_digest(row.id, group_key) == body_digest(row.id, body):
                return Accepted(None, row.kind, duplicate=True)
            inbox_id = await enqueue(uow, row.id, group_key, body, now)
        await uow.integrations.touch(row.id, now)
        await uow.commit()
    ctx.committed()
    return Accepted(inbox_id, row.kind)
