"""A component's uptime over a range (domain/status_uptime.py): reading and clamping ``start``
and ``end`` with Atlassian's warnings, the seconds of major and partial outage from incidents
and from monitor checks, the percentage being the page's, and the related incidents."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tocsin.domain.model import Actor, Incident, Severity, TimelineEntry
from tocsin.domain.monitors import DayUptime
from tocsin.domain.policy import default_policy
from tocsin.domain.status_uptime import (
    END_ADJUSTED,
    RangeError,
    page_uptime,
    parse_day,
    uptime_json,
    uptime_range,
)
from tocsin.domain.status_view import ComponentRecord, PageInfo, StatusPage, build_page

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
FIRST = TODAY - timedelta(days=89)  # the first of the 90 days kept
ALICE = Actor("slack", "U0ALICE", "alice")
PAGE = PageInfo("pg", "Acme status", "https://acme.test/status")
MAR_5 = datetime(2026, 3, 5, tzinfo=UTC)


def incident(
    number: int, severity: Severity, start: datetime, end: datetime | None
) -> tuple[Incident, list[TimelineEntry]]:
    found, entries = Incident.declare(number, f"Outage {number}", severity, ALICE, start)
    found.components = ("API",)
    if end is not None:
        entries += found.resolve(ALICE, "", end)
    return found, entries


def page(
    *incidents: tuple[Incident, list[TimelineEntry]], checked: list[DayUptime] | None = None
) -> StatusPage:
    records = [ComponentRecord("API", "", "operational", 0)]
    by_name = {"API": checked} if checked else None
    return build_page(
        PAGE, records, list(incidents), default_policy(), NOW, lambda i: f"id{i.number}",
        checked=by_name,
    )  # fmt: skip


def test_the_default_range_is_the_90_days_the_page_shows() -> None:
    """Without start and end the range is the page's 90 days, ending today, with no warning."""
    span = uptime_range(None, None, TODAY)
    assert (span.start, span.end, span.warnings) == (FIRST, TODAY, ())


def test_edges_outside_the_history_are_clamped_with_a_warning_each() -> None:
    """A start before the 90 days kept moves to their first day and an end after today moves to
    today, each saying so (the end in Atlassian's own words)."""
    span = uptime_range("2025-01-01", "2026-12-31", TODAY)
    assert (span.start, span.end) == (FIRST, TODAY)
    assert len(span.warnings) == 2
    assert FIRST.isoformat() in span.warnings[0]
    assert span.warnings[1] == END_ADJUSTED
    assert uptime_range("2026-03-01", "2026-03-05", TODAY).warnings == ()


def test_partial_dates_take_the_first_or_last_day() -> None:
    """As on Atlassian, ``YYYY-MM`` and ``YYYY`` are the first day of the month or year for a
    start and the last for an end."""
    assert parse_day("2026-02", "start", last=False) == date(2026, 2, 1)
    assert parse_day("2026-02", "end", last=True) == date(2026, 2, 28)
    assert parse_day("2026", "end", last=True) == date(2026, 12, 31)
    span = uptime_range("2026-02", "2026-02", TODAY)
    assert (span.start, span.end) == (date(2026, 2, 1), date(2026, 2, 28))


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("yesterday", None, "start"),
        ("2026-02-30", None, "start"),
        ("1969-12-31", None, "start"),
        (None, "2026-13-01", "end"),
        (None, "2026-03-01T00:00", "end"),
        ("2026-03-05", "2026-03-01", "end"),  # end before start
        ("2026-04-01", "2026-05-01", "start"),  # wholly after today
        ("2025-01-01", "2025-02-01", "end"),  # wholly before the history
    ],
)
def test_bad_dates_name_their_field(start: str | None, end: str | None, field: str) -> None:
    """A date that is not one, before 1970, an end before the start, or a range wholly outside
    the days kept is refused naming the field to fix."""
    with pytest.raises(RangeError) as caught:
        uptime_range(start, end, TODAY)
    assert caught.value.field == field
    assert caught.value.message.startswith(f"{field}: ")


def test_incident_seconds_are_split_by_status_and_the_percentage_is_the_pages() -> None:
    """A resolved P1 of 2 h is 7200 s of major outage, a P2 of 10 h 36000 s of partial outage
    (weighted 30 % in the percentage); over the default range the percentage is the page's
    own figure, and over one day it is that day's bar."""
    p1 = incident(1, Severity.P1, MAR_5 + timedelta(hours=1), MAR_5 + timedelta(hours=3))
    p2 = incident(2, Severity.P2, MAR_5 - timedelta(days=2), MAR_5 - timedelta(days=2, hours=-10))
    status = page(p1, p2)
    [api] = status.components
    whole = page_uptime(status, api.id, None, None)
    assert whole is not None
    assert (whole.major_outage, whole.partial_outage) == (7200, 36000)
    assert whole.uptime_percentage == api.uptime
    day = page_uptime(status, api.id, "2026-03-05", "2026-03-05")
    assert day is not None
    assert (day.major_outage, day.partial_outage) == (7200, 0)
    assert day.uptime_percentage == round(100 * (1 - 7200 / 86400), 2)
    assert [e.id for e in day.related_events] == ["id1"]
    assert [e.id for e in whole.related_events] == ["id1", "id2"]  # newest first


def test_overlapping_incidents_count_once_at_the_worse_status() -> None:
    """A P2 of 4 h containing a P1 of 1 h is 3600 s major and 10800 s partial, not 18000 s."""
    p2 = incident(1, Severity.P2, MAR_5, MAR_5 + timedelta(hours=4))
    p1 = incident(2, Severity.P1, MAR_5 + timedelta(hours=1), MAR_5 + timedelta(hours=2))
    status = page(p2, p1)
    found = page_uptime(status, status.components[0].id, "2026-03-05", "2026-03-05")
    assert found is not None
    assert (found.major_outage, found.partial_outage) == (3600, 10800)


def test_an_open_incident_counts_until_now_and_today_until_now() -> None:
    """An open P1 declared at 10:00 today is 2 h of major outage at noon, and today's uptime is
    over the 12 h counted so far."""
    status = page(incident(1, Severity.P1, NOW - timedelta(hours=2), None))
    found = page_uptime(status, status.components[0].id, "2026-03-10", None)
    assert found is not None
    assert found.major_outage == 7200
    assert found.uptime_percentage == round(100 * (1 - 2 / 12), 2)
    assert [e.status for e in found.related_events] == ["investigating"]


def test_monitored_days_count_failed_checks_as_major_outage() -> None:
    """With monitors, a day of 96 checks with 24 failed is 25 % of the day (21600 s) of major
    outage and no partial outage, whatever incidents say; the percentage is good checks over
    all checks of the range, as on the page; a day without checks keeps its incident figures."""
    checked = [DayUptime(date(2026, 3, 5), 96, 24), DayUptime(date(2026, 3, 6), 100, 0)]
    p2 = incident(1, Severity.P2, MAR_5, MAR_5 + timedelta(hours=2))  # hidden by the checks
    p1 = incident(2, Severity.P1, MAR_5 - timedelta(days=1), MAR_5 - timedelta(hours=23))
    status = page(p2, p1, checked=checked)
    [api] = status.components
    assert api.monitored
    found = page_uptime(status, api.id, "2026-03-05", "2026-03-06")
    assert found is not None
    assert (found.major_outage, found.partial_outage) == (21600, 0)
    assert found.uptime_percentage == round(100 * 172 / 196, 2)
    whole = page_uptime(status, api.id, None, None)
    assert whole is not None
    assert whole.uptime_percentage == api.uptime
    assert whole.major_outage == 21600 + 3600  # the P1 on a day without checks


def test_an_unknown_component_is_none() -> None:
    """An id no component has finds nothing (the route answers 404)."""
    assert page_uptime(page(), "nosuchid", None, None) is None


def test_the_document_has_atlassians_fields_typed_as_its_schema() -> None:
    """The JSON names Atlassian's fields; warnings is one string, related_events an object
    with the newest incident's id and all of them under incidents."""
    status = page(incident(1, Severity.P1, MAR_5, MAR_5 + timedelta(hours=1)))
    found = page_uptime(status, status.components[0].id, "2025-06", None)
    assert found is not None
    document = uptime_json(found)
    assert set(document) == {
        "id", "name", "range_start", "range_end", "uptime_percentage", "major_outage",
        "partial_outage", "warnings", "related_events",
    }  # fmt: skip
    assert document["range_start"] == FIRST.isoformat()
    assert document["warnings"].startswith("Start date was adjusted")
    assert document["related_events"]["id"] == "id1"
    assert document["related_events"]["incidents"][0]["started_at"] == "2026-03-05T00:00:00.000Z"
    empty = page_uptime(page(), status.components[0].id, None, None)
    assert empty is not None
    assert uptime_json(empty)["related_events"] == {"incidents": []}
    assert uptime_json(empty)["warnings"] == ""
