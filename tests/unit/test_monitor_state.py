"""The monitor state machine: pending → up/down after runs of consecutive outcomes, flapping
that never pages, pause and resume, and the alert batches the changes become (fed through the
real alert-group logic). Property-tested: never down without down_after failures in a row."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.domain.alerts import AlertStatus, ChangeKind, GroupStatus, IntegrationKind, apply_batch
from tocsin.domain.monitors import (
    EventKind,
    Monitor,
    MonitorEvent,
    MonitorKind,
    MonitorState,
    MonitorStatus,
    Outcome,
    event_batch,
    observe,
    pause,
    resume,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
WEB = Monitor("checkout-web", MonitorKind.HTTP, "https://a.example/", down_after=3, up_after=2,
              component="Checkout")  # fmt: skip


def outcome(minute: int, ok: bool, reason: str = "status 503, expected 200") -> Outcome:
    return Outcome(T0 + timedelta(minutes=minute), ok, "" if ok else reason, 100 if ok else None)


def run(
    monitor: Monitor, oks: list[bool], state: MonitorState | None = None
) -> tuple[MonitorState, list[MonitorEvent]]:
    state = state or MonitorState()
    events = []
    for minute, ok in enumerate(oks):
        state, event = observe(monitor, state, outcome(minute, ok, f"fail {minute}"))
        if event is not None:
            events.append(event)
    return state, events


@pytest.mark.parametrize(
    ("oks", "status", "kinds"),
    [
        ([], MonitorStatus.PENDING, []),
        ([False, False], MonitorStatus.PENDING, []),
        ([False, False, False], MonitorStatus.DOWN, [EventKind.WENT_DOWN]),
        ([True], MonitorStatus.PENDING, []),
        ([True, True], MonitorStatus.UP, [EventKind.WENT_UP]),
        ([True, True, False, False, False], MonitorStatus.DOWN, [EventKind.WENT_UP, EventKind.WENT_DOWN]),  # noqa: E501
        ([False, False, False, False, False], MonitorStatus.DOWN, [EventKind.WENT_DOWN]),
        ([False, False, False, True], MonitorStatus.DOWN, [EventKind.WENT_DOWN]),
        ([False, False, False, True, True], MonitorStatus.UP, [EventKind.WENT_DOWN, EventKind.WENT_UP]),  # noqa: E501
        # a success in between restarts the count of failures
        ([True, True, False, False, True, False, False], MonitorStatus.UP, [EventKind.WENT_UP]),
        # and a failure restarts the count of successes
        ([False, False, False, True, False, True], MonitorStatus.DOWN, [EventKind.WENT_DOWN]),
    ],
)  # fmt: skip
def test_status_follows_runs_of_consecutive_outcomes(
    oks: list[bool], status: MonitorStatus, kinds: list[EventKind]
) -> None:
    """down_after (3) failures in a row make it down, up_after (2) successes in a row make it up;
    each change returns one event and staying put returns none."""
    state, events = run(WEB, oks)
    assert state.status is status
    assert [event.kind for event in events] == kinds


def test_went_down_carries_the_reasons_of_the_failed_run() -> None:
    """The went_down event lists the failures that made it down, oldest first, each with its
    time, and the state remembers when and what was last checked."""
    state, events = run(WEB, [True, True, False, False, False])
    (_, down) = events
    assert down == MonitorEvent(
        EventKind.WENT_DOWN, "checkout-web", T0 + timedelta(minutes=4), MonitorStatus.UP,
        ("12:02:00 fail 2", "12:03:00 fail 3", "12:04:00 fail 4"),
    )  # fmt: skip
    assert state.since == T0 + timedelta(minutes=4)
    assert (state.last_checked, state.latency_ms) == (T0 + timedelta(minutes=4), None)


def test_reasons_are_capped_at_down_after() -> None:
    """A long outage keeps only the last down_after reasons, so the state stays small."""
    state, _ = run(WEB, [False] * 50)
    assert state.reasons == ("12:47:00 fail 47", "12:48:00 fail 48", "12:49:00 fail 49")
    assert state.failures == 50


def test_flapping_never_pages() -> None:
    """A target failing every other check never reaches down_after failures in a row."""
    state, events = run(WEB, [False, True] * 100)
    assert events == []
    assert state.status is MonitorStatus.PENDING


def test_a_paused_monitor_ignores_outcomes_and_resumes_pending() -> None:
    """Paused: outcomes change nothing; resumed: pending with fresh counts, so it takes a full
    run of failures to go down again."""
    state, _ = run(WEB, [True, True])
    paused, event = pause(WEB, state, T0)
    assert (paused.status, event) == (MonitorStatus.PAUSED, None)
    assert run(WEB, [False] * 5, paused) == (paused, [])
    resumed = resume(paused, T0 + timedelta(hours=1))
    assert (resumed.status, resumed.failures, resumed.successes) == (MonitorStatus.PENDING, 0, 0)
    assert run(WEB, [False, False], resumed)[0].status is MonitorStatus.PENDING
    assert resume(state, T0) == state  # resuming a running monitor changes nothing
    assert pause(WEB, paused, T0) == (paused, None)  # nor does pausing a paused one


def test_pausing_a_down_monitor_resolves_its_alert() -> None:
    """Pausing while down returns a paused event whose batch resolves the monitor's alert."""
    state, _ = run(WEB, [False] * 3)
    _, event = pause(WEB, state, T0 + timedelta(hours=1))
    assert event is not None
    assert (event.kind, event.previous) == (EventKind.PAUSED, MonitorStatus.DOWN)
    batch = event_batch(WEB, event)
    assert batch is not None
    assert batch.status is AlertStatus.RESOLVED


def test_a_monitor_is_one_alert_group_that_fires_and_resolves() -> None:
    """went_down becomes a firing batch (group key = monitor name, fingerprint from it), went_up
    a resolved batch for the same alert; through apply_batch the group opens and resolves."""
    _, events = run(WEB, [False, False, False, True, True])
    down, up = (event_batch(WEB, event) for event in events)
    assert down is not None
    assert up is not None
    assert (down.kind, down.group_key, down.status) == (
        IntegrationKind.MONITOR, "checkout-web", AlertStatus.FIRING,
    )  # fmt: skip
    (alert,) = down.alerts
    assert alert.fingerprint == "monitor:checkout-web"
    assert dict(alert.labels) == {"alertname": "MonitorDown", "component": "Checkout",
                                  "kind": "http", "monitor": "checkout-web"}  # fmt: skip
    assert alert.annotations["description"] == "12:00:00 fail 0; 12:01:00 fail 1; 12:02:00 fail 2"
    assert alert.starts_at == T0 + timedelta(minutes=2)
    assert up.alerts[0].fingerprint == alert.fingerprint
    assert up.alerts[0].ends_at == T0 + timedelta(minutes=4)
    group, changes = apply_batch(None, "monitors", down, T0 + timedelta(minutes=2))
    assert changes[0].kind is ChangeKind.GROUP_OPENED
    group, changes = apply_batch(group, "monitors", up, T0 + timedelta(minutes=4))
    assert group.status is GroupStatus.RESOLVED
    assert changes[-1].kind is ChangeKind.GROUP_RESOLVED


def test_pending_to_up_has_no_alert_to_resolve() -> None:
    """The first time a new monitor comes up there was no alert, so no batch is produced."""
    _, (event,) = run(WEB, [True, True])
    assert event.previous is MonitorStatus.PENDING
    assert event_batch(WEB, event) is None


def _longest_failure_run(oks: list[bool]) -> int:
    longest = current = 0
    for ok in oks:
        current = 0 if ok else current + 1
        longest = max(longest, current)
    return longest


@settings(max_examples=300, deadline=None)
@given(
    oks=st.lists(st.booleans(), max_size=60),
    down_after=st.integers(1, 6),
    up_after=st.integers(1, 6),
)
def test_never_down_without_down_after_failures_in_a_row(
    oks: list[bool], down_after: int, up_after: int
) -> None:
    """Whatever the sequence, the monitor goes down only after a run of down_after failures and
    up only after up_after successes in a row; events alternate and match the final status."""
    monitor = replace(WEB, down_after=down_after, up_after=up_after)
    state, events = run(monitor, oks)
    downs = [e for e in events if e.kind is EventKind.WENT_DOWN]
    if _longest_failure_run(oks) < down_after:
        assert downs == []
        assert state.status is not MonitorStatus.DOWN
    for event in events:
        minute = int((event.at - T0).total_seconds() // 60)
        window = oks[
            minute - (down_after if event.kind is EventKind.WENT_DOWN else up_after) + 1 : minute
            + 1
        ]
        expected = event.kind is EventKind.WENT_UP
        assert len(window) == (down_after if not expected else up_after)
        assert all(ok is expected for ok in window)
    kinds = [e.kind for e in events]
    assert all(a is not b for a, b in itertools.pairwise(kinds))
    if events:
        assert state.status is (
            MonitorStatus.DOWN if kinds[-1] is EventKind.WENT_DOWN else MonitorStatus.UP
        )
