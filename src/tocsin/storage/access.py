"""Storage for the web and API surface: tokens, users, and the read queries its pages need.

The core repositories (:mod:`tocsin.storage.incidents`) serve the write path; the queries here
serve the REST API and the dashboard: incidents filtered and counted for paging, timeline rows
after a known id (the live feed), audit pages and the outbox as operators see it. Each class
works on the connection of an open :class:`~tocsin.storage.uow.UnitOfWork`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.domain.audit import AuditEntry
from tocsin.domain.model import Actor, EntryKind, Incident, Severity, Status, TimelineEntry
from tocsin.storage import tables as t
from tocsin.storage.rows import audit_from_row, incident_from_row


@dataclass(frozen=True, slots=True)
class TokenRow:
    """An API token as stored: never the secret, only its hash and first characters."""

    name: str
    scope: str
    prefix: str
    token_hash: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class UserRow:
    """A dashboard user; ``password_hash`` is an argon2 hash."""

    username: str
    password_hash: str
    is_admin: bool
    created_at: datetime
    last_login_at: datetime | None = None


def _token(row: Any) -> TokenRow:
    return TokenRow(
        name=row["name"],
        scope=row["scope"],
        prefix=row["prefix"],
        token_hash=row["token_hash"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


def _user(row: Any) -> UserRow:
    return UserRow(
        username=row["username"],
        password_hash=row["password_hash"],
        is_admin=bool(row["is_admin"]),
        created_at=row["created_at"],
        last_login_at=row["last_login_at"],
    )


class TokenStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, token: TokenRow) -> None:
        await self.conn.execute(
            t.api_tokens.insert().values(
                name=token.name,
                scope=token.scope,
                prefix=token.prefix,
                token_hash=token.token_hash,
                created_at=token.created_at,
                created_by=token.created_by,
            )
        )

    async def by_name(self, name: str) -> TokenRow | None:
        query = sa.select(t.api_tokens).where(t.api_tokens.c.name == name)
        row = (await self.conn.execute(query)).mappings().first()
        return _token(row) if row is not None else None

    async def by_hash(self, token_hash: str) -> TokenRow | None:
        query = sa.select(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash)
        row = (await self.conn.execute(query)).mappings().first()
        return _token(row) if row is not None else None

    async def list(self) -> list[TokenRow]:
        query = sa.select(t.api_tokens).order_by(t.api_tokens.c.name)
        return [_token(row) for row in (await self.conn.execute(query)).mappings()]

    async def delete(self, name: str) -> None:
        await self.conn.execute(t.api_tokens.delete().where(t.api_tokens.c.name == name))

    async def revoke(self, name: str, now: datetime) -> bool:
        """Mark the active token ``name`` revoked; False when there is no such active token."""
        result = await self.conn.execute(
            t.api_tokens.update()
            .where(t.api_tokens.c.name == name)
            .where(t.api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount == 1)

    async def touch(self, name: str, now: datetime) -> None:
        await self.conn.execute(
            t.api_tokens.update().where(t.api_tokens.c.name == name).values(last_used_at=now)
        )


class UserStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, user: UserRow) -> None:
        await self.conn.execute(
            t.users.insert().values(
                username=user.username,
                password_hash=user.password_hash,
                is_admin=user.is_admin,
                created_at=user.created_at,
            )
        )

    async def get(self, username: str) -> UserRow | None:
        query = sa.select(t.users).where(t.users.c.username == username)
        row = (await self.conn.execute(query)).mappings().first()
        return _user(row) if row is not None else None

    async def list(self) -> list[UserRow]:
        query = sa.select(t.users).order_by(t.users.c.username)
        return [_user(row) for row in (await self.conn.execute(query)).mappings()]

    async def delete(self, username: str) -> bool:
        result = await self.conn.execute(t.users.delete().where(t.users.c.username == username))
        return bool(result.rowcount == 1)

    async def logged_in(self, username: str, now: datetime, password_hash: str | None) -> None:
        """Stamp the login; store ``password_hash`` when the hash was upgraded."""
        values: dict[str, Any] = {"last_login_at": now}
        if password_hash is not None:
            values["password_hash"] = password_hash
        await self.conn.execute(
            t.users.update().where(t.users.c.username == username).values(**values)
        )


class ReadStore:
    """Queries for lists and feeds; they change nothing."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def search_incidents(
        self, *, status: str, severity: Severity | None, limit: int, offset: int
    ) -> tuple[list[Incident], int]:
        """A page of incidents and the total that match.

        ``status`` is ``open``, ``resolved`` or ``all``. Order: open before resolved; open ones
        by severity (P1 first) then newest; resolved ones newest first.
        """
        resolved = t.incidents.c.status == Status.RESOLVED.value
        conditions = []
        if status == "open":
            conditions.append(~resolved)
        elif status == "resolved":
            conditions.append(resolved)
        if severity is not None:
            conditions.append(t.incidents.c.severity == severity.value)
        where = sa.and_(sa.true(), *conditions)
        total = await self.conn.scalar(
            sa.select(sa.func.count()).select_from(t.incidents).where(where)
        )
        query = (
            sa.select(t.incidents)
            .where(where)
            .order_by(
                sa.case((resolved, 1), else_=0),
                sa.case((resolved, "P9"), else_=t.incidents.c.severity),
                t.incidents.c.number.desc(),
            )
            .limit(limit)
            .offset(offset)
        )
        rows = (await self.conn.execute(query)).mappings()
        return [incident_from_row(row) for row in rows], int(total or 0)

    async def incident_version(self, number: int) -> int | None:
        query = sa.select(t.incidents.c.version).where(t.incidents.c.number == number)
        value = await self.conn.scalar(query)
        return int(value) if value is not None else None

    async def timeline_after(
        self, number: int, after: int, limit: int = 200
    ) -> list[tuple[int, TimelineEntry]]:
        """Timeline rows of incident ``number`` whose id is above ``after``, oldest first."""
        query = (
            sa.select(t.timeline)
            .where(t.timeline.c.incident == number)
            .where(t.timeline.c.id > after)
            .order_by(t.timeline.c.id)
            .limit(limit)
        )
        return [
            (
                int(r["id"]),
                TimelineEntry(
                    r["at"],
                    Actor.from_dict(r["actor"]),
                    EntryKind(r["kind"]),
                    r["text"],
                    dict(r["data"] or {}),
                ),
            )
            for r in (await self.conn.execute(query)).mappings()
        ]

    async def audit_page(self, *, limit: int, before: int | None) -> list[AuditEntry]:
        """Newest first; ``before`` (a ``seq``) continues a previous page."""
        query = sa.select(t.audit_log).order_by(t.audit_log.c.seq.desc()).limit(limit)
        if before is not None:
            query = query.where(t.audit_log.c.seq < before)
        return [audit_from_row(row) for row in (await self.conn.execute(query)).mappings()]

    async def deliveries(
        self, *, state: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Outbox rows, newest first, as operators see them (no payloads)."""
        o = t.outbox.c
        where = sa.and_(sa.true(), *([o.state == state] if state else []))
        total = await self.conn.scalar(
            sa.select(sa.func.count()).select_from(t.outbox).where(where)
        )
        columns = (o.id, o.incident, o.destination, o.kind, o.state, o.attempts, o.last_error,
                   o.created_at, o.next_attempt_at, o.delivered_at)  # fmt: skip
        query = sa.select(*columns).where(where).order_by(o.id.desc()).limit(limit).offset(offset)
        # Keys as plain str: the mapping's keys are SQLAlchemy ``quoted_name`` objects, which
        # JSON encoders (orjson) refuse.
        rows = [
            {str(key): value for key, value in row.items()}
            for row in (await self.conn.execute(query)).mappings()
        ]
        return rows, int(total or 0)
