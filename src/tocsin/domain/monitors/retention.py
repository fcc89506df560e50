"""Keeping check results: detail for a week, hourly aggregates for 90 days, then nothing.

The checker stores one :class:`ResultRow` per check. :func:`plan_retention` says, for the rows
stored and the time now, which rows stay as they are (younger than :data:`DETAIL_DAYS`), which
are folded into :class:`HourlyAggregate` rows (older, but whose hour is within
:data:`AGGREGATE_DAYS`) and which are dropped; :func:`expired_aggregates` says which aggregates
are past :data:`AGGREGATE_DAYS`. Both cut-offs fall on whole hours, so an hour is folded in one
go. :func:`daily_uptime` gives the share of good checks per day, what the status page's uptime
bars show.

:func:`bytes_per_monitor_per_day` is the storage estimate given in ``docs/monitors.md``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

__all__ = [
    "AGGREGATE_DAYS",
    "AGGREGATE_ROW_BYTES",
    "DETAIL_DAYS",
    "RESULT_ROW_BYTES",
    "DayUptime",
    "HourlyAggregate",
    "ResultRow",
    "RetentionPlan",
    "bytes_per_monitor_held",
    "bytes_per_monitor_per_day",
    "daily_uptime",
    "expired_aggregates",
    "plan_retention",
]  # fmt: skip

DETAIL_DAYS = 7
AGGREGATE_DAYS = 90

# Row sizes on PostgreSQL, before indexes: a 24-byte tuple header (23, aligned) and a 4-byte line
# pointer per row, plus the columns aligned to 8 bytes.
# result:    id 8 + monitor_id 8 + checked_at 8 + latency_ms 4 + ok 1 = 29 -> 32
# aggregate: id 8 + monitor_id 8 + hour 8 + avg_ms 8 + count, failures, min_ms, max_ms 4 x 4 = 48
_ROW_OVERHEAD = 24 + 4
RESULT_ROW_BYTES = _ROW_OVERHEAD + 32  # 60
AGGREGATE_ROW_BYTES = _ROW_OVERHEAD + 48  # 76


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One stored check; ``latency_ms`` is ``None`` when the target did not answer."""

    monitor: str
    checked_at: datetime
    ok: bool
    latency_ms: int | None = None


@dataclass(frozen=True, slots=True)
class HourlyAggregate:
    """The checks of one monitor in the hour starting at ``hour``; the latency figures are over
    the checks that got an answer (``None`` when none did)."""

    monitor: str
    hour: datetime
    count: int
    failures: int
    min_ms: int | None
    avg_ms: float | None
    max_ms: int | None


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    """``keep`` stays as it is; ``aggregates`` are written and then the ``aggregated`` rows they
    summarise are deleted; ``drop`` is deleted outright."""

    keep: tuple[ResultRow, ...]
    aggregates: tuple[HourlyAggregate, ...]
    aggregated: tuple[ResultRow, ...]
    drop: tuple[ResultRow, ...]


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _cutoffs(now: datetime) -> tuple[datetime, datetime]:
    return _hour(now - timedelta(days=DETAIL_DAYS)), _hour(now - timedelta(days=AGGREGATE_DAYS))


def plan_retention(rows: Iterable[ResultRow], now: datetime) -> RetentionPlan:
    """What to do with ``rows`` at ``now``: keep the last week, fold older hours, drop the rest."""
    detail, oldest = _cutoffs(now)
    keep, fold, drop = [], [], []
    for row in rows:
        if row.checked_at >= detail:
            keep.append(row)
        elif _hour(row.checked_at) >= oldest:
            fold.append(row)
        else:
            drop.append(row)
    return RetentionPlan(tuple(keep), aggregate_hours(fold), tuple(fold), tuple(drop))


def aggregate_hours(rows: Iterable[ResultRow]) -> tuple[HourlyAggregate, ...]:
    """One aggregate per (monitor, hour) of ``rows``, ordered by monitor then hour."""
    buckets: defaultdict[tuple[str, datetime], list[ResultRow]] = defaultdict(list)
    for row in rows:
        buckets[(row.monitor, _hour(row.checked_at))].append(row)
    return tuple(_aggregate(key, buckets[key]) for key in sorted(buckets))


def _aggregate(key: tuple[str, datetime], rows: Sequence[ResultRow]) -> HourlyAggregate:
    latencies = [row.latency_ms for row in rows if row.latency_ms is not None]
    failures = sum(not row.ok for row in rows)
    if not latencies:
        return HourlyAggregate(*key, len(rows), failures, None, None, None)
    average = sum(latencies) / len(latencies)
    return HourlyAggregate(*key, len(rows), failures, min(latencies), average, max(latencies))


def expired_aggregates(
    aggregates: Iterable[HourlyAggregate], now: datetime
) -> tuple[HourlyAggregate, ...]:
    """The aggregates older than :data:`AGGREGATE_DAYS` at ``now``: to delete."""
    _, oldest = _cutoffs(now)
    return tuple(aggregate for aggregate in aggregates if aggregate.hour < oldest)


@dataclass(frozen=True, slots=True)
class DayUptime:
    """One uptime bar: ``percent`` of good checks on ``day``, ``None`` with no checks."""

    day: date
    checks: int
    failures: int

    @property
    def percent(self) -> float | None:
        if not self.checks:
            return None
        return 100.0 * (self.checks - self.failures) / self.checks


def daily_uptime(
    rows: Iterable[ResultRow],
    aggregates: Iterable[HourlyAggregate],
    last_day: date,
    days: int,
    zone: tzinfo = UTC,
) -> tuple[DayUptime, ...]:
    """Uptime per day for the ``days`` days ending with ``last_day`` (oldest first), from the
    detail rows and hourly aggregates of a component's monitors; days are local to ``zone``."""
    checks: defaultdict[date, int] = defaultdict(int)
    failures: defaultdict[date, int] = defaultdict(int)
    for row in rows:
        day = row.checked_at.astimezone(zone).date()
        checks[day] += 1
        failures[day] += not row.ok
    for aggregate in aggregates:
        day = aggregate.hour.astimezone(zone).date()
        checks[day] += aggregate.count
        failures[day] += aggregate.failures
    first = last_day - timedelta(days=days - 1)
    wanted = (first + timedelta(days=offset) for offset in range(days))
    return tuple(DayUptime(day, checks[day], failures[day]) for day in wanted)


def bytes_per_monitor_per_day(interval_seconds: int = 60) -> int:
    """Bytes written per monitor per day: one detail row per check plus 24 hourly aggregates
    (1,440 x 60 + 24 x 76 = 88,224 at one check a minute)."""
    checks = 86400 // interval_seconds
    return checks * RESULT_ROW_BYTES + 24 * AGGREGATE_ROW_BYTES


def bytes_per_monitor_held(interval_seconds: int = 60) -> int:
    """Bytes held per monitor once retention is steady: :data:`DETAIL_DAYS` days of detail and
    the rest of :data:`AGGREGATE_DAYS` in hourly aggregates (756,192 at one check a minute)."""
    detail = DETAIL_DAYS * (86400 // interval_seconds) * RESULT_ROW_BYTES
    return detail + (AGGREGATE_DAYS - DETAIL_DAYS) * 24 * AGGREGATE_ROW_BYTES
