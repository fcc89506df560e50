"""The response-time chart's geometry (domain/monitors/chart.py): scales, axis labels, the line's
path, downsampling that keeps spikes, failure markers, the hourly band, the summary."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tocsin.domain.monitors import HourlyAggregate
from tocsin.domain.monitors.chart import (
    Check,
    Frame,
    check_chart,
    downsample,
    hourly_chart,
    nice_step,
    percentile,
)

END = datetime(2026, 12, 6, 9, 17, tzinfo=UTC)
START = END - timedelta(hours=24)
GAP = timedelta(minutes=3)
FRAME = Frame()
POINT_RE = re.compile(r"([ML])([\d.]+) ([\d.]+)")


def points(path: str) -> list[tuple[str, float, float]]:
    return [(c, float(x), float(y)) for c, x, y in POINT_RE.findall(path)]


def every_minute(latency: int = 100) -> list[Check]:
    return [Check(START + timedelta(minutes=k), True, latency) for k in range(1, 24 * 60 + 1)]


def test_nice_steps_and_percentiles() -> None:
    """Axis steps are 1, 2 or 5 times a power of ten; percentiles are nearest-rank."""
    assert [nice_step(v) for v in (0, 1, 1.5, 3, 7, 12, 26, 260, 999)] == [
        1, 1, 2, 5, 10, 20, 50, 500, 1000
    ]  # fmt: skip
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95)) == (50.0, 95.0)
    assert percentile([7.0], 0.95) == 7.0


def test_an_empty_series_draws_nothing() -> None:
    """No checks: an empty chart with no line, no markers and the summary "no checks"."""
    chart = check_chart([], START, END, GAP)
    assert chart.empty
    assert (chart.line, chart.band, chart.failures, chart.points) == ("", "", (), 0)
    assert chart.summary == "no checks"


def test_a_single_point_scales_into_the_plot_area() -> None:
    """One check is one ``M`` at its time's x; the y scale tops out at a nice value above it,
    labelled in ms, and its y is in proportion."""
    chart = check_chart([Check(START + timedelta(hours=12), True, 180)], START, END, GAP)
    [(command, x, y)] = points(chart.line)
    assert command == "M"
    assert x == FRAME.left + FRAME.plot_width / 2
    assert [t.label for t in chart.y_ticks] == ["0 ms", "50 ms", "100 ms", "150 ms", "200 ms"]
    assert chart.y_ticks[0].position == FRAME.bottom_y
    assert chart.y_ticks[-1].position == FRAME.top
    assert y == FRAME.bottom_y - 180 / 200 * FRAME.plot_height
    assert chart.summary == "median 180 ms, p95 180 ms, 0 failed checks of 1"


def test_the_ends_of_the_window_are_the_plot_edges() -> None:
    """A check at the window's start is on the left edge and one at its end on the right."""
    chart = check_chart([Check(START, True, 10), Check(END, True, 10)], START, END, timedelta(1))
    [(_, left, _), (_, right, _)] = points(chart.line)
    assert (left, right) == (FRAME.left, FRAME.width - FRAME.right)


def test_time_labels_fall_on_whole_hours_or_days_in_utc() -> None:
    """24 h: every 3 h on the hour (HH:MM); 7 d: every midnight (Mon DD); 30 d: every 5 days."""
    day = check_chart(every_minute(), START, END, GAP)
    assert [t.label for t in day.x_ticks] == [
        "12:00", "15:00", "18:00", "21:00", "00:00", "03:00", "06:00", "09:00"
    ]  # fmt: skip
    week = check_chart(every_minute(), END - timedelta(days=7), END, GAP)
    assert [t.label for t in week.x_ticks] == ["Nov 30"] + [f"Dec {d:02}" for d in range(1, 7)]
    month = hourly_chart([], END - timedelta(days=30), END)
    assert [t.label for t in month.x_ticks] == ["Nov 07", "Nov 12", "Nov 17", "Nov 22",
                                                 "Nov 27", "Dec 02"]  # fmt: skip
    xs = [t.position for t in day.x_ticks]
    assert xs == sorted(xs)
    assert FRAME.left <= xs[0]
    assert xs[-1] <= FRAME.width - FRAME.right


def test_downsampling_keeps_the_spike_and_the_size_small() -> None:
    """2,880 checks (one every 30 s) become at most two points per bucket, and the one slow
    check among them is still the highest point of the line."""
    checks = [Check(START + timedelta(seconds=30 * k), True, 100 + k % 7) for k in range(2880)]
    checks[1717] = Check(checks[1717].at, True, 2400)
    chart = check_chart(checks, START, END, GAP)
    assert chart.points <= 2 * FRAME.buckets < 2880
    drawn = points(chart.line)
    assert len(drawn) == chart.points
    assert all(command == "L" for command, _, _ in drawn[1:])  # no false gaps
    top_y = min(y for _, _, y in drawn)
    assert top_y == round(FRAME.bottom_y - 2400 / 3000 * FRAME.plot_height, 1)
    assert len(chart.line) < 12_000


def test_downsample_keeps_each_buckets_extremes_in_time_order() -> None:
    """Per bucket the lowest and the highest value stay, in the order they happened; a short
    series is left alone."""
    at = [START + timedelta(minutes=k) for k in range(8)]
    series = list(zip(at, [5, 9, 1, 4, 3, 3, 8, 2], strict=True))
    assert downsample(series[:4], START, START + timedelta(minutes=8), 2) == series[:4]
    kept = downsample(series, START, START + timedelta(minutes=8), 2)
    assert kept == [series[1], series[2], series[6], series[7]]


def test_a_hole_in_the_checks_breaks_the_line() -> None:
    """Checks missing for longer than the gap (a paused monitor) start a new ``M``."""
    first = [Check(START + timedelta(minutes=k), True, 50) for k in range(10)]
    later = [Check(START + timedelta(hours=5, minutes=k), True, 50) for k in range(10)]
    chart = check_chart(first + later, START, END, GAP)
    assert [c for c, _, _ in points(chart.line)].count("M") == 2


def test_failed_checks_are_marked_where_they_happened() -> None:
    """A failure with a response time is marked at it, one without an answer on the top edge;
    two failures within one bucket share a marker that counts them; the line skips checks
    without an answer."""
    checks = every_minute(100)
    checks[600] = Check(checks[600].at, False, 300, "status 503, expected 2xx")
    checks[900] = Check(checks[900].at, False, None, "timeout")
    checks[901] = Check(checks[901].at, False, None, "timeout")
    chart = check_chart(checks, START, END, GAP)
    assert chart.failed == 3
    first, second = chart.failures
    scale_x = FRAME.left + (checks[600].at - START) / (END - START) * FRAME.plot_width
    assert first.x == round(scale_x, 1)
    assert first.y == round(FRAME.bottom_y - 300 / 400 * FRAME.plot_height, 1)
    assert first.label == "Dec 05 19:18 UTC: status 503, expected 2xx"
    assert second.y == FRAME.top
    assert second.label == "2 failed checks from Dec 06 00:18 UTC: timeout"
    assert chart.summary == "median 100 ms, p95 100 ms, 3 failed checks of 1,440"


def test_hourly_aggregates_draw_an_average_line_and_a_min_max_band() -> None:
    """30 d: the line goes through each hour's average at the middle of the hour, the band is
    one closed shape per run of hours along the maxima and back along the minima, and an hour
    with failures is marked at its slowest check."""
    end = END.replace(minute=0)
    start = end - timedelta(days=30)
    hours = [HourlyAggregate("web", start + timedelta(hours=h), 60, int(h == 2), 40, 80.0, 200)
             for h in range(4)]  # fmt: skip
    hours.append(HourlyAggregate("web", start + timedelta(hours=10), 60, 60, None, None, None))
    chart = hourly_chart(hours, start, end)
    drawn = points(chart.line)
    assert [c for c, _, _ in drawn] == ["M", "L", "L", "L"]
    assert drawn[0][1] == round(FRAME.left + 0.5 / (30 * 24) * FRAME.plot_width, 1)
    assert chart.band.startswith("M")
    assert chart.band.endswith(" Z")
    assert chart.band.count("M") == 1
    assert len(points(chart.band)) == 8
    assert chart.band.count(" L") == 7  # four maxima and four minima
    assert [m.label for m in chart.failures] == [
        "Nov 06 11:00 UTC: 1 of 60 checks failed", "Nov 06 19:00 UTC: 60 of 60 checks failed"
    ]  # fmt: skip
    assert chart.failures[1].y == FRAME.top  # no answer in that hour at all
    assert chart.summary == "hourly averages: median 80 ms, p95 80 ms, 61 failed checks of 300"
