"""The pure rules of scheduled maintenance (tocsin.domain.maintenance): validation naming the
bad field, the state transitions, and when a window holds its components under maintenance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tocsin.domain import maintenance as rules
from tocsin.domain.errors import InvalidTransition
from tocsin.domain.maintenance import Maintenance, MaintenanceInvalid

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
KNOWN = ["API", "Payments"]


def draft(**kw: object) -> rules.Draft:
    args: dict[str, object] = {
        "title": "Database upgrade",
        "components": ["api"],
        "starts_at": NOW + timedelta(hours=1),
        "ends_at": NOW + timedelta(hours=2),
        "description": "  Upgrading PostgreSQL.  ",
        "known": KNOWN,
        "now": NOW,
    }
    args.update(kw)
    return rules.validate(**args)  # type: ignore[arg-type]


def window(status: str = rules.SCHEDULED, start: int = 1, end: int = 2) -> Maintenance:
    return Maintenance(
        1, "Upgrade", ("API",), NOW + timedelta(hours=start), NOW + timedelta(hours=end),
        status=status,
    )  # fmt: skip


def test_validate_normalises_components_to_their_policy_names_and_trims_text() -> None:
    """A component is matched case-insensitively and stored under its policy name; the
    description is trimmed and the title's inner whitespace collapsed."""
    made = draft(components=["api", "API", "payments"], title="  Database   upgrade ")
    assert made.components == ("API", "Payments")
    assert made.title == "Database upgrade"
    assert made.description == "Upgrading PostgreSQL."


@pytest.mark.parametrize(
    ("kw", "field", "words"),
    [
        ({"ends_at": NOW + timedelta(minutes=30)}, "end", "end after it starts"),
        ({"ends_at": NOW + timedelta(hours=1)}, "end", "end after it starts"),
        ({"starts_at": NOW - timedelta(hours=3), "ends_at": NOW - timedelta(hours=1)}, "end",
         "wholly in the past"),
        ({"components": ["Search"]}, "components", "'Search' is not a status page component"),
        ({"title": "   "}, "title", "title"),
        ({"description": "x" * 5001}, "description", "5000"),
        ({"ends_at": NOW + timedelta(days=40)}, "end", "at most 31 days"),
    ],
)  # fmt: skip
def test_validate_names_the_bad_field(kw: dict[str, object], field: str, words: str) -> None:
    """Each refusal is a MaintenanceInvalid whose field and message name what is wrong."""
    with pytest.raises(MaintenanceInvalid) as caught:
        draft(**kw)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert words in str(caught.value)


def test_unknown_component_lists_the_known_ones() -> None:
    """The error for an unknown component says which ones exist."""
    with pytest.raises(MaintenanceInvalid, match="known: API, Payments"):
        draft(components=["Nope"])


def test_a_window_already_begun_is_accepted() -> None:
    """A window that started a moment ago but has not ended is valid (it starts at once)."""
    made = draft(starts_at=NOW - timedelta(minutes=10))
    assert made.starts_at < NOW < made.ends_at


def test_parse_instant_reads_iso_in_utc_and_names_the_field() -> None:
    """Times without an offset are UTC; an offset is converted; garbage names the field."""
    assert rules.parse_instant("start", "2026-03-02T09:00", NOW) == datetime(
        2026, 3, 2, 9, 0, tzinfo=UTC
    )
    assert rules.parse_instant("end", "2026-03-02T10:00+01:00", NOW).hour == 9
    assert rules.parse_instant("end", "+2h", NOW) == NOW + timedelta(hours=2)
    with pytest.raises(MaintenanceInvalid) as caught:
        rules.parse_instant("start", "tomorrow-ish", NOW)
    assert caught.value.field == "start"


def test_transitions_follow_the_state_machine() -> None:
    """scheduled → in_progress → completed; cancel from either open state; nothing after."""
    started = rules.start(window(), NOW)
    assert (started.status, started.started_at) == (rules.IN_PROGRESS, NOW)
    done = rules.complete(started, NOW + timedelta(hours=2))
    assert done.status == rules.COMPLETED
    assert done.finished_at == NOW + timedelta(hours=2)
    assert rules.cancel(window(), NOW).status == rules.CANCELLED
    assert rules.cancel(started, NOW).status == rules.CANCELLED
    for closed in (done, rules.cancel(window(), NOW)):
        with pytest.raises(InvalidTransition):
            rules.cancel(closed, NOW)
        with pytest.raises(InvalidTransition):
            rules.complete(closed, NOW)
    with pytest.raises(InvalidTransition):
        rules.start(started, NOW)


def test_complete_of_a_never_started_window_records_its_start() -> None:
    """If the end timer fires first (the start was missed), the window still completes."""
    done = rules.complete(window(), NOW + timedelta(hours=3))
    assert done.status == rules.COMPLETED
    assert done.started_at == window().starts_at


def test_edit_keeps_the_start_of_a_running_window() -> None:
    """Once in progress the start cannot move; the end can; a closed one is not editable."""
    running = rules.start(window(start=-1), NOW)
    later = draft(starts_at=running.starts_at, ends_at=NOW + timedelta(hours=5))
    assert rules.edit(running, later, NOW).ends_at == NOW + timedelta(hours=5)
    with pytest.raises(MaintenanceInvalid) as caught:
        rules.edit(running, draft(), NOW)
    assert caught.value.field == "start"
    with pytest.raises(InvalidTransition):
        rules.edit(rules.cancel(window(), NOW), draft(), NOW)


def test_is_active_inside_the_window_only() -> None:
    """A scheduled window holds its components from its start (before the timer fires) until
    its end; in progress holds until the end; cancelled and completed never do."""
    scheduled = window()
    assert not rules.is_active(scheduled, NOW)
    assert rules.is_active(scheduled, NOW + timedelta(hours=1))
    assert not rules.is_active(scheduled, NOW + timedelta(hours=2))
    running = rules.start(scheduled, NOW + timedelta(hours=1))
    assert rules.is_active(running, NOW + timedelta(minutes=90))
    assert not rules.is_active(running, NOW + timedelta(hours=2))
    assert not rules.is_active(rules.cancel(scheduled, NOW), NOW + timedelta(hours=1))
    assert rules.under_maintenance([scheduled], NOW + timedelta(hours=1)) == {"API"}
    assert rules.under_maintenance([scheduled], NOW) == frozenset()


def test_shown_status_moves_ahead_of_a_late_timer() -> None:
    """The page shows in progress once the window began and completed once it ended, even
    before the timers have fired; cancelled ones are not public."""
    scheduled = window()
    assert rules.shown_status(scheduled, NOW) == rules.SCHEDULED
    assert rules.shown_status(scheduled, NOW + timedelta(hours=1)) == rules.IN_PROGRESS
    assert rules.shown_status(scheduled, NOW + timedelta(hours=3)) == rules.COMPLETED
    assert not rules.is_public(rules.cancel(scheduled, NOW))
    assert rules.is_upcoming(scheduled, NOW)
    assert not rules.is_upcoming(scheduled, NOW + timedelta(hours=1))


def test_alert_components_reads_the_label_and_the_monitors_component() -> None:
    """A group's components: the comma-separated ``component`` label, then the component of the
    monitor its ``monitor`` label names; duplicates once, unknown monitors add nothing."""
    monitors = {"web-check": "API", "db-check": "Payments"}
    assert rules.alert_components({"component": "API, Payments"}, monitors) == ("API", "Payments")
    assert rules.alert_components({"monitor": "db-check"}, monitors) == ("Payments",)
    both = {"component": "API", "monitor": "web-check"}
    assert rules.alert_components(both, monitors) == ("API",)
    assert rules.alert_components({"monitor": "gone", "team": "db"}, monitors) == ()
