"""One monitor's history for the dashboard: its response-time chart over a range and its recent
failures, read in one read-only unit of work.

The 24 h and 7 d ranges chart the stored checks one by one; 30 d charts hourly aggregates: the
stored ones (checks older than a week) and the last week's checks folded into hours the same way
retention folds them, so the hours join up. The chart's geometry is
:mod:`tocsin.domain.monitors.chart`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tocsin.domain.errors import ParseError
from tocsin.domain.monitors import Monitor, MonitorState, ResultRow
from tocsin.domain.monitors.chart import RANGES, Chart, Check, check_chart, hourly_chart
from tocsin.domain.monitors.retention import DETAIL_DAYS, aggregate_hours
from tocsin.services.context import Context
from tocsin.services.monitor_catalog import find_monitor
from tocsin.storage.monitors import CheckResult

DEFAULT_RANGE = "24h"
RECENT_FAILURES = 50
GAP_INTERVALS = 3  # the line breaks after this many intervals without a check


@dataclass(frozen=True, slots=True)
class MonitorHistory:
    monitor: Monitor
    state: MonitorState
    range: str
    chart: Chart
    failures: list[CheckResult]  # newest first, at most RECENT_FAILURES


def chart_range(value: str | None) -> str:
    """The range asked for (the default when not given); ParseError naming ``range`` otherwise."""
    if value is None or value == "":
        return DEFAULT_RANGE
    if value not in RANGES:
        allowed = ", ".join(RANGES)
        raise ParseError(f"The range must be one of {allowed}, not {value[:20]!r}.")
    return value


async def monitor_history(ctx: Context, name: str, range_name: str) -> MonitorHistory:
    """``name``'s state, chart over ``range_name`` (see :data:`RANGES`) and recent failures;
    NotFound for a monitor neither the policy nor the API defines."""
    span, hourly = RANGES[chart_range(range_name)]
    now = ctx.clock()
    start = now - span
    async with ctx.uow(read_only=True) as uow:
        monitor = await find_monitor(ctx, uow, name)
        state = await uow.monitors.state(name) or MonitorState()
        kept = timedelta(days=DETAIL_DAYS + 1)
        failures = await uow.monitors.results([name], now - kept, RECENT_FAILURES, failed_only=True)
        since = start.replace(minute=0, second=0, microsecond=0) if hourly else start
        results = await uow.monitors.results([name], since)
        stored = await uow.monitors.aggregates([name], since) if hourly else []
    results.reverse()  # oldest first
    if hourly:
        rows = [ResultRow(r.monitor, r.checked_at, r.ok, r.latency_ms) for r in results]
        hours = sorted([*stored, *aggregate_hours(rows)], key=lambda h: h.hour)
        chart = hourly_chart(hours, start, now)
    else:
        checks = [Check(r.checked_at, r.ok, r.latency_ms, r.error or "") for r in results]
        gap = timedelta(seconds=GAP_INTERVALS * monitor.interval_seconds)
        chart = check_chart(checks, start, now, gap)
    return MonitorHistory(monitor, state, range_name or DEFAULT_RANGE, chart, failures)
