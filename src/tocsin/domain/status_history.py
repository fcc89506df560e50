"""The status page's incident history: resolved public incidents, a page at a time, grouped by
the month they were resolved in (newest first), each with its public updates and how long it
lasted (:func:`duration`)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from tocsin.domain.status_view import IncidentView, PageInfo

PER_PAGE = 20
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class HistoryMonth:
    label: str  # "March 2026"
    incidents: tuple[IncidentView, ...]


@dataclass(frozen=True, slots=True)
class HistoryPage:
    page: PageInfo
    number: int  # 1-based
    pages: int  # at least 1
    total: int
    months: tuple[HistoryMonth, ...]

    @property
    def newer(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def older(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def page_count(total: int, per_page: int = PER_PAGE) -> int:
    return max(1, -(-total // per_page))


def by_month(incidents: Sequence[IncidentView]) -> tuple[HistoryMonth, ...]:
    """``incidents`` (most recently resolved first) grouped by their resolution's month."""

    def month(view: IncidentView) -> str:
        at = view.resolved_at or view.created_at
        return at.strftime("%B %Y")

    return tuple(HistoryMonth(label, tuple(group))
                 for label, group in itertools.groupby(incidents, key=month))  # fmt: skip


def duration(view: IncidentView) -> str:
    """How long a resolved incident lasted, from its declaration to its resolution, in words the
    page shows: ``45 min``, ``2 h 5 min``, ``3 d 4 h`` (``under a minute`` below one; an open
    incident has none: ``""``)."""
    if view.resolved_at is None:
        return ""
    return duration_words(view.resolved_at - view.created_at)


def duration_words(length: timedelta) -> str:
    minutes = max(0, int(length.total_seconds()) // 60)
    if minutes == 0:
        return "under a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
