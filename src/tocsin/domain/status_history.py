"""The status page's incident history: resolved public incidents, a page at a time, grouped by
the month they were resolved in (newest first), each with its public updates."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

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
