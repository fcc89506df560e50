"""The response-time chart's geometry, pure: scales, SVG path data, failure markers, axis labels.

The dashboard draws a monitor's response time as an inline SVG; everything about where things go
is decided here and the template only prints it. Two kinds of chart:

- :func:`check_chart`, one point per check (the 24 h and 7 d ranges). A series longer than two
  points per bucket (:attr:`Frame.buckets`, a couple of pixels each) is downsampled to the
  lowest and the highest response time of each bucket, in the order they happened, so the SVG
  stays a few hundred points long and a single slow check still shows as a spike.
- :func:`hourly_chart`, one point per hour from :class:`HourlyAggregate` rows (the 30 d range):
  the average as the line, the band between the fastest and the slowest check of each hour.

Failed checks are red markers at their response time, or on the top edge when the check got no
answer; several in one bucket share a marker. The line breaks where checks are missing for
longer than ``gap`` (a paused monitor, a stopped checker). Times are labelled in UTC.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tocsin.domain.monitors.retention import HourlyAggregate

__all__ = [
    "RANGES", "Chart", "Check", "Frame", "Marker", "Tick", "check_chart", "downsample",
    "hourly_chart", "nice_step", "percentile",
]  # fmt: skip

# The ranges the dashboard offers: name -> how far back, and whether hourly aggregates are read.
RANGES: dict[str, tuple[timedelta, bool]] = {
    "24h": (timedelta(hours=24), False),
    "7d": (timedelta(days=7), False),
    "30d": (timedelta(days=30), True),
}
_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Check:
    """One check as the chart needs it; ``latency_ms`` is None when no answer came."""

    at: datetime
    ok: bool
    latency_ms: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Frame:
    """The SVG's size in user units and the margins kept for the axis labels."""

    width: int = 720
    height: int = 240
    left: int = 64
    right: int = 12
    top: int = 12
    bottom: int = 28
    bucket_px: int = 2  # one downsampling bucket per this many pixels

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def bottom_y(self) -> int:
        return self.height - self.bottom

    @property
    def buckets(self) -> int:
        return max(1, self.plot_width // self.bucket_px)


@dataclass(frozen=True, slots=True)
class Tick:
    """An axis label at ``position`` (x for the time axis, y for the response-time axis)."""

    position: float
    label: str


@dataclass(frozen=True, slots=True)
class Marker:
    """A failed check (or several in one bucket) at ``x``, ``y``; ``label`` says what failed."""

    x: float
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """What the template draws. ``line`` and ``band`` are SVG path data (``""``: nothing)."""

    frame: Frame
    line: str
    band: str
    failures: tuple[Marker, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    checks: int
    failed: int
    summary: str
    points: int  # how many points the line has, after downsampling

    @property
    def empty(self) -> bool:
        return self.checks == 0


def nice_step(value: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50 … that is at least ``value`` (1 for nothing)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if factor * power >= value:
            return int(factor * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of sorted ``values`` (``share`` 0.5 for the median)."""
    rank = max(1, math.ceil(share * len(values)))
    return values[rank - 1]


def downsample(points: Sequence[tuple[datetime, int]], start: datetime, end: datetime,
               buckets: int) -> list[tuple[datetime, int]]:  # fmt: skip
    """At most two points per time bucket: each bucket's lowest and highest value, in time order.

    ``points`` are in time order; a series short enough is returned as it is."""
    if len(points) <= 2 * buckets:
        return list(points)
    span = (end - start).total_seconds() or 1.0
    kept: list[tuple[datetime, int]] = []
    group: list[tuple[datetime, int]] = []
    current = -1
    for point in points:
        index = min(buckets - 1, max(0, int((point[0] - start).total_seconds() / span * buckets)))
        if index != current and group:
            kept.extend(_extremes(group))
            group = []
        current = index
        group.append(point)
    if group:
        kept.extend(_extremes(group))
    return kept


def _extremes(group: list[tuple[datetime, int]]) -> list[tuple[datetime, int]]:
    low = min(group, key=lambda p: p[1])
    high = max(group, key=lambda p: p[1])
    if low is high or low == high:
        return [low]
    return sorted((low, high), key=lambda p: p[0])


class _Scale:
    """Times to x and milliseconds to y inside the frame's plot area."""

    def __init__(self, frame: Frame, start: datetime, end: datetime, top_ms: int) -> None:
        self.frame, self.start, self.top_ms = frame, start, top_ms
        self.seconds = (end - start).total_seconds() or 1.0

    def x(self, at: datetime) -> float:
        share = (at - self.start).total_seconds() / self.seconds
        return self.frame.left + min(1.0, max(0.0, share)) * self.frame.plot_width

    def y(self, ms: float | None) -> float:
        if ms is None:  # no answer: the top edge
            return float(self.frame.top)
        return self.frame.bottom_y - min(1.0, ms / self.top_ms) * self.frame.plot_height


def _y_axis(frame: Frame, highest: float) -> tuple[int, tuple[Tick, ...]]:
    """The top of the scale (a whole number of nice steps, at most five) and its labels."""
    step = nice_step(max(highest, 1) / 4)
    top = step * max(1, math.ceil(highest / step))
    ticks = []
    for k in range(top // step + 1):
        value = k * step
        ticks.append(Tick(frame.bottom_y - value / top * frame.plot_height, f"{value:,} ms"))
    return top, tuple(ticks)


def _x_axis(scale: _Scale, start: datetime, end: datetime) -> tuple[Tick, ...]:
    """Labels on whole hours (up to a day shown) or on midnights (longer), in UTC."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    span = end - start
    if span <= timedelta(days=1):
        step, form = timedelta(hours=3 if span > timedelta(hours=6) else 1), "%H:%M"
        first = start.replace(minute=0, second=0, microsecond=0)
        while first < start or first.hour % (step // _HOUR):
            first += _HOUR
    else:
        step, form = timedelta(days=1 if span <= timedelta(days=8) else 5), "%b %d"
        first = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if first < start:
            first += timedelta(days=1)
    ticks, at = [], first
    while at <= end:
        ticks.append(Tick(scale.x(at), at.strftime(form)))
        at += step
    return tuple(ticks)


def _path(points: Iterable[tuple[datetime, float]], scale: _Scale, gap: timedelta) -> str:
    """``M x y L x y …``; a new ``M`` after a hole longer than ``gap``."""
    parts: list[str] = []
    previous: datetime | None = None
    for at, ms in points:
        command = "L" if previous is not None and at - previous <= gap else "M"
        parts.append(f"{command}{scale.x(at):.1f} {scale.y(ms):.1f}")
        previous = at
    return " ".join(parts)


def _summary(values: list[float], checks: int, failed: int, what: str) -> str:
    if not checks:
        return "no checks"
    tail = f"{failed:,} failed check{'' if failed == 1 else 's'} of {checks:,}"
    if not values:
        return f"no responses, {tail}"
    values.sort()
    median, p95 = round(percentile(values, 0.5)), round(percentile(values, 0.95))
    return f"{what}median {median:,} ms, p95 {p95:,} ms, {tail}"


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%b %d %H:%M UTC")


def check_chart(
    checks: Sequence[Check], start: datetime, end: datetime, gap: timedelta,
    frame: Frame = Frame(),
) -> Chart:  # fmt: skip
    """The chart of ``checks`` (oldest first) between ``start`` and ``end``."""
    answered = [(c.at, c.latency_ms) for c in checks if c.latency_ms is not None]
    top, y_ticks = _y_axis(frame, max((ms for _, ms in answered), default=0) * 1.05)
    scale = _Scale(frame, start, end, top)
    line = downsample(answered, start, end, frame.buckets)
    bucket = (end - start) / frame.buckets
    path = _path(((at, float(ms)) for at, ms in line), scale, max(gap, 2 * bucket))
    markers: dict[int, list[Check]] = {}
    for check in checks:
        if not check.ok:
            bucket_index = int((scale.x(check.at) - frame.left) / frame.bucket_px)
            markers.setdefault(bucket_index, []).append(check)
    failures = tuple(_check_marker(group, scale) for group in markers.values())
    failed = sum(len(group) for group in markers.values())
    summary = _summary([float(ms) for _, ms in answered], len(checks), failed, "")
    return Chart(frame, path, "", failures, _x_axis(scale, start, end), y_ticks,
                 len(checks), failed, summary, len(line))  # fmt: skip


def _check_marker(group: list[Check], scale: _Scale) -> Marker:
    first = group[0]
    unanswered = any(c.latency_ms is None for c in group)
    slowest = None if unanswered else max(c.latency_ms or 0 for c in group)
    reason = first.reason or "failed"
    if len(group) == 1:
        label = f"{_when(first.at)}: {reason}"
    else:
        label = f"{len(group)} failed checks from {_when(first.at)}: {reason}"
    return Marker(round(scale.x(first.at), 1), round(scale.y(slowest), 1), label)


def hourly_chart(
    hours: Sequence[HourlyAggregate], start: datetime, end: datetime, frame: Frame = Frame()
) -> Chart:
    """The chart of hourly aggregates (oldest first): average line, min–max band."""
    answered = [h for h in hours if h.avg_ms is not None]
    top, y_ticks = _y_axis(frame, max((h.max_ms or 0 for h in answered), default=0) * 1.05)
    scale = _Scale(frame, start, end, top)
    middle = _HOUR / 2
    line = [(h.hour + middle, h.avg_ms or 0.0) for h in answered]
    path = _path(line, scale, 2 * _HOUR)
    band = _band(answered, scale)
    failures = tuple(
        Marker(round(scale.x(h.hour + middle), 1), round(scale.y(h.max_ms), 1),
               f"{_when(h.hour)}: {h.failures:,} of {h.count:,} checks failed")
        for h in hours if h.failures
    )  # fmt: skip
    checks, failed = sum(h.count for h in hours), sum(h.failures for h in hours)
    averages = [h.avg_ms or 0.0 for h in answered]
    summary = _summary(averages, checks, failed, "hourly averages: ")
    return Chart(frame, path, band, failures, _x_axis(scale, start, end), y_ticks,
                 checks, failed, summary, len(line))  # fmt: skip


def _band(hours: list[HourlyAggregate], scale: _Scale) -> str:
    """One closed shape per run of consecutive hours: along the maxima, back along the minima."""
    runs: list[list[HourlyAggregate]] = []
    for hour in hours:
        if runs and hour.hour - runs[-1][-1].hour <= 2 * _HOUR:
            runs[-1].append(hour)
        else:
            runs.append([hour])
    shapes = []
    middle = _HOUR / 2
    for run in runs:
        upper = [f"{scale.x(h.hour + middle):.1f} {scale.y(h.max_ms):.1f}" for h in run]
        lower = [f"{scale.x(h.hour + middle):.1f} {scale.y(h.min_ms):.1f}" for h in reversed(run)]
        shapes.append("M" + " L".join(upper + lower) + " Z")
    return " ".join(shapes)
