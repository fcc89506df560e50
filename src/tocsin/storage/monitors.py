"""Uptime monitors' rows: state per monitor, one result per check, hourly aggregates, and the
definitions of the monitors created through the API or the CLI.

Every method runs inside the caller's transaction (``uow.monitors``). Retention is applied by
:meth:`MonitorStore.apply_retention` with the plan of :func:`tocsin.domain.monitors.plan_retention`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.domain.monitors import (
    HourlyAggregate,
    MonitorState,
    MonitorStatus,
    ResultRow,
    RetentionPlan,
)
from tocsin.storage.incidents import _insert
from tocsin.storage.monitor_tables import (
    monitor_definitions,
    monitor_hourly,
    monitor_results,
    monitor_states,
)
from tocsin.storage.rows import _utc, utc

_s, _r, _h, _d = monitor_states, monitor_results, monitor_hourly, monitor_definitions


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One stored check; ``error`` is the failed check's reason (empty when ok)."""

    monitor: str
    checked_at: datetime
    ok: bool
    latency_ms: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class StoredDefinition:
    """A monitor created through the API or the CLI: its ``[[monitor]]`` keys as given."""

    name: str
    definition: Mapping[str, Any]
    restricted: bool
    created_by: str
    created_at: datetime


def _definition(r: Any) -> StoredDefinition:
    return StoredDefinition(
        r["name"], dict(r["definition"]), bool(r["restricted"]), r["created_by"],
        _utc(r["created_at"]),
    )  # fmt: skip


def _state(r: Any) -> MonitorState:
    return MonitorState(
        status=MonitorStatus(r["status"]),
        failures=int(r["failures"]),
        successes=int(r["successes"]),
        reasons=tuple(r["reasons"] or ()),
        since=utc(r["since"]),
        last_checked=utc(r["last_checked"]),
        latency_ms=r["latency_ms"],
    )


def _result(r: Any) -> CheckResult:
    return CheckResult(
        r["monitor"], _utc(r["checked_at"]), bool(r["ok"]), r["latency_ms"], r["error"]
    )


class MonitorStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def state(self, name: str, *, for_update: bool = False) -> MonitorState | None:
        query = sa.select(_s).where(_s.c.name == name)
        if for_update and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self.conn.execute(query)).mappings().first()
        return _state(row) if row is not None else None

    async def states(self) -> dict[str, MonitorState]:
        rows = (await self.conn.execute(sa.select(_s))).mappings()
        return {r["name"]: _state(r) for r in rows}

    async def save_state(self, name: str, state: MonitorState) -> None:
        values = {
            "status": state.status.value,
            "failures": state.failures,
            "successes": state.successes,
            "reasons": list(state.reasons),
            "since": state.since,
            "last_checked": state.last_checked,
            "latency_ms": state.latency_ms,
            "paused": state.status is MonitorStatus.PAUSED,
        }
        statement = _insert(self.conn, _s).values(name=name, **values)
        statement = statement.on_conflict_do_update(index_elements=["name"], set_=values)
        await self.conn.execute(statement)

    async def add_result(self, result: CheckResult) -> None:
        await self.conn.execute(
            _r.insert().values(
                monitor=result.monitor,
                checked_at=result.checked_at,
                ok=result.ok,
                latency_ms=result.latency_ms,
                error=result.error or None,
            )
        )

    async def results(
        self,
        names: Sequence[str],
        since: datetime,
        limit: int | None = None,
        *,
        failed_only: bool = False,
    ) -> list[CheckResult]:
        """Results of ``names`` checked at or after ``since`` (only the failed checks with
        ``failed_only``), newest first."""
        query = (
            sa.select(_r)
            .where(_r.c.monitor.in_(list(names)), _r.c.checked_at >= since)
            .order_by(_r.c.checked_at.desc(), _r.c.id.desc())
        )
        if failed_only:
            query = query.where(_r.c.ok.is_(False))
        if limit is not None:
            query = query.limit(limit)
        return [_result(r) for r in (await self.conn.execute(query)).mappings()]

    async def aggregates(self, names: Sequence[str], since: datetime) -> list[HourlyAggregate]:
        query = sa.select(_h).where(_h.c.monitor.in_(list(names)), _h.c.hour >= since)
        return [
            HourlyAggregate(
                r["monitor"],
                _utc(r["hour"]),
                int(r["count"]),
                int(r["failures"]),
                r["min_ms"],
                r["avg_ms"],
                r["max_ms"],
            )
            for r in (await self.conn.execute(query.order_by(_h.c.hour))).mappings()
        ]

    async def rows_before(self, cutoff: datetime) -> list[ResultRow]:
        """Result rows checked before ``cutoff`` (the candidates for folding or dropping)."""
        query = sa.select(_r).where(_r.c.checked_at < cutoff)
        return [
            ResultRow(r["monitor"], _utc(r["checked_at"]), bool(r["ok"]), r["latency_ms"])
            for r in (await self.conn.execute(query)).mappings()
        ]

    async def apply_retention(self, plan: RetentionPlan, cutoff: datetime, oldest: datetime) -> int:
        """Store ``plan``'s aggregates, delete the rows it folded or dropped (everything before
        ``cutoff``) and the aggregates older than ``oldest``; how many result rows went."""
        if plan.aggregates:
            await self.conn.execute(
                _h.insert(),
                [
                    {
                        "monitor": a.monitor,
                        "hour": a.hour,
                        "count": a.count,
                        "failures": a.failures,
                        "min_ms": a.min_ms,
                        "avg_ms": a.avg_ms,
                        "max_ms": a.max_ms,
                    }
                    for a in plan.aggregates
                ],
            )
        gone = await self.conn.execute(_r.delete().where(_r.c.checked_at < cutoff))
        await self.conn.execute(_h.delete().where(_h.c.hour < oldest))
        return int(gone.rowcount)

    # --- definitions of the monitors created through the API or the CLI ---------------------
    async def definitions(self) -> list[StoredDefinition]:
        """Every stored definition, oldest first."""
        query = sa.select(_d).order_by(_d.c.id)
        return [_definition(r) for r in (await self.conn.execute(query)).mappings()]

    async def definition(self, name: str, *, for_update: bool = False) -> StoredDefinition | None:
        query = sa.select(_d).where(_d.c.name == name)
        if for_update and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self.conn.execute(query)).mappings().first()
        return _definition(row) if row is not None else None

    async def definitions_marker(self) -> tuple[int, int]:
        """(how many, the highest id): it changes whenever a definition is added or deleted."""
        query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(_d.c.id), 0))
        count, highest = (await self.conn.execute(query)).one()
        return int(count), int(highest)

    async def add_definition(self, stored: StoredDefinition) -> bool:
        """Store a definition; False (nothing stored) when its name is taken."""
        statement = _insert(self.conn, _d).values(
            name=stored.name,
            definition=dict(stored.definition),
            restricted=stored.restricted,
            created_by=stored.created_by,
            created_at=stored.created_at,
        )
        result = await self.conn.execute(statement.on_conflict_do_nothing(index_elements=["name"]))
        return bool(result.rowcount == 1)

    async def delete_definition(self, name: str) -> bool:
        """Delete a stored monitor with its state, results and aggregates; False if unknown."""
        gone = await self.conn.execute(_d.delete().where(_d.c.name == name))
        await self.conn.execute(_s.delete().where(_s.c.name == name))
        await self.conn.execute(_r.delete().where(_r.c.monitor == name))
        await self.conn.execute(_h.delete().where(_h.c.monitor == name))
        return bool(gone.rowcount == 1)
