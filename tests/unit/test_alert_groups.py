"""Alert groups as pure state: what a batch changes, idempotent redeliveries, resolves that never
overtake their firing, acknowledgements, and order-independence (property-tested)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes import FIXTURES
from tocsin.domain.alerts import (
    Alert,
    AlertBatch,
    AlertGroup,
    AlertStatus,
    Change,
    ChangeKind,
    GroupStatus,
    IntegrationKind,
    acknowledge,
    apply_batch,
    heartbeat_missed,
    heartbeat_ok,
    parse_alertmanager,
    parse_generic,
    set_silenced,
)
from tocsin.domain.alerts.model import frozen_map
from tocsin.domain.errors import InvalidTransition

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
KEY = '{}:{alertname="Lag"}'


def _min(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def _alert(fp: str, starts: float, ends: float | None = None) -> Alert:
    """Alert ``fp`` of the episode that started at minute ``starts`` (resolved at ``ends``)."""
    resolved = ends is not None
    return Alert(
        fingerprint=fp,
        status=AlertStatus.RESOLVED if resolved else AlertStatus.FIRING,
        labels=frozen_map({"alertname": "Lag", "instance": fp}),
        annotations=frozen_map({"summary": f"Lag on {fp} since minute {starts}"}),
        starts_at=_min(starts),
        ends_at=_min(ends) if resolved else None,
    )


def _batch(*alerts: Alert) -> AlertBatch:
    firing = any(a.status is AlertStatus.FIRING for a in alerts)
    status = AlertStatus.FIRING if firing else AlertStatus.RESOLVED
    return AlertBatch(IntegrationKind.ALERTMANAGER, KEY, status, alerts, "Lag")


def _apply(
    group: AlertGroup | None, batch: AlertBatch, at: float = 0
) -> tuple[AlertGroup, tuple[Change, ...]]:
    return apply_batch(group, "am", batch, _min(at))


def _kinds(changes: tuple[Change, ...]) -> list[tuple[str, str]]:
    return [(c.kind.value, c.fingerprint) for c in changes]


def test_a_new_firing_batch_opens_a_group_with_its_alerts() -> None:
    """The first batch creates the group (firing) and says so, then each alert that fired."""
    group, changes = _apply(None, _batch(_alert("a", 0), _alert("b", 0)), at=1)
    assert group.status is GroupStatus.FIRING
    assert (group.integration, group.group_key, group.title) == ("am", KEY, "Lag")
    assert sorted(group.alerts) == ["a", "b"]
    assert _kinds(changes) == [("group_opened", ""), ("alert_fired", "a"), ("alert_fired", "b")]
    assert group.first_seen == group.last_seen == _min(1)
    assert group.fired_at == _min(0)


def test_the_same_batch_twice_changes_nothing_the_second_time() -> None:
    """A redelivery (Alertmanager retries, repeat_interval) returns the same group and no
    changes; arriving later only moves last_seen."""
    batch = _batch(_alert("a", 0), _alert("b", 0, ends=5))
    once, _ = _apply(None, batch, at=6)
    twice, changes = _apply(once, batch, at=6)
    assert changes == ()
    assert twice == once
    later, changes = _apply(once, batch, at=9)
    assert changes == ()
    assert later.alerts == once.alerts
    assert later.last_seen == _min(9)


def test_resolving_every_alert_resolves_the_group() -> None:
    """One resolve of two leaves the group firing; the last one resolves the group."""
    group, _ = _apply(None, _batch(_alert("a", 0), _alert("b", 0)))
    group, changes = _apply(group, _batch(_alert("a", 0, ends=5)), at=5)
    assert group.status is GroupStatus.FIRING
    assert _kinds(changes) == [("alert_resolved", "a")]
    group, changes = _apply(group, _batch(_alert("b", 0, ends=6)), at=6)
    assert group.status is GroupStatus.RESOLVED
    assert _kinds(changes) == [("alert_resolved", "b"), ("group_resolved", "")]


def test_an_older_firing_arriving_after_the_resolve_does_not_reopen() -> None:
    """Delivered out of order, the firing of an episode that has already resolved is ignored."""
    group, _ = _apply(None, _batch(_alert("a", 0)))
    group, _ = _apply(group, _batch(_alert("a", 0, ends=5)), at=5)
    group, changes = _apply(group, _batch(_alert("a", 0)), at=7)
    assert changes == ()
    assert group.status is GroupStatus.RESOLVED


def test_a_resolve_arriving_first_keeps_its_firing_from_opening_the_group() -> None:
    """A resolve that overtakes its own firing is recorded, so the late firing opens nothing."""
    group, changes = _apply(None, _batch(_alert("a", 0, ends=5)), at=5)
    assert changes == ()
    assert group.status is GroupStatus.RESOLVED
    assert group.fired_at is None
    group, changes = _apply(group, _batch(_alert("a", 0)), at=6)
    assert changes == ()
    assert group.status is GroupStatus.RESOLVED


def test_a_resolve_never_overtakes_a_newer_firing() -> None:
    """The resolve of an earlier episode arriving after the next episode fired changes nothing."""
    group, _ = _apply(None, _batch(_alert("a", 10)), at=10)
    group, changes = _apply(group, _batch(_alert("a", 0, ends=5)), at=11)
    assert changes == ()
    assert group.status is GroupStatus.FIRING


def test_a_resolved_group_that_fires_again_is_the_same_group_firing_again() -> None:
    """A new episode after the resolve refires the group (same id, acknowledgement gone)."""
    group, _ = _apply(None, _batch(_alert("a", 0)))
    group = acknowledge(group)
    group = replace(group, id=42)
    group, _ = _apply(group, _batch(_alert("a", 0, ends=5)), at=5)
    assert group.status is GroupStatus.RESOLVED
    assert group.acknowledged is False
    group, changes = _apply(group, _batch(_alert("a", 8)), at=8)
    assert _kinds(changes) == [("group_refired", ""), ("alert_fired", "a")]
    assert group.status is GroupStatus.FIRING
    assert group.id == 42
    assert group.fired_at == _min(8)


def test_an_acknowledged_group_stays_acknowledged_while_alerts_keep_firing() -> None:
    """New alerts firing in an acknowledged group are reported, and the group stays
    acknowledged until everything has resolved."""
    group, _ = _apply(None, _batch(_alert("a", 0)))
    group = acknowledge(group)
    assert group.status is GroupStatus.ACKNOWLEDGED
    group, changes = _apply(group, _batch(_alert("a", 0), _alert("b", 2)), at=2)
    assert _kinds(changes) == [("alert_fired", "b")]
    assert group.status is GroupStatus.ACKNOWLEDGED
    group, _ = _apply(group, _batch(_alert("a", 0, ends=3)), at=3)
    assert group.status is GroupStatus.ACKNOWLEDGED


def test_a_resolved_group_cannot_be_acknowledged() -> None:
    """Acknowledging needs something firing; the error says why."""
    group, _ = _apply(None, _batch(_alert("a", 0, ends=1)), at=1)
    with pytest.raises(InvalidTransition, match="resolved"):
        acknowledge(group)


def test_a_silenced_group_reports_silenced_only_while_it_fires() -> None:
    """The silenced flag shows while alerts fire; a resolved group is resolved either way."""
    group, _ = _apply(None, _batch(_alert("a", 0)))
    group = set_silenced(acknowledge(group), True)
    assert group.status is GroupStatus.SILENCED
    group, _ = _apply(group, _batch(_alert("a", 0, ends=1)), at=1)
    assert group.status is GroupStatus.RESOLVED
    assert set_silenced(group, False).silenced is False


def test_a_batch_for_another_group_is_refused() -> None:
    """Applying a batch to the wrong group is a programming error, not silent corruption."""
    group, _ = _apply(None, _batch(_alert("a", 0)))
    other = AlertBatch(IntegrationKind.ALERTMANAGER, "other", AlertStatus.FIRING, (), "x")
    with pytest.raises(ValueError, match="another group"):
        apply_batch(group, "am", other, T0)


def test_the_common_labels_are_those_every_firing_alert_shares() -> None:
    """Routing and silences look at the labels the firing alerts have in common."""
    group, _ = _apply(None, _batch(_alert("a", 0), _alert("b", 0)))
    assert dict(group.common_labels) == {"alertname": "Lag"}
    group, _ = _apply(group, _batch(_alert("b", 0, ends=1)), at=1)
    assert dict(group.common_labels) == {"alertname": "Lag", "instance": "a"}


def test_generic_alerts_are_ordered_by_arrival() -> None:
    """The generic webhook gives no times: arrival order decides, so fire, resolve, fire again
    ends firing, and a resolve arriving at the same moment as a firing wins."""
    fire = parse_generic({"key": "ci", "status": "firing", "title": "Nightly build failed"})
    ok = parse_generic({"key": "ci", "status": "resolved"})
    group, _ = apply_batch(None, "hook", fire, _min(0))
    group, _ = apply_batch(group, "hook", ok, _min(1))
    group, changes = apply_batch(group, "hook", fire, _min(2))
    assert group.status is GroupStatus.FIRING
    assert _kinds(changes) == [("group_refired", ""), ("alert_fired", "ci")]
    group, _ = apply_batch(group, "hook", ok, _min(2))
    assert group.status is GroupStatus.RESOLVED


def test_a_heartbeat_miss_fires_and_the_next_call_resolves() -> None:
    """The heartbeat's missed and ok alerts drive one group like any other sender's."""
    group, changes = apply_batch(None, "hb", heartbeat_missed("backup", _min(0)), _min(0))
    assert _kinds(changes)[0] == ("group_opened", "")
    group, changes = apply_batch(group, "hb", heartbeat_ok("backup", _min(3)), _min(3))
    assert group.status is GroupStatus.RESOLVED
    assert _kinds(changes)[-1] == ("group_resolved", "")


def test_the_real_captures_drive_a_group_through_its_life() -> None:
    """Alertmanager's captured bodies in order: open with three alerts, one resolves, and a
    replay of the older all-firing body does not bring it back."""
    load = lambda name: parse_alertmanager(  # noqa: E731
        json.loads((FIXTURES / "alertmanager" / f"{name}.json").read_text(encoding="utf-8"))
    )
    first, partly = load("group_firing"), load("group_partly_resolved")
    group, changes = apply_batch(None, "am", first, _min(0))
    assert [c.kind for c in changes].count(ChangeKind.ALERT_FIRED) == 3
    group, changes = apply_batch(group, "am", partly, _min(1))
    [resolved] = [a for a in partly.alerts if a.status is AlertStatus.RESOLVED]
    assert _kinds(changes) == [("alert_resolved", resolved.fingerprint)]
    group, changes = apply_batch(group, "am", first, _min(2))
    assert changes == ()
    assert len(group.firing) == 2


# --- any order, any repetition -----------------------------------------------------------------
@st.composite
def _histories(draw: st.DrawFn) -> list[AlertBatch]:
    """Batches as Alertmanager would send them over time: each fingerprint alternates firing
    episodes and resolves at increasing minutes; each batch is a snapshot of some fingerprints'
    state at one moment."""
    fingerprints = draw(st.lists(st.sampled_from("abcd"), min_size=1, max_size=4, unique=True))
    batches = []
    for fp in fingerprints:
        minute, starts, state = 0, 0, None
        for step in draw(st.lists(st.integers(1, 5), min_size=1, max_size=6)):
            minute += step
            if state is None or state.status is AlertStatus.RESOLVED:
                starts = minute
                state = _alert(fp, starts)
            else:
                state = _alert(fp, starts, ends=minute)
            batches.append((minute, state))
    batches.sort(key=lambda item: item[0])
    grouped: list[AlertBatch] = []
    for minute in sorted({m for m, _ in batches}):
        alerts = tuple(a for m, a in batches if m == minute)
        cut = draw(st.integers(1, len(alerts)))
        grouped += [_batch(*alerts[:cut])] + ([_batch(*alerts[cut:])] if alerts[cut:] else [])
    return grouped


def _final(batches: list[AlertBatch]) -> AlertGroup:
    group = None
    for minute, batch in enumerate(batches):
        group, _ = apply_batch(group, "am", batch, _min(minute))
    assert group is not None
    return group


@settings(max_examples=300, deadline=None)
@given(history=_histories(), data=st.data())
def test_any_permutation_or_duplication_ends_in_the_in_order_state(
    history: list[AlertBatch], data: st.DataObject
) -> None:
    """Shuffling the batches and delivering some twice ends with the same alerts and status as
    delivering them once, in order."""
    delivered = data.draw(st.permutations(history + data.draw(st.lists(st.sampled_from(history)))))
    in_order, shuffled = _final(history), _final(delivered)
    assert shuffled.alerts == in_order.alerts
    assert shuffled.status is in_order.status


@settings(max_examples=200, deadline=None)
@given(history=_histories())
def test_the_in_order_group_fires_exactly_when_the_last_state_says_so(
    history: list[AlertBatch],
) -> None:
    """The in-order result is the truth: each alert ends in its latest state, and the group is
    resolved exactly when every alert's latest state is resolved."""
    latest: dict[str, Alert] = {}
    for batch in history:
        for alert in batch.alerts:
            latest[alert.fingerprint] = alert
    group = _final(history)
    assert {fp: entry.alert for fp, entry in group.alerts.items()} == latest
    firing = any(a.status is AlertStatus.FIRING for a in latest.values())
    assert (group.status is GroupStatus.FIRING) is firing
