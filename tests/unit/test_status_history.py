"""The pure rules of the status page's history: grouping by month of resolution and paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tocsin.domain.status_history import HistoryPage, by_month, duration_words, page_count
from tocsin.domain.status_view import IncidentView, PageInfo


def view(name: str, resolved: datetime) -> IncidentView:
    return IncidentView(name, name, "resolved", "major", resolved, resolved, None, resolved, (), ())


def test_by_month_keeps_order_and_groups_consecutive_months() -> None:
    """Newest first in, newest month first out, each month holding its incidents in order."""
    views = [
        view("c", datetime(2026, 4, 2, tzinfo=UTC)),
        view("b", datetime(2026, 4, 1, tzinfo=UTC)),
        view("a", datetime(2026, 3, 30, tzinfo=UTC)),
    ]
    months = by_month(views)
    assert [(m.label, [i.id for i in m.incidents]) for m in months] == [
        ("April 2026", ["c", "b"]),
        ("March 2026", ["a"]),
    ]


def test_page_count_and_neighbours() -> None:
    """At least one page; newer and older exist only inside the range."""
    assert [page_count(n, 20) for n in (0, 1, 20, 21)] == [1, 1, 1, 2]
    info = PageInfo("p", "Service status", "https://example.test/status")
    first, last = HistoryPage(info, 1, 2, 21, ()), HistoryPage(info, 2, 2, 21, ())
    assert (first.newer, first.older) == (None, 2)
    assert (last.newer, last.older) == (1, None)


def test_duration_words_round_down_to_minutes_and_drop_zero_parts() -> None:
    """Durations read as minutes, hours and minutes, or days and hours; zero parts are left out
    and anything under a minute says so."""
    assert duration_words(timedelta(seconds=59)) == "under a minute"
    assert duration_words(timedelta(minutes=45, seconds=59)) == "45 min"
    assert duration_words(timedelta(hours=2)) == "2 h"
    assert duration_words(timedelta(hours=2, minutes=5)) == "2 h 5 min"
    assert duration_words(timedelta(days=3, hours=4, minutes=9)) == "3 d 4 h"
    assert duration_words(timedelta(days=1)) == "1 d"
