"""What the public page shows (domain/status_view.py, status_json.py) and how it is rendered
(adapters/web/status/render.py): component status, the overall indicator, 90-day uptime bars,
Atlassian's JSON shapes, and escaping of hostile text in HTML, Atom and JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

from tocsin.adapters.web.status.render import atom, html, json_bytes
from tocsin.domain.model import Actor, Incident, Severity, TimelineEntry
from tocsin.domain.policy import default_policy
from tocsin.domain.status_json import DOCUMENTS, summary_json
from tocsin.domain.status_view import (
    ComponentRecord,
    PageInfo,
    StatusPage,
    build_page,
    uptime_bars,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ALICE = Actor("slack", "U0ALICE", "alice")
PAGE = PageInfo("pg", "Acme status", "https://acme.test/status")
HOSTILE = "<script>alert(1)</script>"
DAY_START = datetime(2026, 3, 9, tzinfo=UTC)


def incident(
    number: int,
    severity: Severity,
    start: datetime,
    end: datetime | None = None,
    components: tuple[str, ...] = ("API",),
    title: str = "Checkout is down",
) -> tuple[Incident, list[TimelineEntry]]:
    found, entries = Incident.declare(number, title, severity, ALICE, start)
    found.components = components
    entries += found.post_update(ALICE, f"Update on {title}", start + timedelta(minutes=5))
    if end is not None:
        entries += found.resolve(ALICE, "", end)
    return found, entries


def page(
    *incidents: tuple[Incident, list[TimelineEntry]], status: str = "operational"
) -> StatusPage:
    records = [
        ComponentRecord("API", "Public API", status, 0),
        ComponentRecord("Web", "", "operational", 1),
    ]
    return build_page(
        PAGE, records, list(incidents), default_policy(), NOW, lambda i: f"id{i.number}"
    )


def test_uptime_bars_weigh_outages_and_count_overlaps_once() -> None:
    """90 bars, today last; 6 h of major outage is 75 % that day; a partial outage counts 30 %;
    two overlapping incidents count once, as the worse of the two."""
    major = (DAY_START + timedelta(hours=1), DAY_START + timedelta(hours=7), "major_outage")
    overlap = (DAY_START + timedelta(hours=2), DAY_START + timedelta(hours=3), "partial_outage")
    bars, total = uptime_bars([major, overlap], NOW)
    assert len(bars) == 90
    assert bars[-1].day == NOW.date()
    assert bars[-2].status == "major_outage"
    assert bars[-2].uptime == 75.0
    partial = (DAY_START, DAY_START + timedelta(hours=10), "partial_outage")
    bars, _ = uptime_bars([partial], NOW)
    assert bars[-2].uptime == 87.5
    assert bars[-2].status == "partial_outage"
    assert bars[0].status == "operational"
    assert bars[0].uptime == 100.0
    assert 99.0 < total < 100.0


def test_components_take_the_worst_status_and_the_indicator_follows() -> None:
    """An open P2 on API makes it partial_outage and the page "major"; a resolved P1 only
    shows in history; a manual under_maintenance with nothing open is "maintenance"."""
    open_p2 = incident(1, Severity.P2, NOW - timedelta(hours=1))
    past_p1 = incident(2, Severity.P1, NOW - timedelta(days=2), NOW - timedelta(days=2, hours=-2))
    shown = page(open_p2, past_p1)
    assert {c.name: c.status for c in shown.components} == {
        "API": "partial_outage",
        "Web": "operational",
    }
    assert (shown.indicator, shown.description) == ("major", "Partial System Outage")
    assert [i.id for i in shown.active] == ["id1"]
    assert [i.id for i in shown.past] == ["id2"]
    quiet = page(past_p1, status="under_maintenance")
    assert (quiet.indicator, quiet.description) == ("maintenance", "Service Under Maintenance")
    assert page().description == "All Systems Operational"


def test_history_keeps_ninety_days() -> None:
    """Incidents resolved more than 90 days ago drop off the page."""
    old = incident(1, Severity.P1, NOW - timedelta(days=120), NOW - timedelta(days=119))
    recent = incident(2, Severity.P1, NOW - timedelta(days=10), NOW - timedelta(days=9))
    assert [i.id for i in page(old, recent).past] == ["id2"]


def test_json_documents_have_atlassians_keys() -> None:
    """Each document starts with page; summary has components, incidents, scheduled
    maintenances and status; incidents carry incident_updates newest first; times end in Z."""
    shown = page(incident(1, Severity.P1, NOW - timedelta(minutes=30)))
    summary = summary_json(shown)
    assert list(summary) == [
        "page", "components", "incidents", "scheduled_maintenances", "status",
    ]  # fmt: skip
    (found,) = summary["incidents"]
    assert {"id", "name", "status", "impact", "shortlink", "incident_updates", "components"} <= set(
        found
    )
    assert found["incident_updates"][0]["body"] == "Update on Checkout is down"
    assert found["created_at"].endswith("Z")
    assert [c["name"] for c in found["components"]] == ["API"]
    assert summary["components"][0]["status"] == "major_outage"
    for name, render in DOCUMENTS.items():
        assert "page" in render(shown), name


def test_hostile_text_is_escaped_in_html_atom_and_json() -> None:
    """A title and an update with <script> show as text in HTML, as escaped XML in Atom, and
    as \\u003c escapes in JSON that parse back to the original."""
    shown = page(incident(1, Severity.P1, NOW - timedelta(minutes=30), title=HOSTILE))
    body = html(shown).decode()
    assert HOSTILE not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    feed = atom(shown)
    assert b"<script>" not in feed
    titles = [
        e.text
        for e in ET.fromstring(feed).iter(  # noqa: S314 - our own feed
            "{http://www.w3.org/2005/Atom}title"
        )
    ]
    assert HOSTILE in titles
    raw = json_bytes(summary_json(shown))
    assert b"<" not in raw
    assert b">" not in raw
    assert json.loads(raw)["incidents"][0]["name"] == HOSTILE
