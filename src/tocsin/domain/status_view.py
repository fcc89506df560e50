"""What the public status page shows, computed from components and public incidents.

:func:`build_page` turns the stored facts (components, public incidents with their timelines) into
a :class:`StatusPage`: each component's current status (the worst of its own status and what the
open public incidents affecting it do to it), 90 days of uptime bars per component computed from
incident durations, the overall indicator, the active and the past incidents with their public
updates. :mod:`tocsin.domain.status_json` renders it in Atlassian Statuspage's public format.

Uptime follows Statuspage's convention: a major outage counts fully as downtime, a partial outage
30 %, degraded performance and maintenance not at all. An incident counts at its current severity
for its whole duration, from its declaration to its resolution (or now).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from tocsin.domain.maintenance import Maintenance, under_maintenance
from tocsin.domain.model import Incident, TimelineEntry
from tocsin.domain.monitors.retention import DayUptime
from tocsin.domain.policy import Policy
from tocsin.domain.public_summary import shown
from tocsin.domain.statuspage import (
    COMPONENT_STATUSES,
    OPERATIONAL,
    UNDER_MAINTENANCE,
    component_status,
    impact,
    public_updates,
    worst,
)

HISTORY_DAYS = 90
DAY = 86400.0
DOWNTIME_WEIGHT = {"major_outage": 1.0, "partial_outage": 0.3}
INDICATORS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
    "maintenance": "Service Under Maintenance",
}
_INDICATOR_OF_STATUS = {
    "major_outage": "critical",
    "partial_outage": "major",
    "degraded_performance": "minor",
    UNDER_MAINTENANCE: "maintenance",
}
_INDICATOR_RANK = ("none", "maintenance", "minor", "major", "critical")


@dataclass(frozen=True, slots=True)
class PageInfo:
    id: str
    name: str
    url: str
    time_zone: str = "Etc/UTC"


@dataclass(frozen=True, slots=True)
class ComponentRecord:
    """A component as stored: from the policy, the API, or a policy one with a status override."""

    name: str
    description: str = ""
    status: str = OPERATIONAL
    position: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DayBar:
    """One day of a component's history: its worst status that day and its uptime in percent."""

    day: date
    status: str
    uptime: float
    outage_seconds: float  # weighted: major outage fully, partial outage 30 %
    seconds: float = DAY  # the time counted (today: up to now)
    major_seconds: float = 0.0  # of major outage (monitored days: the failed checks' share)
    partial_seconds: float = 0.0
    checks: int = 0  # of the component's monitors that day (none: the bar is from incidents)
    failures: int = 0


@dataclass(frozen=True, slots=True)
class ComponentView:
    id: str
    name: str
    description: str
    status: str
    position: int
    created_at: datetime
    updated_at: datetime
    days: tuple[DayBar, ...]
    uptime: float  # over the whole history, percent
    monitored: bool = False  # has monitors: their checks give the uptime


@dataclass(frozen=True, slots=True)
class UpdateView:
    id: str
    status: str
    body: str
    at: datetime


@dataclass(frozen=True, slots=True)
class IncidentView:
    id: str
    name: str
    status: str
    impact: str
    created_at: datetime
    updated_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None
    components: tuple[str, ...]
    updates: tuple[UpdateView, ...]  # newest first
    summary: str = ""  # the public post-mortem summary, once resolved (domain/public_summary.py)
    summary_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"


@dataclass(frozen=True, slots=True)
class StatusPage:
    page: PageInfo
    indicator: str
    description: str
    components: tuple[ComponentView, ...]
    active: tuple[IncidentView, ...]  # open incidents, most severe first
    past: tuple[IncidentView, ...]  # resolved within the history, newest first
    updated_at: datetime
    now: datetime | None = None  # when the page was built
    maintenances: tuple[Maintenance, ...] = ()  # public ones of the history, soonest start first


def opaque_id(*parts: object) -> str:
    """A stable 12-character id in Statuspage's style (lower-case letters and digits)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:12])


def component_id(name: str) -> str:
    return opaque_id("component", name)


# --- incidents ------------------------------------------------------------------------------------
def incident_view(
    incident: Incident, timeline: Sequence[TimelineEntry], public_id: str
) -> IncidentView:
    updates = public_updates(timeline)
    views = tuple(
        UpdateView(f"{public_id}{index:04d}", u.status, u.body, u.at)
        for index, u in reversed(list(enumerate(updates)))
    )
    summary = shown(incident)
    changed = [incident.declared_at, *(u.at for u in updates)]
    if summary is not None:
        changed.append(summary.published_at)
    return IncidentView(
        id=public_id,
        name=incident.title,
        status=incident.status.value,
        impact=impact(incident.severity),
        created_at=incident.declared_at,
        updated_at=max(changed),
        monitoring_at=incident.mitigated_at,
        resolved_at=incident.resolved_at,
        components=incident.components,
        updates=views,
        summary=summary.text if summary is not None else "",
        summary_at=summary.published_at if summary is not None else None,
    )


# --- uptime ---------------------------------------------------------------------------------------
Interval = tuple[datetime, datetime, str]  # start, end, component status during it


def _outage(
    intervals: Sequence[Interval], start: datetime, end: datetime
) -> tuple[str, float, dict[str, float]]:
    """The worst status within [start, end), the weighted downtime seconds and the seconds spent
    in each status, with overlapping incidents counted once (the worst one at each moment)."""
    inside = [(max(a, start), min(b, end), s) for a, b, s in intervals if a < end and b > start]
    if not inside:
        return OPERATIONAL, 0.0, {}
    points = sorted({start, end, *(a for a, _, _ in inside), *(b for _, b, _ in inside)})
    seconds = 0.0
    spent: dict[str, float] = {}
    for left, right in itertools.pairwise(points):
        here = [s for a, b, s in inside if a <= left and b >= right]
        status = worst(here)
        length = (right - left).total_seconds()
        seconds += DOWNTIME_WEIGHT.get(status, 0.0) * length
        spent[status] = spent.get(status, 0.0) + length
    return worst([s for _, _, s in inside]), seconds, spent


def bars_uptime(bars: Sequence[DayBar], monitored: bool = False) -> float:
    """The uptime over ``bars``, in percent, as the page shows it: for a component with monitors
    the share of good checks over those days (without any check, the mean of the bars); for
    one without, one minus the weighted outage time over the time counted."""
    if not bars:
        return 100.0
    if monitored:
        checks = sum(b.checks for b in bars)
        if not checks:
            return round(sum(b.uptime for b in bars) / len(bars), 2)
        return round(100.0 * (checks - sum(b.failures for b in bars)) / checks, 2)
    outage = total = 0.0
    for bar in bars:
        outage += bar.outage_seconds
        total += bar.seconds
    return round(100.0 * (1 - outage / total), 2)


def uptime_bars(
    intervals: Sequence[Interval], now: datetime, days: int = HISTORY_DAYS
) -> tuple[tuple[DayBar, ...], float]:
    """``days`` bars (oldest first, today last) and the uptime over all of them, in percent."""
    today = now.astimezone(UTC).date()
    bars = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        start = datetime.combine(day, time(), UTC)
        end = min(start + timedelta(days=1), now)
        length = max((end - start).total_seconds(), 1.0)
        status, outage, spent = _outage(intervals, start, end)
        uptime = round(100.0 * (1 - outage / length), 2)
        major, partial = spent.get("major_outage", 0.0), spent.get("partial_outage", 0.0)
        bars.append(DayBar(day, status, uptime, outage, length, major, partial))
    return tuple(bars), bars_uptime(bars)


def checked_bars(
    bars: tuple[DayBar, ...], checked: Sequence[DayUptime]
) -> tuple[tuple[DayBar, ...], float]:
    """The bars of a component that has monitors: each day's uptime is the share of good
    checks (docs/monitors.md); a day without checks keeps the bar from incidents. The overall
    figure is over every check of the days shown. A checked day's major outage is its share of
    failed checks times the time counted that day; it has no partial outage (a check passes or
    fails)."""
    by_day = {d.day: d for d in checked if d.checks}
    shown = tuple(_checked_bar(bar, by_day[bar.day]) if bar.day in by_day else bar for bar in bars)
    return shown, bars_uptime(shown, monitored=True)


def _checked_bar(bar: DayBar, day: DayUptime) -> DayBar:
    down = bar.seconds * day.failures / day.checks
    return replace(bar, uptime=round(day.percent or 0.0, 2), major_seconds=down,
                   partial_seconds=0.0, checks=day.checks, failures=day.failures)  # fmt: skip


def _intervals(
    incidents: Sequence[Incident], name: str, policy: Policy, now: datetime
) -> list[Interval]:
    found = []
    for incident in incidents:
        if name in incident.components:
            status = component_status(incident.severity, policy)
            if status != OPERATIONAL:
                found.append((incident.declared_at, incident.resolved_at or now, status))
    return found


# --- the page -------------------------------------------------------------------------------------
def _component(
    record: ComponentRecord,
    incidents: Sequence[Incident],
    policy: Policy,
    now: datetime,
    held: frozenset[str] = frozenset(),
    checked: Sequence[DayUptime] | None = None,
) -> ComponentView:
    live = [
        component_status(i.severity, policy)
        for i in incidents
        if i.is_open and record.name in i.components
    ]
    if record.name in held:  # inside a maintenance window
        live.append(UNDER_MAINTENANCE)
    days, uptime = uptime_bars(_intervals(incidents, record.name, policy, now), now)
    if checked is not None:  # the component has monitors: their checks give the uptime
        days, uptime = checked_bars(days, checked)
    created = record.created_at or datetime.combine(days[0].day, time(), UTC)
    changed = [record.updated_at or created]
    changed += [i.declared_at for i in incidents if record.name in i.components]
    changed += [i.resolved_at for i in incidents if record.name in i.components and i.resolved_at]
    return ComponentView(
        id=component_id(record.name),
        name=record.name,
        description=record.description,
        status=worst([record.status, *live]),
        position=record.position,
        created_at=created,
        updated_at=max(changed),
        days=days,
        uptime=uptime,
        monitored=checked is not None,
    )


def overall(components: Sequence[ComponentView], active: Sequence[IncidentView]) -> str:
    """Statuspage's page indicator: none, maintenance, minor, major or critical."""
    found = [_INDICATOR_OF_STATUS.get(c.status, "none") for c in components]
    found += [i.impact for i in active]
    return max(found, key=_INDICATOR_RANK.index, default="none")


def build_page(
    page: PageInfo,
    components: Sequence[ComponentRecord],
    incidents: Sequence[tuple[Incident, Sequence[TimelineEntry]]],
    policy: Policy,
    now: datetime,
    public_id: Callable[[Incident], str],
    maintenances: Sequence[Maintenance] = (),
    checked: Mapping[str, Sequence[DayUptime]] | None = None,
) -> StatusPage:
    """The page for ``incidents`` (already filtered to the public ones) and ``maintenances``
    (the public ones) at ``now``; ``checked`` is the daily uptime of the components that have
    monitors, by component name."""
    cutoff = now - timedelta(days=HISTORY_DAYS)
    kept = [(i, t) for i, t in incidents if i.resolved_at is None or i.resolved_at >= cutoff]
    plain = [i for i, _ in kept]
    views = [(i, incident_view(i, t, public_id(i))) for i, t in kept]
    active = tuple(v for i, v in sorted(views, key=lambda p: (p[0].severity.rank, -p[0].number))
                   if v.is_open)  # fmt: skip
    past = tuple(
        v for _, v in sorted(views, key=lambda p: p[1].resolved_at or now, reverse=True)
        if not v.is_open
    )  # fmt: skip
    shown = sorted(components, key=lambda c: (c.position, c.name.casefold()))
    held = under_maintenance(maintenances, now)
    checked = checked or {}
    comps = tuple(_component(c, plain, policy, now, held, checked.get(c.name)) for c in shown)
    indicator = overall(comps, active)
    stamps = [c.updated_at for c in comps] + [v.updated_at for _, v in views]
    return StatusPage(
        page=page,
        indicator=indicator,
        description=INDICATORS[indicator],
        components=comps,
        active=active,
        past=past,
        updated_at=max(stamps + [m.updated_at for m in maintenances if m.updated_at], default=now),
        now=now,
        maintenances=tuple(maintenances),
    )


__all__ = [
    "COMPONENT_STATUSES", "ComponentRecord", "ComponentView", "DayBar", "IncidentView", "PageInfo",
    "StatusPage", "UpdateView", "bars_uptime", "build_page", "component_id", "opaque_id", "overall",
    "uptime_bars",
]  # fmt: skip
