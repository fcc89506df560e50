"""Who is on call: rotations, layers and overrides, computed for any instant. Pure and clock-free.

A ``[[schedule]]`` of the policy is one *layer*: its members take turns in shifts that start at the
handoff, read in the schedule's time zone. Shift boundaries are wall-clock times (a daily rotation
hands off at 09:00 local on both sides of a DST change, so that day's shift is 23 or 25 hours
long), anchored at :data:`ANCHOR`: the first member's shift is the one that starts at the first
handoff of the week of Monday 2024-01-01. A schedule named ``NAME/anything`` is a further layer of
``NAME``: ``schedule:NAME`` pages whoever is on call in every layer at that moment (a primary and
a shadow, a weekday and a night rotation of the same team). An :class:`Override` puts someone else
on call in one layer for a while; when overrides overlap, the latest one wins.

Nonexistent local times (the hour skipped in spring) hand off when the clock reaches them, that is
one hour later in the new offset; ambiguous ones (the hour repeated in autumn) hand off at the first
occurrence.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tocsin.domain.policy import WEEKDAYS, Policy, Schedule

ANCHOR = date(2024, 1, 1)  # a Monday: where every rotation's shift 0 begins
LAYER_SEPARATOR = "/"
SCHEDULE_PREFIX = "schedule:"
_LOOKAHEAD_LIMIT = timedelta(days=400)
_RELATIVE = re.compile(r"\+\s*(\d+)\s*(m|min|minutes?|h|hours?|d|days?|w|weeks?)", re.IGNORECASE)
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True, slots=True)
class Override:
    """``person`` is on call in layer ``schedule`` from ``start`` to ``end`` (UTC, end excluded)."""

    id: int
    schedule: str
    person: str
    start: datetime
    end: datetime
    created_by: str = ""
    created_at: datetime | None = None
    reason: str = ""

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class Shift:
    """``person`` is on call in ``layer`` from ``start`` to ``end`` (UTC, end excluded).

    ``override`` is the id of the override that put them there (None: the rotation did).
    """

    start: datetime
    end: datetime
    person: str
    layer: str
    override: int | None = None

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


class Rotation:
    """One layer's rotation: shift ``k`` runs from :meth:`boundary` ``(k)`` to ``(k + 1)``."""

    def __init__(self, schedule: Schedule) -> None:
        if not schedule.members:
            raise ValueError(f'schedule "{schedule.name}" has no members')
        self.schedule = schedule
        self.zone = ZoneInfo(schedule.timezone)
        self.period, self.anchor = _period_and_anchor(schedule)

    def boundary(self, k: int) -> datetime:
        """When shift ``k`` starts, in UTC (the local wall time, first occurrence)."""
        local = self.anchor + k * self.period
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def index_at(self, at: datetime) -> int:
        """The shift running at ``at``."""
        local = at.astimezone(self.zone).replace(tzinfo=None)
        k = math.floor((local - self.anchor) / self.period)
        while self.boundary(k) > at:
            k -= 1
        while self.boundary(k + 1) <= at:
            k += 1
        return k

    def shift(self, k: int) -> Shift:
        members = self.schedule.members
        return Shift(self.boundary(k), self.boundary(k + 1), members[k % len(members)], self.name)

    @property
    def name(self) -> str:
        return self.schedule.name

    def shifts(self, start: datetime, end: datetime) -> list[Shift]:
        """Every shift overlapping ``[start, end)``, whole (not cut to the window)."""
        found: list[Shift] = []
        k = self.index_at(start)
        while True:
            shift = self.shift(k)
            if shift.start >= end and found:
                return found
            if shift.end > shift.start:  # a handoff in the skipped spring hour can be empty
                found.append(shift)
            k += 1


def _period_and_anchor(schedule: Schedule) -> tuple[timedelta, datetime]:
    words = schedule.handoff.lower().split()
    hour, minute = (int(part) for part in words[-1].split(":"))
    day = ANCHOR
    if schedule.rotation == "weekly":
        weekday = WEEKDAYS.index(words[0]) if len(words) == 2 else 0
        return timedelta(days=7), datetime.combine(
            day + timedelta(days=weekday), time(hour, minute)
        )
    if schedule.rotation == "hours":
        return timedelta(hours=schedule.hours or 24), datetime.combine(day, time(hour, minute))
    return timedelta(days=1), datetime.combine(day, time(hour, minute))


# --- layers and overrides -------------------------------------------------------------------------
def layers(policy: Policy, name: str) -> tuple[Schedule, ...]:
    """The schedule ``name`` and its layers ``name/...``, in the policy's order."""
    prefix = name + LAYER_SEPARATOR
    return tuple(s for s in policy.schedules if s.name == name or s.name.startswith(prefix))


def top_schedules(policy: Policy) -> list[str]:
    """Schedule names that are not a layer of another schedule in the policy."""
    names = [s.name for s in policy.schedules]
    return [n for n in names if not any(n.startswith(o + LAYER_SEPARATOR) for o in names)]


def apply_overrides(base: Sequence[Shift], overrides: Iterable[Override]) -> list[Shift]:
    """``base`` (one layer's consecutive shifts) with ``overrides`` of that layer laid on top."""
    if not base:
        return []
    lo, hi = base[0].start, base[-1].end
    mine = [o for o in overrides if o.end > lo and o.start < hi and o.end > o.start]
    if not mine:
        return list(base)
    cuts = {lo, hi} | {s.start for s in base} | {t for o in mine for t in (o.start, o.end)}
    points = sorted(t for t in cuts if lo <= t <= hi)
    out: list[Shift] = []
    for a, b in itertools.pairwise(points):
        if a == b:
            continue
        winner = max((o for o in mine if o.covers(a)), key=lambda o: o.id, default=None)
        under = next(s for s in base if s.covers(a))
        piece = (
            Shift(a, b, winner.person, under.layer, winner.id)
            if winner is not None
            else replace(under, start=a, end=b)
        )
        if out and _same_source(out[-1], piece, base):
            out[-1] = replace(out[-1], end=b)
        else:
            out.append(piece)
    return out


def _same_source(left: Shift, right: Shift, base: Sequence[Shift]) -> bool:
    if left.override is not None or right.override is not None:
        return left.override == right.override and left.end == right.start
    return _home(left, base) is _home(right, base)


def _home(piece: Shift, base: Sequence[Shift]) -> Shift:
    return next(s for s in base if s.covers(piece.start))


def layer_shifts(
    schedule: Schedule, overrides: Iterable[Override], start: datetime, end: datetime
) -> list[Shift]:
    """Who is on call in this one layer during ``[start, end)``, overrides applied."""
    base = Rotation(schedule).shifts(start, end)
    merged = apply_overrides(base, (o for o in overrides if o.schedule == schedule.name))
    return [s for s in merged if s.end > start and s.start < end]


def schedule_shifts(
    policy: Policy, name: str, overrides: Iterable[Override], start: datetime, end: datetime
) -> list[Shift]:
    """Every layer's shifts of schedule ``name`` in ``[start, end)``, by start time then layer."""
    kept = list(overrides)
    found = [s for layer in layers(policy, name) for s in layer_shifts(layer, kept, start, end)]
    order = {layer.name: i for i, layer in enumerate(layers(policy, name))}
    return sorted(found, key=lambda s: (s.start, order[s.layer]))


def on_call(policy: Policy, name: str, overrides: Iterable[Override], at: datetime) -> list[Shift]:
    """The shift running at ``at`` in each layer of schedule ``name``."""
    kept = list(overrides)
    now = []
    for layer in layers(policy, name):
        shifts = layer_shifts(layer, kept, at, at + timedelta(microseconds=1))
        now += [s for s in shifts if s.covers(at)]
    return now


def next_shifts(
    policy: Policy, name: str, overrides: Iterable[Override], at: datetime
) -> list[Shift]:
    """For each layer, the first shift that starts after the one running at ``at``."""
    kept = list(overrides)
    found = []
    for layer in layers(policy, name):
        window = Rotation(layer).period * 2
        while window <= _LOOKAHEAD_LIMIT:
            shifts = layer_shifts(layer, kept, at, at + window)
            later = [s for s in shifts if s.start > at]
            if later:
                found.append(later[0])
                break
            window *= 2
    return found


def people(shifts: Iterable[Shift]) -> list[str]:
    """The distinct people of ``shifts``, in order."""
    return list(dict.fromkeys(s.person for s in shifts))


def level_targets(
    policy: Policy, level: Sequence[str], overrides: Iterable[Override], at: datetime
) -> list[str]:
    """The people an escalation level pages at ``at``: each ``schedule:NAME`` resolved to whoever
    is on call in its layers, people named directly as they are; no one twice."""
    kept = list(overrides)
    found: list[str] = []
    for target in level:
        if target.startswith(SCHEDULE_PREFIX):
            found += people(on_call(policy, target.removeprefix(SCHEDULE_PREFIX), kept, at))
        else:
            found.append(target)
    return list(dict.fromkeys(found))


def schedules_of(level: Sequence[str], policy: Policy) -> list[str]:
    """Every layer name a level's ``schedule:`` targets read (to load their overrides)."""
    names = [t.removeprefix(SCHEDULE_PREFIX) for t in level if t.startswith(SCHEDULE_PREFIX)]
    return list(dict.fromkeys(layer.name for n in names for layer in layers(policy, n)))


# --- reading times --------------------------------------------------------------------------------
def parse_when(text: str, timezone: str, now: datetime) -> datetime:
    """``now``, ``+90m`` / ``+8h`` / ``+2d`` / ``+1w``, or an ISO date-time such as
    ``2026-03-02 09:00`` (local to ``timezone`` unless it carries an offset) or a date alone
    (midnight local). Returns UTC; raises ValueError with a sentence for the user."""
    value = text.strip()
    if value.lower() == "now":
        return now.astimezone(UTC)
    relative = _RELATIVE.fullmatch(value)
    if relative:
        seconds = int(relative[1]) * _UNIT[relative[2][0].lower()]
        return (now + timedelta(seconds=seconds)).astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f'"{value[:40]}" is not a time; use "now", "+8h", "2026-03-02 09:00" or '
            '"2026-03-02T09:00+01:00"'
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    return parsed.astimezone(UTC)


def local(at: datetime, timezone: str) -> datetime:
    return at.astimezone(ZoneInfo(timezone))


# --- iCalendar ------------------------------------------------------------------------------------
def icalendar(name: str, shifts: Iterable[Shift], now: datetime) -> str:
    """An iCalendar (RFC 5545) feed of ``shifts``: one event per shift, times in UTC."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//tocsin//on-call schedule//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_ical_text(f'On call: {name}')}",
    ]
    for shift in shifts:
        how = " (override)" if shift.override is not None else ""
        uid = re.sub(
            r"[^A-Za-z0-9._-]+", "-", f"{shift.layer}-{_stamp(shift.start)}-{shift.person}"
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}@tocsin",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART:{_stamp(shift.start)}",
            f"DTEND:{_stamp(shift.end)}",
            f"SUMMARY:{_ical_text(f'On call ({shift.layer}): {shift.person}{how}')}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _ical_text(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return escaped.replace("\r\n", "\\n").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines of at most 75 octets; continuation lines start with one space (RFC 5545 3.1)."""
    parts, current, size, limit = [], "", 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, 74
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)
