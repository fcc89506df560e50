"""Alert groups kept whole: the domain's :class:`~tocsin.domain.alerts.AlertGroup` with its
alerts as JSON by fingerprint (:func:`alert_json` and ``_stored`` are the mapping), beside what the
services add to it (the incident it joined, the route's action). Every method runs in the caller's
transaction; ``for_update`` locks the row on PostgreSQL (SQLite's single writer serialises).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.domain.alerts import Alert, AlertGroup, AlertStatus, GroupAlert
from tocsin.storage.alert_tables import alert_groups
from tocsin.storage.rows import _utc, utc

__all__ = ["AlertGroupStore", "StoredGroup", "alert_json", "key_hash"]


@dataclass(frozen=True, slots=True)
class StoredGroup:
    """A group with what the services keep beside it: the incident it joined (if any), the
    route's action and whether the incident resolves with it."""

    group: AlertGroup
    incident: int | None = None
    action: str = ""
    auto_resolve: bool = False

    @property
    def id(self) -> int:
        assert self.group.id is not None  # stored groups always have one
        return self.group.id


def key_hash(group_key: str) -> str:
    return hashlib.sha256(group_key.encode()).hexdigest()


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def alert_json(entry: GroupAlert) -> dict[str, Any]:
    alert = entry.alert
    return {
        "status": alert.status.value,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "starts_at": _time(alert.starts_at),
        "ends_at": _time(alert.ends_at),
        "links": dict(alert.links),
        "values": dict(alert.values),
        "value_text": alert.value_text,
        "at": _time(entry.at),
    }


def _alert(fingerprint: str, data: Mapping[str, Any]) -> GroupAlert:
    alert = Alert(
        fingerprint=fingerprint,
        status=AlertStatus(data["status"]),
        labels=MappingProxyType(dict(data.get("labels") or {})),
        annotations=MappingProxyType(dict(data.get("annotations") or {})),
        starts_at=_parse_time(data.get("starts_at")),
        ends_at=_parse_time(data.get("ends_at")),
        links=MappingProxyType(dict(data.get("links") or {})),
        values=MappingProxyType(dict(data.get("values") or {})),
        value_text=str(data.get("value_text") or ""),
    )
    at = _parse_time(data["at"])
    assert at is not None
    return GroupAlert(alert, at)


def _stored(r: Any) -> StoredGroup:
    alerts = {fp: _alert(fp, data) for fp, data in sorted((r["alerts"] or {}).items())}
    group = AlertGroup(
        integration=str(r["integration"]),
        group_key=r["group_key"],
        title=r["title"],
        alerts=MappingProxyType(alerts),
        first_seen=_utc(r["first_seen"]),
        last_seen=_utc(r["last_seen"]),
        fired_at=utc(r["fired_at"]),
        acknowledged=bool(r["acknowledged"]),
        silenced=bool(r["silenced"]),
        id=int(r["id"]),
        silenced_reason=r["silenced_reason"] or "",
        acknowledged_by=r["acknowledged_by"] or "",
    )
    return StoredGroup(group, r["incident"], r["action"], bool(r["auto_resolve"]))


def _group_values(stored: StoredGroup) -> dict[str, Any]:
    group = stored.group
    return {
        "title": group.title[:2000],
        "status": group.status.value,
        "alerts": {fp: alert_json(entry) for fp, entry in group.alerts.items()},
        "first_seen": group.first_seen,
        "last_seen": group.last_seen,
        "fired_at": group.fired_at,
        "acknowledged": group.acknowledged,
        "acknowledged_by": group.acknowledged_by[:200] or None,
        "silenced": group.silenced,
        "silenced_reason": group.silenced_reason[:200] or None,
        "incident": stored.incident,
        "action": stored.action,
        "auto_resolve": stored.auto_resolve,
    }


class AlertGroupStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def _first(self, query: Any, for_update: bool) -> StoredGroup | None:
        if for_update and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self.conn.execute(query)).mappings().first()
        return _stored(row) if row is not None else None

    async def find(
        self, integration: int, group_key: str, *, for_update: bool = False
    ) -> StoredGroup | None:
        query = sa.select(alert_groups).where(
            alert_groups.c.integration == integration,
            alert_groups.c.key_hash == key_hash(group_key),
        )
        return await self._first(query, for_update)

    async def get(self, group_id: int, *, for_update: bool = False) -> StoredGroup | None:
        query = sa.select(alert_groups).where(alert_groups.c.id == group_id)
        return await self._first(query, for_update)

    async def save(self, stored: StoredGroup) -> StoredGroup:
        """Insert a new group (no id yet) or update a stored one; the group with its id."""
        values = _group_values(stored)
        group = stored.group
        if group.id is not None:
            table = alert_groups
            await self.conn.execute(table.update().where(table.c.id == group.id).values(**values))
            return stored
        values |= {
            "integration": int(group.integration),
            "group_key": group.group_key,
            "key_hash": key_hash(group.group_key),
        }
        statement = alert_groups.insert().values(**values).returning(alert_groups.c.id)
        made = replace(group, id=int((await self.conn.execute(statement)).scalar_one()))
        return replace(stored, group=made)

    async def of_incident(self, incident: int) -> list[StoredGroup]:
        query = sa.select(alert_groups).where(alert_groups.c.incident == incident)
        return [_stored(r) for r in (await self.conn.execute(query)).mappings()]

    async def counts(self) -> dict[str, int]:
        """How many groups are in each status."""
        query = sa.select(alert_groups.c.status, sa.func.count()).group_by(alert_groups.c.status)
        return {status: int(n) for status, n in (await self.conn.execute(query)).all()}

    async def list(
        self, *, statuses: tuple[str, ...] = (), limit: int = 50, offset: int = 0
    ) -> list[StoredGroup]:
        query = sa.select(alert_groups).order_by(
            alert_groups.c.last_seen.desc(), alert_groups.c.id.desc()
        )
        if statuses:
            query = query.where(alert_groups.c.status.in_(statuses))
        rows = await self.conn.execute(query.limit(limit).offset(offset))
        return [_stored(r) for r in rows.mappings()]
