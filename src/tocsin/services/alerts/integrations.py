"""Integrations: one URL per sender, ``<public url>/alerts/<id>/<secret>``.

Only the SHA-256 of the secret is stored (it is long and random, so no salt or slow hash is
needed); the URL is shown once, at creation and on rotation. A sender may instead post to
``/alerts/<id>`` with ``Authorization: Bearer <secret>``. A Grafana integration also gets a
signing secret for Grafana's HMAC option (``X-Grafana-Alerting-Signature``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tocsin.domain.alerts import IntegrationKind
from tocsin.domain.errors import NotFound, ParseError
from tocsin.services.context import Context
from tocsin.services.ports import UnitOfWork
from tocsin.storage.alerts import IntegrationRow

KINDS = (
    IntegrationKind.ALERTMANAGER,
    IntegrationKind.GRAFANA,
    IntegrationKind.WEBHOOK,
    IntegrationKind.HEARTBEAT,
)
MIN_PERIOD, MAX_PERIOD, MAX_GRACE = timedelta(minutes=1), timedelta(days=30), timedelta(days=1)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
SIGNATURE_HEADER = "x-grafana-alerting-signature"
# Grafana's timestamp header has no default name; these two are the names its docs use.
TIMESTAMP_HEADERS = ("x-grafana-alerting-signature-timestamp", "x-grafana-alerting-timestamp")
REPLAY_WINDOW = 300  # seconds a signed timestamp may differ from our clock


@dataclass(frozen=True, slots=True)
class Created:
    """An integration with its URL (holding the secret, shown only now)."""

    row: IntegrationRow
    url: str
    signing_secret: str | None = None

    def to_dict(self) -> dict[str, object]:
        data = integration_dict(self.row)
        data["url"] = self.url
        if self.signing_secret:
            data["signing_secret"] = self.signing_secret
        return data


def integration_dict(row: IntegrationRow) -> dict[str, object]:
    """What the CLI's ``--json`` and the API show: never a secret."""
    last = row.last_received_at
    data: dict[str, object] = {
        "id": row.public_id,
        "kind": row.kind,
        "name": row.name,
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
        "last_received_at": last.isoformat() if last else None,
    }
    if row.period_seconds is not None:
        data |= {"period_seconds": row.period_seconds, "grace_seconds": row.grace_seconds or 0}
    return data


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(row: IntegrationRow, secret: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), row.secret_hash)


def signature_matches(
    row: IntegrationRow, body: bytes, signature: str, timestamp: str, now: float
) -> bool:
    """Grafana's HMAC: bare lowercase hex HMAC-SHA256 of ``timestamp:body`` when Grafana sends a
    timestamp (Unix seconds, within :data:`REPLAY_WINDOW` of ``now``), else of the body alone,
    keyed with the integration's signing secret."""
    if not row.signing_secret or not signature:
        return False
    if timestamp and not (timestamp.isdigit() and abs(now - int(timestamp)) <= REPLAY_WINDOW):
        return False
    message = f"{timestamp}:".encode() + body if timestamp else body
    wanted = hmac.new(row.signing_secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(wanted, signature.strip().lower())


def integration_url(public_url: str, row: IntegrationRow, secret: str) -> str:
    return f"{public_url.rstrip('/')}/alerts/{row.public_id}/{secret}"


def _kind(kind: str) -> IntegrationKind:
    if kind not in {k.value for k in KINDS}:
        raise ParseError(
            f"unknown integration kind {kind!r} (expected alertmanager, grafana, webhook or "
            "heartbeat)"
        )
    return IntegrationKind(kind)


def _timing(
    kind: IntegrationKind, period: timedelta | None, grace: timedelta | None
) -> tuple[int | None, int | None]:
    """A heartbeat's period (1 minute to 30 days) and grace (0 to 1 day, default 0), in
    seconds; other kinds take neither."""
    if kind is not IntegrationKind.HEARTBEAT:
        if period is not None or grace is not None:
            raise ParseError("only heartbeat integrations have a period and a grace")
        return None, None
    if period is None or not MIN_PERIOD <= period <= MAX_PERIOD:
        raise ParseError("a heartbeat needs a period between 1 minute and 30 days (e.g. 5m)")
    grace = grace or timedelta(0)
    if not timedelta(0) <= grace <= MAX_GRACE:
        raise ParseError("a heartbeat's grace is between 0 and 1 day")
    return int(period.total_seconds()), int(grace.total_seconds())


def _secrets(kind: IntegrationKind) -> tuple[str, str | None]:
    signing = secrets.token_hex(32) if kind is IntegrationKind.GRAFANA else None
    return secrets.token_urlsafe(32), signing


async def create_integration(
    ctx: Context,
    kind: str,
    name: str,
    created_by: str,
    *,
    period: timedelta | None = None,
    grace: timedelta | None = None,
) -> Created:
    """A new integration and its URL; a heartbeat's first call is due within period + grace."""
    checked = _kind(kind)
    period_seconds, grace_seconds = _timing(checked, period, grace)
    if _NAME.fullmatch(name) is None:
        raise ParseError("an integration name is 1-64 letters, digits, '_', '.' or '-'")
    secret, signing = _secrets(checked)
    async with ctx.uow() as uow:
        if await uow.integrations.by_name(name) is not None:
            raise ParseError(f"an integration named {name!r} exists already")
        row = IntegrationRow(
            0,
            secrets.token_hex(8),
            checked.value,
            name,
            hash_secret(secret),
            ctx.clock(),
            created_by,
            signing,
            period_seconds=period_seconds,
            grace_seconds=grace_seconds,
        )
        row = dataclasses.replace(row, id=await uow.integrations.add(row))
        if checked is IntegrationKind.HEARTBEAT:
            await arm_heartbeat(uow, row, row.created_at)
        await uow.commit()
    return Created(row, integration_url(ctx.public_url, row, secret), signing)


async def list_integrations(ctx: Context) -> list[IntegrationRow]:
    async with ctx.uow(read_only=True) as uow:
        return await uow.integrations.list()


async def rotate_integration(ctx: Context, name: str) -> Created:
    """A new secret (and signing secret): the old URL stops working at once."""
    async with ctx.uow() as uow:
        row = await uow.integrations.by_name(name)
        if row is None:
            raise NotFound(f"no integration named {name!r}")
        secret, signing = _secrets(IntegrationKind(row.kind))
        await uow.integrations.set_secret(name, hash_secret(secret), signing)
        await uow.commit()
    return Created(row, integration_url(ctx.public_url, row, secret), signing)


async def delete_integration(ctx: Context, name: str) -> None:
    async with ctx.uow() as uow:
        row = await uow.integrations.by_name(name)
        if row is None or not await uow.integrations.delete(name):
            raise NotFound(f"no integration named {name!r}")
        await uow.timers.cancel(heartbeat_key(row))
        await uow.commit()


# --- heartbeats -----------------------------------------------------------------------------------
HEARTBEAT_TIMER = "heartbeat"  # fires when a heartbeat's call is late


def heartbeat_key(row: IntegrationRow) -> str:
    return f"{HEARTBEAT_TIMER}:{row.id}"


async def arm_heartbeat(uow: UnitOfWork, row: IntegrationRow, now: datetime) -> None:
    """The next call is due at ``now`` + period; late (the timer fires) after the grace too."""
    period = timedelta(seconds=row.period_seconds or 0)
    due = now + period
    late = due + timedelta(seconds=row.grace_seconds or 0)
    payload = {"integration": row.id, "due": due.isoformat()}
    await uow.timers.schedule(
        heartbeat_key(row), HEARTBEAT_TIMER, late, payload=payload, replace=True
    )
