"""Check-result retention: a week of detail, hourly aggregates to 90 days, the cut-offs on whole
hours, uptime per day for the status page's bars, and the bytes-per-day figure in
docs/monitors.md."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.domain.monitors import (
    HourlyAggregate,
    ResultRow,
    bytes_per_monitor_held,
    bytes_per_monitor_per_day,
    daily_uptime,
    expired_aggregates,
    plan_retention,
)
from tocsin.domain.monitors.retention import AGGREGATE_ROW_BYTES, RESULT_ROW_BYTES

NOW = datetime(2024, 5, 31, 12, 30, tzinfo=UTC)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "monitors.md"


def row(
    at: datetime, ok: bool = True, latency: int | None = 100, monitor: str = "web"
) -> ResultRow:
    return ResultRow(monitor, at, ok, latency)


def test_recent_rows_stay_older_hours_fold_and_the_oldest_go() -> None:
    """Rows younger than 7 days (counted from the hour) are kept, rows up to 90 days old are
    folded into hourly aggregates, older rows are dropped."""
    fresh = row(NOW - timedelta(days=6))
    edge = row(datetime(2024, 5, 24, 12, 5, tzinfo=UTC))  # 7 days and 25 minutes old: same hour
    week_old = row(datetime(2024, 5, 24, 11, 59, tzinfo=UTC))
    old = row(NOW - timedelta(days=89))
    ancient = row(NOW - timedelta(days=91))
    plan = plan_retention([fresh, edge, week_old, old, ancient], NOW)
    assert plan.keep == (fresh, edge)
    assert plan.aggregated == (week_old, old)
    assert plan.drop == (ancient,)
    assert [a.hour for a in plan.aggregates] == [
        datetime(2024, 3, 3, 12, 0, tzinfo=UTC),
        datetime(2024, 5, 24, 11, 0, tzinfo=UTC),
    ]


def test_an_hour_folds_into_one_aggregate_per_monitor() -> None:
    """Count, failures and min/avg/max latency over the answered checks of each monitor-hour."""
    hour = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    rows = [
        row(hour + timedelta(minutes=1), latency=100),
        row(hour + timedelta(minutes=2), ok=False, latency=None),
        row(hour + timedelta(minutes=3), ok=False, latency=400),
        row(hour + timedelta(minutes=4), latency=250),
        row(hour + timedelta(minutes=5), ok=False, latency=None, monitor="db"),
    ]
    plan = plan_retention(rows, NOW)
    assert plan.aggregates == (
        HourlyAggregate("db", hour, 1, 1, None, None, None),
        HourlyAggregate("web", hour, 4, 2, 100, 250.0, 400),
    )
    assert plan.keep == ()
    assert plan.drop == ()


def test_aggregates_past_90_days_expire() -> None:
    """Aggregates whose hour is before now − 90 days (on the hour) are to be deleted."""
    keep = HourlyAggregate("web", datetime(2024, 3, 2, 12, 0, tzinfo=UTC), 60, 0, 1, 1.0, 1)
    gone = HourlyAggregate("web", datetime(2024, 3, 2, 11, 0, tzinfo=UTC), 60, 0, 1, 1.0, 1)
    assert expired_aggregates([keep, gone], NOW) == (gone,)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 100 * 24 * 60), st.booleans()), max_size=80))
def test_every_row_gets_exactly_one_fate(ages: list[tuple[int, bool]]) -> None:
    """Each row is kept, folded or dropped, exactly once; the aggregates count every folded row
    and its failures."""
    rows = [row(NOW - timedelta(minutes=age), ok) for age, ok in ages]
    plan = plan_retention(rows, NOW)
    assert sorted(map(id, plan.keep + plan.aggregated + plan.drop)) == sorted(map(id, rows))
    assert sum(a.count for a in plan.aggregates) == len(plan.aggregated)
    assert sum(a.failures for a in plan.aggregates) == sum(not r.ok for r in plan.aggregated)
    assert all(NOW - r.checked_at < timedelta(days=7, hours=1) for r in plan.keep)
    assert all(NOW - r.checked_at > timedelta(days=90) for r in plan.drop)


def test_uptime_per_day_counts_detail_rows_and_aggregates() -> None:
    """Each day's bar is the share of good checks from rows and aggregates alike; a day with
    no checks has no percentage (an empty bar, not 100 %)."""
    rows = [row(datetime(2024, 5, 30, h, tzinfo=UTC), ok=h != 3) for h in range(4)]
    aggregates = [HourlyAggregate("web", datetime(2024, 5, 28, 1, tzinfo=UTC), 60, 6, 1, 1.0, 1)]
    bars = daily_uptime(rows, aggregates, date(2024, 5, 30), 3)
    assert [(b.day, b.checks, b.failures, b.percent) for b in bars] == [
        (date(2024, 5, 28), 60, 6, 90.0),
        (date(2024, 5, 29), 0, 0, None),
        (date(2024, 5, 30), 4, 1, 75.0),
    ]


def test_uptime_days_are_local_to_the_zone_given() -> None:
    """A check at 23:30 UTC falls on the next day in Berlin."""
    rows = [row(datetime(2024, 5, 29, 23, 30, tzinfo=UTC), ok=False)]
    (bar,) = daily_uptime(rows, [], date(2024, 5, 30), 1, ZoneInfo("Europe/Berlin"))
    assert (bar.checks, bar.percent) == (1, 0.0)


def test_the_bytes_per_monitor_figures_are_the_row_arithmetic() -> None:
    """One check a minute: 1,440 result rows × 60 B + 24 aggregates × 76 B a day; held once
    steady: 7 days of detail plus 83 days of aggregates. docs/monitors.md states these numbers."""
    assert (RESULT_ROW_BYTES, AGGREGATE_ROW_BYTES) == (60, 76)
    assert bytes_per_monitor_per_day(60) == 1440 * 60 + 24 * 76 == 88_224
    assert bytes_per_monitor_per_day(30) == 2880 * 60 + 24 * 76
    assert bytes_per_monitor_held(60) == 7 * 1440 * 60 + 83 * 24 * 76 == 756_192
    text = DOCS.read_text(encoding="utf-8")
    for figure in ("88,224", "756,192", "1,440 × 60", "24 × 76"):
        assert re.search(re.escape(figure), text), figure
