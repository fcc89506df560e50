"""The stores of the incident write path (incidents with their action items, the timeline, the
audit log, request dedup): map the domain to rows and back, on one connection inside one
transaction. The outbox rows a change queues are written by
:class:`~tocsin.storage.outbox.OutboxStore`."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.domain.audit import AuditEntry, AuditRecord, chain
from tocsin.domain.errors import ConcurrentUpdate
from tocsin.domain.model import (
    ActionItem,
    Actor,
    EntryKind,
    Incident,
    Status,
    TimelineEntry,
)
from tocsin.storage import direct
from tocsin.storage import tables as t
from tocsin.storage.rows import (
    _action_from_row,
    _action_row,
    _audit_row,
    _incident_row,
    _utc,
    audit_from_row,
    incident_from_row,
)


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    """A dialect-specific INSERT, so ``on_conflict_do_nothing`` is available on both databases."""
    return _dialect_insert(conn.dialect.name)(table)


def _dialect_insert(name: str) -> Any:
    """``sqlalchemy.dialects.<name>.insert``, imported when first needed (a SQLite process
    never loads the PostgreSQL dialect)."""
    return importlib.import_module(f"sqlalchemy.dialects.{name}").insert


# Statements on the write path, built once and run as direct.Prepared: on SQLite inside a write
# transaction they go straight to the driver (storage/direct.py); elsewhere a prebuilt statement
# executed with a dict of parameters still skips building the expression and its cache key.
_P = direct.Prepared
_INCIDENT_SELECT = sa.select(t.incidents).where(t.incidents.c.number == sa.bindparam("b_number"))
_INCIDENT = _P(_INCIDENT_SELECT)
_INCIDENT_FOR_UPDATE = _P(_INCIDENT_SELECT.with_for_update())
_ACTIONS = _P(
    sa.select(t.action_items)
    .where(t.action_items.c.incident == sa.bindparam("b_number"))
    .order_by(t.action_items.c.number)
)
_SAVE_INCIDENT = _P(
    t.incidents.update()
    .where(t.incidents.c.number == sa.bindparam("b_number"))
    .where(t.incidents.c.version == sa.bindparam("b_version"))
)
_AUDIT_HEAD = _P(
    sa.select(t.audit_head.c.seq, t.audit_head.c.hash)
    .where(t.audit_head.c.id == 1)
    .with_for_update()
)
_MOVE_AUDIT_HEAD = _P(t.audit_head.update().where(t.audit_head.c.id == 1))
_ADD_AUDIT = _P(t.audit_log.insert())
_ADD_ENTRY = _P(t.timeline.insert())
# Every change to an incident appends to the timeline, so its newest id is the cheap marker
# that says "some incident changed" (the list cache and the status page cache read it).
NEWEST_ENTRY = sa.select(sa.func.max(t.timeline.c.id))


class IncidentStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        # The action items (number -> done) as stored, per incident read or written in this
        # transaction at ``version``: ``save`` diffs against them instead of reading them again.
        self._stored: dict[int, tuple[int, dict[int, bool]]] = {}

    def _remember(self, incident: Incident) -> None:
        items = {a.number: a.done for a in incident.action_items}
        self._stored[incident.number] = (incident.version, items)

    async def _stored_actions(self, number: int, version: int) -> dict[int, bool]:
        """The stored action items of ``number``: the snapshot, if taken at the version just
        replaced (every write of action items moves the version), else a SELECT."""
        known = self._stored.get(number)
        if known is not None and known[0] == version:
            return dict(known[1])
        stored = await self.conn.execute(
            sa.select(t.action_items.c.number, t.action_items.c.done).where(
                t.action_items.c.incident == number
            )
        )
        return dict(stored.all())

    async def next_number(self) -> int:
        """Take the next ``INC-n``. The counter row stays locked until commit, so numbers are
        gap-free: a rolled-back declare gives its number back."""
        result = await self.conn.execute(
            t.counters.update()
            .where(t.counters.c.name == "incident")
            .values(value=t.counters.c.value + 1)
            .returning(t.counters.c.value)
        )
        return int(result.scalar_one())

    async def add(self, incident: Incident) -> None:
        await self.conn.execute(t.incidents.insert(), _incident_row(incident))
        await self._insert_actions(incident.number, incident.action_items)
        self._remember(incident)

    async def get(self, number: int, *, for_update: bool = False) -> Incident | None:
        query = _INCIDENT_FOR_UPDATE if for_update else _INCIDENT
        found = (await query.run(self.conn, {"b_number": number})).rows
        if not found:
            return None
        incident = incident_from_row(found[0])
        actions = await _ACTIONS.run(self.conn, {"b_number": number})
        incident.action_items = [_action_from_row(a) for a in actions.rows]
        self._remember(incident)
        return incident

    async def save(self, incident: Incident) -> None:
        """Write back a loaded incident; refuse if someone else saved it since we read it."""
        values = _incident_row(incident)
        # The key is the WHERE, never SET: with foreign keys on, SQLite re-checks every child
        # row (timeline, action items) of a parent whose key column is assigned, even to the
        # same value, so a note cost grew with the incident's timeline (315 µs at 5,000 rows).
        del values["number"]
        values["version"] = incident.version + 1
        values["b_number"], values["b_version"] = incident.number, incident.version
        result = await _SAVE_INCIDENT.run(self.conn, values)
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"{incident.ref} was changed by someone else; try again.")
        known = await self._stored_actions(incident.number, incident.version)
        incident.version += 1
        await self._insert_actions(
            incident.number, [a for a in incident.action_items if a.number not in known]
        )
        for item in incident.action_items:
            if item.number in known and known[item.number] != item.done:
                await self.conn.execute(
                    t.action_items.update()
                    .where(t.action_items.c.incident == incident.number)
                    .where(t.action_items.c.number == item.number)
                    .values(done=item.done)
                )
        self._remember(incident)

    async def mark_published(self, number: int, at: datetime) -> None:
        """Record that the incident went public (once; the version is not moved)."""
        await self.conn.execute(
            t.incidents.update()
            .where(t.incidents.c.number == number)
            .where(t.incidents.c.published_at.is_(None))
            .values(published_at=at)
        )

    async def list(
        self, *, open_only: bool = True, limit: int = 50, offset: int = 0
    ) -> list[Incident]:
        """Newest first. Action items are not loaded (lists do not show them)."""
        query = sa.select(t.incidents).order_by(t.incidents.c.number.desc())
        if open_only:
            query = query.where(t.incidents.c.status != Status.RESOLVED.value)
        rows = await self.conn.execute(query.limit(limit).offset(offset))
        return [incident_from_row(row) for row in rows.mappings()]

    async def _insert_actions(self, number: int, items: Sequence[ActionItem]) -> None:
        if items:
            await self.conn.execute(
                t.action_items.insert(), [_action_row(number, item) for item in items]
            )


class TimelineStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def append(self, number: int, entries: Sequence[TimelineEntry]) -> None:
        if entries:
            await _ADD_ENTRY.run(
                self.conn,
                [
                    {
                        "incident": number,
                        "at": e.at,
                        "actor": e.actor.to_dict(),
                        "kind": e.kind.value,
                        "text": e.text,
                        "data": e.data,
                    }
                    for e in entries
                ],
            )

    async def newest_id(self) -> int | None:
        """The id of the newest entry of any incident: every change moves it."""
        newest = (await self.conn.execute(NEWEST_ENTRY)).scalar_one_or_none()
        return None if newest is None else int(newest)

    async def list(self, number: int) -> list[TimelineEntry]:
        rows = await self.conn.execute(
            sa.select(t.timeline).where(t.timeline.c.incident == number).order_by(t.timeline.c.id)
        )
        return [
            TimelineEntry(
                _utc(r["at"]),
                Actor.from_dict(r["actor"]),
                EntryKind(r["kind"]),
                r["text"],
                dict(r["data"] or {}),
            )
            for r in rows.mappings()
        ]


class AuditStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def append(self, record: AuditRecord) -> AuditEntry:
        """Chain ``record`` onto the head. The head row is locked until commit, so concurrent
        writers queue here and the chain never forks."""
        (head,) = (await _AUDIT_HEAD.run(self.conn, {})).rows
        entry = chain(int(head["seq"]) + 1, record, str(head["hash"]))
        await _ADD_AUDIT.run(self.conn, _audit_row(entry))
        await _MOVE_AUDIT_HEAD.run(self.conn, {"seq": entry.seq, "hash": entry.hash})
        return entry

    async def head(self) -> tuple[int, str]:
        """The chain head as recorded: the last entry's sequence number and hash (unlocked)."""
        row = (
            await self.conn.execute(
                sa.select(t.audit_head.c.seq, t.audit_head.c.hash).where(t.audit_head.c.id == 1)
            )
        ).one()
        return int(row.seq), str(row.hash)

    async def entries(self, *, batch: int = 1000) -> AsyncIterator[AuditEntry]:
        """Every entry in order, read in batches (the log may be long)."""
        after = 0
        while True:
            rows = (
                (
                    await self.conn.execute(
                        sa.select(t.audit_log)
                        .where(t.audit_log.c.seq > after)
                        .order_by(t.audit_log.c.seq)
                        .limit(batch)
                    )
                )
                .mappings()
                .all()
            )
            if not rows:
                return
            for row in rows:
                yield audit_from_row(row)
            after = int(rows[-1]["seq"])

    async def recent(self, limit: int = 100, incident: int | None = None) -> list[AuditEntry]:
        query = sa.select(t.audit_log).order_by(t.audit_log.c.seq.desc()).limit(limit)
        if incident is not None:
            query = query.where(t.audit_log.c.incident == incident)
        return [audit_from_row(r) for r in (await self.conn.execute(query)).mappings()]


class DedupStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def first_time(self, key: str, now: datetime) -> bool:
        """Record ``key``; True the first time it is seen, False on every later call."""
        statement = _insert(self.conn, t.seen_requests).on_conflict_do_nothing(
            index_elements=["key"]
        )
        result = await self.conn.execute(statement, {"key": key, "seen_at": now})
        return bool(result.rowcount == 1)


__all__ = [
    "AuditStore",
    "DedupStore",
    "IncidentStore",
    "TimelineStore",
]
