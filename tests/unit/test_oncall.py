"""On-call rotations, layers and overrides (pure): who is on call at any instant, across the
Europe/Berlin DST changes, with overrides laid on top, and the iCalendar feed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tocsin.domain.oncall import (
    Override,
    Rotation,
    Shift,
    icalendar,
    layer_shifts,
    layers,
    level_targets,
    next_shifts,
    on_call,
    parse_when,
    schedule_shifts,
    schedules_of,
    top_schedules,
)
from tocsin.domain.policy import Policy, Schedule, default_policy

BERLIN = ZoneInfo("Europe/Berlin")
A, B, C = "slack:U0ALICE", "slack:U0BOB", "discord:700000000000000005"


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def sched(
    name: str = "primary", rotation: str = "daily", handoff: str = "09:00", **kw: object
) -> Schedule:
    members = kw.pop("members", (A, B, C))
    hours = kw.pop("hours", None)
    zone = kw.pop("timezone", "Europe/Berlin")
    return Schedule(name, str(zone), rotation, hours, handoff, tuple(members))  # type: ignore[arg-type]


def policy(*schedules: Schedule) -> Policy:
    return replace(default_policy(), schedules=schedules)


def starts(shifts: list[Shift]) -> list[str]:
    return [s.start.astimezone(BERLIN).strftime("%a %d %H:%M %Z") for s in shifts]


def test_daily_rotation_hands_off_at_local_time_across_spring_dst() -> None:
    """A daily 09:00 handoff stays at 09:00 Berlin time over the spring change; that day's shift
    is 23 hours long and the members keep their turn."""
    rotation = Rotation(sched())
    shifts = rotation.shifts(berlin(2026, 3, 28, 12), berlin(2026, 3, 30, 12))
    assert starts(shifts) == ["Sat 28 09:00 CET", "Sun 29 09:00 CEST", "Mon 30 09:00 CEST"]
    assert [s.end - s.start for s in shifts] == [timedelta(hours=h) for h in (23, 24, 24)]
    people = [s.person for s in shifts]
    assert len(set(people)) == 3  # three consecutive days, three different members in turn


def test_weekly_rotation_across_autumn_dst_is_a_25_hour_longer_week() -> None:
    """A weekly Monday 09:00 handoff: the week over the October change lasts 7 days + 1 hour,
    and the next handoff is again at 09:00 local."""
    rotation = Rotation(sched(rotation="weekly", handoff="monday 09:00", members=(A, B)))
    shifts = rotation.shifts(berlin(2026, 10, 20, 12), berlin(2026, 10, 27, 12))
    assert starts(shifts) == ["Mon 19 09:00 CEST", "Mon 26 09:00 CET"]
    assert shifts[0].end - shifts[0].start == timedelta(days=7, hours=1)
    assert shifts[0].person != shifts[1].person


def test_hour_shifts_keep_their_local_handoffs_over_autumn_dst() -> None:
    """8-hour shifts from 06:00 hand off at 06:00, 14:00 and 22:00 local every day; the night
    of the change is 9 hours long."""
    rotation = Rotation(sched(rotation="hours", hours=8, handoff="06:00"))
    shifts = rotation.shifts(berlin(2026, 10, 24, 23), berlin(2026, 10, 25, 23))
    assert starts(shifts) == [
        "Sat 24 22:00 CEST", "Sun 25 06:00 CET", "Sun 25 14:00 CET", "Sun 25 22:00 CET"
    ]  # fmt: skip
    assert shifts[0].end - shifts[0].start == timedelta(hours=9)


def test_a_handoff_in_the_skipped_spring_hour_happens_when_the_clock_gets_there() -> None:
    """A 02:30 handoff on the day Berlin skips 02:00-03:00 happens at 03:30 CEST (one hour of
    real time after 01:30 CET), and the day after at 02:30 again."""
    rotation = Rotation(sched(handoff="02:30"))
    shifts = rotation.shifts(berlin(2026, 3, 28, 12), berlin(2026, 3, 30, 12))
    assert starts(shifts) == ["Sat 28 02:30 CET", "Sun 29 03:30 CEST", "Mon 30 02:30 CEST"]


def test_an_ambiguous_autumn_handoff_happens_at_its_first_occurrence() -> None:
    """02:30 happens twice on 25 October; the handoff is the first one (CEST), and an instant in
    the repeated hour already belongs to the new shift."""
    rotation = Rotation(sched(handoff="02:30"))
    handoff = rotation.boundary(rotation.index_at(datetime(2026, 10, 25, 1, 0, tzinfo=UTC)))
    assert handoff == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second_0215 = datetime(2026, 10, 25, 1, 15, tzinfo=UTC)  # 02:15 CET, the repeated hour
    assert rotation.index_at(second_0215) == rotation.index_at(handoff)


def test_members_take_turns_and_the_anchor_is_fixed() -> None:
    """Shift k belongs to members[k mod n], counted from the week of Monday 2024-01-01, so the
    answer never depends on when tocsin started."""
    rotation = Rotation(sched(rotation="weekly", handoff="monday 09:00", members=(A, B)))
    first = rotation.shift(0)
    assert first.start == berlin(2024, 1, 1, 9).astimezone(UTC)
    assert (first.person, rotation.shift(1).person, rotation.shift(2).person) == (A, B, A)
    assert rotation.index_at(berlin(2024, 1, 8, 8, 59)) == 0
    assert rotation.index_at(berlin(2024, 1, 8, 9, 0)) == 1


def test_overrides_replace_the_rotation_and_the_newest_wins() -> None:
    """An override puts someone else on call for its window, splitting the rotation's shift;
    where two overlap the one with the higher id wins."""
    schedule = sched(members=(A, B))
    at = berlin(2026, 6, 10, 12)
    mine = on_call(policy(schedule), "primary", [], at)[0]
    other = B if mine.person == A else A
    overrides = [
        Override(1, "primary", C, berlin(2026, 6, 10, 11), berlin(2026, 6, 10, 15)),
        Override(2, "primary", other, berlin(2026, 6, 10, 12), berlin(2026, 6, 10, 13)),
    ]
    shifts = layer_shifts(schedule, overrides, mine.start, mine.end)
    assert [(s.person, s.override) for s in shifts] == [
        (mine.person, None), (C, 1), (other, 2), (C, 1), (mine.person, None),
    ]  # fmt: skip
    assert on_call(policy(schedule), "primary", overrides, at)[0].person == other
    assert on_call(policy(schedule), "primary", overrides, berlin(2026, 6, 10, 14))[0].person == C


def test_an_override_for_another_layer_changes_nothing_here() -> None:
    """Overrides are per layer (schedule name)."""
    schedule = sched(members=(A,))
    elsewhere = [Override(1, "secondary", C, berlin(2026, 6, 1), berlin(2026, 6, 30))]
    assert on_call(policy(schedule), "primary", elsewhere, berlin(2026, 6, 10))[0].person == A


def test_layers_are_schedules_named_name_slash_something() -> None:
    """``primary/shadow`` is a layer of ``primary``: both are on call at once, and
    ``schedule:primary`` pages both; the top-level list hides the layer."""
    base, shadow = sched(members=(A,)), sched("primary/shadow", members=(C,))
    other = sched("primary-db", members=(B,))  # a different schedule, not a layer
    p = policy(base, shadow, other)
    assert [s.name for s in layers(p, "primary")] == ["primary", "primary/shadow"]
    assert top_schedules(p) == ["primary", "primary-db"]
    at = berlin(2026, 6, 10, 12)
    assert [s.person for s in on_call(p, "primary", [], at)] == [A, C]
    assert level_targets(p, ["schedule:primary", "slack:U0LEAD", A], [], at) == [
        A, C, "slack:U0LEAD",
    ]  # fmt: skip
    assert schedules_of(["schedule:primary", "slack:U0LEAD"], p) == ["primary", "primary/shadow"]


def test_next_shift_looks_past_a_long_override() -> None:
    """Who is next: the first shift after the current one, even behind a two-week override."""
    schedule = sched(members=(A, B))
    at = berlin(2026, 6, 10, 12)
    overrides = [Override(1, "primary", C, berlin(2026, 6, 10, 11), berlin(2026, 6, 24, 11))]
    now = on_call(policy(schedule), "primary", overrides, at)
    after = next_shifts(policy(schedule), "primary", overrides, at)
    assert now[0].person == C
    assert after[0].start == berlin(2026, 6, 24, 11).astimezone(UTC)
    assert after[0].override is None


def test_schedule_shifts_lists_every_layer_in_time_order() -> None:
    """The table of a layered schedule interleaves its layers by start time."""
    p = policy(sched(members=(A,)), sched("primary/nights", "daily", "21:00", members=(C,)))
    shifts = schedule_shifts(p, "primary", [], berlin(2026, 6, 10, 10), berlin(2026, 6, 11, 10))
    assert [(s.layer, s.person) for s in shifts] == [
        ("primary/nights", C), ("primary", A), ("primary/nights", C), ("primary", A),
    ]  # fmt: skip
    assert shifts[0].start < berlin(2026, 6, 10, 10) < shifts[0].end  # whole shifts, not cut


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", datetime(2026, 3, 1, 9, 0, tzinfo=UTC)),
        ("+8h", datetime(2026, 3, 1, 17, 0, tzinfo=UTC)),
        ("+90m", datetime(2026, 3, 1, 10, 30, tzinfo=UTC)),
        ("+2d", datetime(2026, 3, 3, 9, 0, tzinfo=UTC)),
        ("2026-03-02 09:00", datetime(2026, 3, 2, 8, 0, tzinfo=UTC)),
        ("2026-07-02T09:00", datetime(2026, 7, 2, 7, 0, tzinfo=UTC)),
        ("2026-03-02T09:00+00:00", datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
        ("2026-03-02T09:00Z", datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
        ("2026-03-02", datetime(2026, 3, 1, 23, 0, tzinfo=UTC)),
    ],
)
def test_parse_when_reads_local_times_and_offsets(text: str, expected: datetime) -> None:
    """Override times: relative, or ISO read in the schedule's zone unless an offset is given."""
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert parse_when(text, "Europe/Berlin", now) == expected


def test_parse_when_explains_a_bad_time() -> None:
    """A time it cannot read gets a sentence with examples."""
    with pytest.raises(ValueError, match="is not a time"):
        parse_when("next tuesday", "UTC", datetime(2026, 3, 1, tzinfo=UTC))


def test_icalendar_feed_is_rfc5545_shaped() -> None:
    """One VEVENT per shift with UTC times and a stable UID; CRLF line ends; long lines folded
    to 75 octets; commas and semicolons escaped."""
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    person = "slack:U0" + "X" * 80
    shifts = [
        Shift(start, start + timedelta(days=7), person, "primary"),
        Shift(start, start + timedelta(hours=2), "slack:U0BOB", "a,b;c", override=4),
    ]
    text = icalendar("primary", shifts, datetime(2026, 3, 1, tzinfo=UTC))
    lines = text.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-2:] == ["END:VCALENDAR", ""]
    assert text.count("BEGIN:VEVENT") == 2
    assert "DTSTART:20260302T080000Z" in lines
    assert "DTEND:20260309T080000Z" in lines
    assert all(len(line.encode()) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines)  # the long summary was folded
    assert "SUMMARY:On call (a\\,b\\;c): slack:U0BOB (override)" in lines
    unfolded = text.replace("\r\n ", "")
    assert f"SUMMARY:On call (primary): {person}" in unfolded


def test_a_schedule_without_members_is_refused() -> None:
    """A rotation needs someone to rotate through."""
    with pytest.raises(ValueError, match="no members"):
        Rotation(sched(members=()))
