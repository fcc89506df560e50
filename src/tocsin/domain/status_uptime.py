"""A component's uptime over a range of days, in Atlassian Statuspage's ``ComponentUptime``
shape (``/status/api/v2/components/{id}/uptime.json``), computed from the page's own daily bars
(:mod:`tocsin.domain.status_view`), so the percentage is the one the page shows for those days.

:func:`uptime_range` reads the ``start`` and ``end`` query values (``YYYY-MM-DD``, or as
Atlassian allows ``YYYY-MM`` and ``YYYY``: a start on the first day of that month or year, an end
on its last) and clamps them to the days kept (:data:`~tocsin.domain.status_view.HISTORY_DAYS`,
ending today) with a warning saying so. :func:`component_uptime` sums the bars in the range:

* ``uptime_percentage``: :func:`~tocsin.domain.status_view.bars_uptime` over those days (good
  checks / all checks where the component has monitors, weighted incident outage time
  otherwise);
* ``major_outage`` and ``partial_outage``: whole seconds. On a day from incidents, the time an
  incident held the component in that status (overlaps counted once, the worst status at each
  moment); on a day with checks, the failed checks' share of the day as major outage and no
  partial outage.
* ``related_events``: the public incidents naming the component that were open at some moment
  of the range, newest first.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tocsin.domain.errors import ParseError
from tocsin.domain.status_json import stamp
from tocsin.domain.status_view import (
    HISTORY_DAYS,
    ComponentView,
    IncidentView,
    StatusPage,
    bars_uptime,
)

EARLIEST = date(1970, 1, 1)  # Atlassian's earliest supported date
END_ADJUSTED = "End date was adjusted to today. See range_end field in response for end date used."
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


class RangeError(ParseError):
    """A bad ``start`` or ``end``; the message reads ``<field>: <what is wrong>``."""

    def __init__(self, field: str, what: str) -> None:
        super().__init__(f"{field}: {what}")
        self.field = field


@dataclass(frozen=True, slots=True)
class UptimeRange:
    start: date
    end: date  # inclusive
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ComponentUptime:
    id: str
    name: str
    range: UptimeRange
    uptime_percentage: float
    major_outage: int  # seconds
    partial_outage: int
    related_events: tuple[IncidentView, ...]  # newest first


def parse_day(raw: str, field: str, *, last: bool) -> date:
    """``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``; a partial date is the first day of its month or
    year, or with ``last`` its last day."""
    found = _DATE.fullmatch(raw.strip())
    if found is None:
        raise RangeError(field, f"give a date as YYYY-MM-DD, not {raw[:20]!r}")
    year, month, day = (int(g) if g else None for g in found.groups())
    assert year is not None
    try:
        if month is None:
            parsed = date(year, 12, 31) if last else date(year, 1, 1)
        elif day is None:
            parsed = date(year, month, calendar.monthrange(year, month)[1] if last else 1)
        else:
            parsed = date(year, month, day)
    except ValueError:
        raise RangeError(field, f"{raw.strip()} is not a date") from None
    if parsed < EARLIEST:
        raise RangeError(field, f"the earliest date is {EARLIEST.isoformat()}")
    return parsed


def uptime_range(
    start: str | None, end: str | None, today: date, days: int = HISTORY_DAYS
) -> UptimeRange:
    """The range asked for (by default the ``days`` days ending today, as the page shows),
    clamped to those days with a warning for each edge moved."""
    first = today - timedelta(days=days - 1)
    asked_start = first if start is None else parse_day(start, "start", last=False)
    asked_end = today if end is None else parse_day(end, "end", last=True)
    if asked_start > today:
        raise RangeError("start", f"{asked_start.isoformat()} is after today ({today})")
    if asked_end < asked_start:
        raise RangeError("end", f"{asked_end.isoformat()} is before start {asked_start}")
    if asked_end < first:
        kept = f"the {days} days kept begin on {first.isoformat()}"
        raise RangeError("end", f"{asked_end.isoformat()} is before the history: {kept}")
    warnings = []
    if asked_start < first:
        warnings.append(
            f"Start date was adjusted to {first.isoformat()}, the first of the {days} days kept. "
            "See range_start field in response for start date used."
        )
    if asked_end > today:
        warnings.append(END_ADJUSTED)
    return UptimeRange(max(asked_start, first), min(asked_end, today), tuple(warnings))


def _open_within(incident: IncidentView, start: datetime, end: datetime, now: datetime) -> bool:
    return incident.created_at < end and (incident.resolved_at or now) >= start


def component_uptime(
    component: ComponentView,
    incidents: Sequence[IncidentView],
    span: UptimeRange,
    now: datetime,
) -> ComponentUptime:
    """``component``'s uptime over ``span`` (already clamped by :func:`uptime_range`);
    ``incidents`` are the page's public ones, open and past."""
    bars = [b for b in component.days if span.start <= b.day <= span.end]
    start = datetime.combine(span.start, time(), UTC)
    end = datetime.combine(span.end + timedelta(days=1), time(), UTC)
    related = sorted(
        (i for i in incidents
         if component.name in i.components and _open_within(i, start, end, now)),
        key=lambda i: i.created_at, reverse=True,
    )  # fmt: skip
    return ComponentUptime(
        id=component.id,
        name=component.name,
        range=span,
        uptime_percentage=bars_uptime(bars, component.monitored),
        major_outage=round(sum(b.major_seconds for b in bars)),
        partial_outage=round(sum(b.partial_seconds for b in bars)),
        related_events=tuple(related),
    )


def find_component(status: StatusPage, component_id: str) -> ComponentView | None:
    return next((c for c in status.components if c.id == component_id), None)


def page_uptime(
    status: StatusPage, component_id: str, start: str | None, end: str | None
) -> ComponentUptime | None:
    """The uptime of the page's component ``component_id`` (``None``: no such component) over
    the range asked for; raises :class:`RangeError` for a bad ``start`` or ``end``."""
    now = status.now or status.updated_at
    span = uptime_range(start, end, now.astimezone(UTC).date())
    component = find_component(status, component_id)
    if component is None:
        return None
    return component_uptime(component, [*status.active, *status.past], span, now)


def uptime_json(uptime: ComponentUptime) -> dict[str, Any]:
    """Atlassian's ``ComponentUptime``, typed as its OpenAPI document types it: ``warnings`` is
    one string (the sentences joined, empty when none) and ``related_events`` an object whose
    ``id`` is the newest related incident's (absent when none), with every related incident in
    ``incidents``."""
    events: dict[str, Any] = {}
    if uptime.related_events:
        events["id"] = uptime.related_events[0].id
    events["incidents"] = [
        {"id": i.id, "name": i.name, "impact": i.impact, "status": i.status,
         "started_at": stamp(i.created_at), "resolved_at": stamp(i.resolved_at)}
        for i in uptime.related_events
    ]  # fmt: skip
    return {
        "id": uptime.id,
        "name": uptime.name,
        "range_start": uptime.range.start.isoformat(),
        "range_end": uptime.range.end.isoformat(),
        "uptime_percentage": uptime.uptime_percentage,
        "major_outage": uptime.major_outage,
        "partial_outage": uptime.partial_outage,
        "warnings": " ".join(uptime.range.warnings),
        "related_events": events,
    }
