"""The alert intake's stores: integrations, the inbox of accepted bodies, and silences (the
groups are in :mod:`tocsin.storage.alert_groups`). Every method runs in the caller's transaction.

:meth:`AlertInboxStore.claim` takes pending inbox rows for the transaction that processes them:
``FOR UPDATE SKIP LOCKED`` on PostgreSQL (two workers take different rows), and SQLite's single
writer serialises the rest; a crash before commit leaves them pending.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.domain.alerts import Silence
from tocsin.domain.alerts.silences import parse_matchers
from tocsin.storage.alert_groups import key_hash
from tocsin.storage.alert_tables import (
    alert_inbox,
    alert_integrations,
    alert_silences,
)
from tocsin.storage.rows import _utc, utc

PENDING, DONE, FAILED = "pending", "done", "failed"


# --- integrations ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class IntegrationRow:
    id: int
    public_id: str
    kind: str
    name: str
    secret_hash: str
    created_at: datetime
    created_by: str
    signing_secret: str | None = None
    last_received_at: datetime | None = None
    period_seconds: int | None = None
    grace_seconds: int | None = None


def _integration(r: Any) -> IntegrationRow:
    return IntegrationRow(
        id=int(r["id"]),
        public_id=r["public_id"],
        kind=r["kind"],
        name=r["name"],
        secret_hash=r["secret_hash"],
        created_at=_utc(r["created_at"]),
        created_by=r["created_by"],
        signing_secret=r["signing_secret"],
        last_received_at=utc(r["last_received_at"]),
        period_seconds=r["period_seconds"],
        grace_seconds=r["grace_seconds"],
    )


class IntegrationStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, row: IntegrationRow) -> int:
        values = {
            "public_id": row.public_id,
            "kind": row.kind,
            "name": row.name,
            "secret_hash": row.secret_hash,
            "signing_secret": row.signing_secret,
            "created_at": row.created_at,
            "created_by": row.created_by,
            "period_seconds": row.period_seconds,
            "grace_seconds": row.grace_seconds,
        }
        statement = alert_integrations.insert().values(**values).returning(alert_integrations.c.id)
        return int((await self.conn.execute(statement)).scalar_one())

    async def _one(self, where: Any) -> IntegrationRow | None:
        query = sa.select(alert_integrations).where(where)
        row = (await self.conn.execute(query)).mappings().first()
        return _integration(row) if row is not None else None

    async def by_public_id(self, public_id: str) -> IntegrationRow | None:
        return await self._one(alert_integrations.c.public_id == public_id)

    async def by_name(self, name: str) -> IntegrationRow | None:
        return await self._one(alert_integrations.c.name == name)

    async def by_id(self, integration_id: int) -> IntegrationRow | None:
        return await self._one(alert_integrations.c.id == integration_id)

    async def list(self) -> list[IntegrationRow]:
        query = sa.select(alert_integrations).order_by(alert_integrations.c.id)
        return [_integration(r) for r in (await self.conn.execute(query)).mappings()]

    async def delete(self, name: str) -> bool:
        statement = alert_integrations.delete().where(alert_integrations.c.name == name)
        return bool((await self.conn.execute(statement)).rowcount == 1)

    async def set_secret(self, name: str, secret_hash: str, signing_secret: str | None) -> bool:
        statement = (
            alert_integrations.update()
            .where(alert_integrations.c.name == name)
            .values(secret_hash=secret_hash, signing_secret=signing_secret)
        )
        return bool((await self.conn.execute(statement)).rowcount == 1)

    async def touch(self, integration_id: int, now: datetime) -> None:
        statement = (
            alert_integrations.update()
            .where(alert_integrations.c.id == integration_id)
            .values(last_received_at=now)
        )
        await self.conn.execute(statement)


# --- the inbox ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InboxRow:
    id: int
    integration: int
    group_key: str
    digest: str
    body: str
    received_at: datetime
    state: str = PENDING
    error: str | None = None


def _inbox(r: Any) -> InboxRow:
    return InboxRow(
        id=int(r["id"]),
        integration=int(r["integration"]),
        group_key=r["group_key"],
        digest=r["digest"],
        body=r["body"],
        received_at=_utc(r["received_at"]),
        state=r["state"],
        error=r["error"],
    )


class AlertInboxStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def latest_digest(self, integration: int, group_key: str) -> str | None:
        """The digest of the last body accepted for this group (a redelivery repeats it)."""
        query = (
            sa.select(alert_inbox.c.digest)
            .where(
                alert_inbox.c.integration == integration,
                alert_inbox.c.group_hash == key_hash(group_key),
            )
            .order_by(alert_inbox.c.id.desc())
            .limit(1)
        )
        return (await self.conn.execute(query)).scalar_one_or_none()

    async def add(
        self, integration: int, group_key: str, digest: str, body: str, now: datetime
    ) -> int:
        values = {
            "integration": integration,
            "group_key": group_key,
            "group_hash": key_hash(group_key),
            "digest": digest,
            "body": body,
            "received_at": now,
            "state": PENDING,
        }
        statement = alert_inbox.insert().values(**values).returning(alert_inbox.c.id)
        return int((await self.conn.execute(statement)).scalar_one())

    async def claim(self, limit: int, first: int | None = None) -> list[InboxRow]:
        """Up to ``limit`` pending rows, oldest first (row ``first`` among them if pending),
        locked for this transaction."""
        query = sa.select(alert_inbox).where(alert_inbox.c.state == PENDING)
        order: list[Any] = [alert_inbox.c.id]
        if first is not None:
            order.insert(0, sa.case((alert_inbox.c.id == first, 0), else_=1))
        query = query.order_by(*order).limit(limit)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [_inbox(r) for r in (await self.conn.execute(query)).mappings()]

    async def finish(self, row_id: int, now: datetime, error: str | None = None) -> None:
        state = DONE if error is None else FAILED
        statement = (
            alert_inbox.update()
            .where(alert_inbox.c.id == row_id)
            .values(state=state, processed_at=now, error=error and error[:2000])
        )
        await self.conn.execute(statement)

    async def rows(self, states: tuple[str, ...] = (PENDING,)) -> list[InboxRow]:
        query = sa.select(alert_inbox).where(alert_inbox.c.state.in_(states))
        return [_inbox(r) for r in (await self.conn.execute(query.order_by("id"))).mappings()]


# --- silences -------------------------------------------------------------------------------------
class SilenceStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, silence: Silence, now: datetime) -> int:
        values = {
            "group_id": silence.group_id,
            "matchers": ",".join(str(m) for m in silence.matchers),
            "starts_at": silence.starts_at,
            "ends_at": silence.ends_at,
            "comment": silence.comment,
            "created_by": silence.created_by,
            "created_at": now,
        }
        statement = alert_silences.insert().values(**values).returning(alert_silences.c.id)
        return int((await self.conn.execute(statement)).scalar_one())

    async def active(self, now: datetime) -> list[Silence]:
        table = alert_silences
        query = sa.select(table).where(table.c.starts_at <= now, table.c.ends_at > now)
        return [_silence(r) for r in (await self.conn.execute(query)).mappings()]

    async def list(
        self, now: datetime, *, expired: bool = False, limit: int = 200
    ) -> list[SilenceRow]:
        """Silences not yet over (with ``expired``, the ended ones too), newest first."""
        table = alert_silences
        query = sa.select(table).order_by(table.c.id.desc()).limit(limit)
        if not expired:
            query = query.where(table.c.ends_at > now)
        rows = (await self.conn.execute(query)).mappings()
        return [SilenceRow(int(r["id"]), _silence(r), _utc(r["created_at"])) for r in rows]

    async def expire(self, silence_id: int, now: datetime) -> SilenceRow | None:
        """End a silence now (kept, as ended); None when there is none or it is already over."""
        table = alert_silences
        found = (
            (
                await self.conn.execute(
                    sa.select(table).where(table.c.id == silence_id, table.c.ends_at > now)
                )
            )
            .mappings()
            .first()
        )
        if found is None:
            return None
        ends = max(now, _utc(found["starts_at"]))
        await self.conn.execute(table.update().where(table.c.id == silence_id).values(ends_at=ends))
        row = SilenceRow(silence_id, _silence(found), _utc(found["created_at"]))
        return replace(row, silence=replace(row.silence, ends_at=ends))


@dataclass(frozen=True, slots=True)
class SilenceRow:
    """A stored silence with its id."""

    id: int
    silence: Silence
    created_at: datetime


def _silence(r: Any) -> Silence:
    matchers = parse_matchers(r["matchers"]) if r["matchers"] else ()
    return Silence(
        _utc(r["starts_at"]),
        _utc(r["ends_at"]),
        matchers,
        r["group_id"],
        r["comment"],
        r["created_by"],
    )


__all__ = [
    "DONE", "FAILED", "PENDING", "AlertInboxStore", "InboxRow", "IntegrationRow",
    "IntegrationStore", "SilenceRow", "SilenceStore",
]  # fmt: skip
