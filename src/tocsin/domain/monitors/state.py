"""The up/down state of one monitor, driven by check outcomes.

A monitor starts ``pending``. ``down_after`` failed checks in a row make it ``down``;
``up_after`` good checks in a row make it ``up``. A good check resets the run of failures and a
failed check resets the run of successes, so a target that flaps (fails, recovers, fails …) never
reaches ``down_after`` failures in a row and does not page on every blip. ``paused`` monitors
ignore outcomes until resumed, and resume as ``pending`` with fresh counts.

Every status change returns a :class:`MonitorEvent`; :func:`event_batch` turns it into the
neutral alert batch that alert routing handles (one group per monitor).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from tocsin.domain.alerts.model import Alert, AlertBatch, AlertStatus, IntegrationKind, frozen_map
from tocsin.domain.monitors.checks import failed_check_text
from tocsin.domain.monitors.model import Monitor, Outcome

__all__ = [
    "EventKind", "MonitorEvent", "MonitorState", "MonitorStatus", "event_batch", "observe",
    "pause", "resume",
]  # fmt: skip


class MonitorStatus(enum.StrEnum):
    PENDING = "pending"
    UP = "up"
    DOWN = "down"
    PAUSED = "paused"


class EventKind(enum.StrEnum):
    WENT_DOWN = "went_down"  # from pending or up: the alert fires
    WENT_UP = "went_up"  # from pending or down: the alert (if any) resolves
    PAUSED = "paused"  # paused while down: the alert resolves, nobody is watching any more


@dataclass(frozen=True, slots=True)
class MonitorState:
    """Where one monitor stands. ``failures``/``successes`` count the current run of
    consecutive outcomes; ``reasons`` are the failed checks of the current run of failures as
    :func:`~tocsin.domain.monitors.checks.failed_check_text` writes them (time, reason, response
    time; at most ``down_after`` of them, the latest last)."""

    status: MonitorStatus = MonitorStatus.PENDING
    failures: int = 0
    successes: int = 0
    reasons: tuple[str, ...] = ()
    since: datetime | None = None
    last_checked: datetime | None = None
    latency_ms: int | None = None


@dataclass(frozen=True, slots=True)
class MonitorEvent:
    """A status change of ``monitor`` at ``at``; ``reasons`` are the failed checks (time, reason,
    response time) for ``went_down``."""

    kind: EventKind
    monitor: str
    at: datetime
    previous: MonitorStatus
    reasons: tuple[str, ...] = ()


def observe(
    monitor: Monitor, state: MonitorState, outcome: Outcome
) -> tuple[MonitorState, MonitorEvent | None]:
    """The state after ``outcome``, and the event if the status changed."""
    if state.status is MonitorStatus.PAUSED:
        return state, None
    checked = replace(state, last_checked=outcome.checked_at, latency_ms=outcome.latency_ms)
    if outcome.ok:
        counted = replace(checked, failures=0, successes=state.successes + 1, reasons=())
        if counted.successes >= monitor.up_after and state.status is not MonitorStatus.UP:
            return _change(counted, MonitorStatus.UP, EventKind.WENT_UP, monitor, outcome)
        return counted, None
    reasons = (*state.reasons, failed_check_text(outcome))[-monitor.down_after :]
    counted = replace(checked, failures=state.failures + 1, successes=0, reasons=reasons)
    if counted.failures >= monitor.down_after and state.status is not MonitorStatus.DOWN:
        return _change(counted, MonitorStatus.DOWN, EventKind.WENT_DOWN, monitor, outcome)
    return counted, None


def _change(
    state: MonitorState, to: MonitorStatus, kind: EventKind, monitor: Monitor, outcome: Outcome
) -> tuple[MonitorState, MonitorEvent]:
    at = outcome.checked_at
    event = MonitorEvent(kind, monitor.name, at, state.status, state.reasons)
    return replace(state, status=to, since=at), event


def pause(
    monitor: Monitor, state: MonitorState, at: datetime
) -> tuple[MonitorState, MonitorEvent | None]:
    """Stop watching; a monitor that was down resolves its alert (event ``paused``)."""
    if state.status is MonitorStatus.PAUSED:
        return state, None
    paused = MonitorState(MonitorStatus.PAUSED, since=at, last_checked=state.last_checked)
    if state.status is MonitorStatus.DOWN:
        return paused, MonitorEvent(EventKind.PAUSED, monitor.name, at, state.status)
    return paused, None


def resume(state: MonitorState, at: datetime) -> MonitorState:
    """Watch again from ``pending`` with fresh counts (a running monitor is left alone)."""
    if state.status is not MonitorStatus.PAUSED:
        return state
    return MonitorState(MonitorStatus.PENDING, since=at, last_checked=state.last_checked)


def event_batch(monitor: Monitor, event: MonitorEvent) -> AlertBatch | None:
    """The alert batch for ``event``: firing when it went down, resolved when it came back (or
    was paused while down); ``None`` for pending → up, which has no alert to resolve.

    The group key is the monitor's name and the fingerprint ``monitor:<name>``, so each monitor
    is one alert group with one alert.
    """
    if event.kind is EventKind.WENT_UP and event.previous is MonitorStatus.PENDING:
        return None
    firing = event.kind is EventKind.WENT_DOWN
    status = AlertStatus.FIRING if firing else AlertStatus.RESOLVED
    labels = {"alertname": "MonitorDown", "monitor": monitor.name, "kind": str(monitor.kind)}
    if monitor.component:
        labels["component"] = monitor.component
    summary = f'Monitor "{monitor.name}" is down'
    annotations = {"summary": summary}
    if event.reasons:
        annotations["description"] = "; ".join(event.reasons)
    alert = Alert(
        fingerprint=f"monitor:{monitor.name}",
        status=status,
        labels=frozen_map(labels),
        annotations=frozen_map(annotations),
        starts_at=event.at if firing else None,
        ends_at=None if firing else event.at,
    )
    return AlertBatch(
        IntegrationKind.MONITOR, monitor.name, status, (alert,), summary,
        common_labels=alert.labels, common_annotations=alert.annotations,
    )  # fmt: skip
