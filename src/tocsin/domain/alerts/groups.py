"""Alert groups: the pure state that batches of alerts update.

There is one group per (integration, group key): Alertmanager's and Grafana's ``groupKey``, the
generic webhook's ``key``, the heartbeat's name. A group holds its alerts by fingerprint. Its
status is ``resolved`` when no alert fires; otherwise ``silenced`` if a silence covers it (the
caller decides that, see :mod:`tocsin.domain.alerts.silences`), else ``acknowledged`` once
someone acknowledged it, else ``firing``.

:func:`apply_batch` returns the new group and the :class:`Change` values the services turn into
effects (page, propose, declare, resolve). The rules:

- **Order.** Each alert event has a time: a firing alert its ``startsAt``, a resolved alert its
  ``endsAt``; a sender that gives no time (the generic webhook) gets the time the batch arrived.
  Per fingerprint the latest event wins and, at the same time, a resolve beats a firing. So an
  older firing that arrives after a newer resolve does not reopen the alert, a resolve never
  overtakes a later firing, and any order or repetition of the same batches ends in the same
  alerts and status.
- **Redeliveries are idempotent:** an event no newer than what is stored changes nothing.
- **Absence is not a resolve:** an alert missing from a batch (Alertmanager truncates long
  groups) keeps its state until a resolve for it arrives.
- An acknowledged group stays acknowledged while its alerts keep firing (new ones included); when
  every alert has resolved the group is resolved and the acknowledgement is dropped, so a group
  that fires again is ``firing`` again (the same group, reported as ``group_refired``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType

from tocsin.domain.alerts.model import Alert, AlertBatch, AlertStatus
from tocsin.domain.errors import InvalidTransition

__all__ = [
    "AlertGroup", "Change", "ChangeKind", "GroupAlert", "GroupStatus", "acknowledge",
    "apply_batch", "set_silenced",
]  # fmt: skip


class GroupStatus(enum.StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    SILENCED = "silenced"


class ChangeKind(enum.StrEnum):
    GROUP_OPENED = "group_opened"  # a new group fires for the first time
    GROUP_REFIRED = "group_refired"  # a resolved group fires again
    ALERT_FIRED = "alert_fired"  # an alert of the group started (or started again) firing
    ALERT_RESOLVED = "alert_resolved"
    GROUP_RESOLVED = "group_resolved"  # the last firing alert of the group resolved


@dataclass(frozen=True, slots=True)
class Change:
    """What a batch changed; ``fingerprint`` is set for the alert-level kinds."""

    kind: ChangeKind
    fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class GroupAlert:
    """The latest known state of one alert; ``at`` is the time of the event that set it."""

    alert: Alert
    at: datetime

    @property
    def order(self) -> tuple[datetime, int]:
        """Later wins; at the same time a resolve (1) beats a firing (0)."""
        return self.at, int(self.alert.status is AlertStatus.RESOLVED)

    @property
    def firing(self) -> bool:
        return self.alert.status is AlertStatus.FIRING


@dataclass(frozen=True, slots=True)
class AlertGroup:
    """One group of alerts. ``id`` is the storage id (kept through every change); ``fired_at`` is
    when its current or last firing began (``None``: it has never fired); ``silenced_reason``
    says why a silenced group is (``silence``, or ``under maintenance: <components>``)."""

    integration: str
    group_key: str
    title: str
    alerts: Mapping[str, GroupAlert]
    first_seen: datetime
    last_seen: datetime
    fired_at: datetime | None = None
    acknowledged: bool = False
    silenced: bool = False
    id: int | None = None
    silenced_reason: str = ""
    acknowledged_by: str = ""  # who acknowledged it, by name

    @property
    def status(self) -> GroupStatus:
        if not self.firing:
            return GroupStatus.RESOLVED
        if self.silenced:
            return GroupStatus.SILENCED
        return GroupStatus.ACKNOWLEDGED if self.acknowledged else GroupStatus.FIRING

    @property
    def firing(self) -> tuple[Alert, ...]:
        """The alerts firing now, by fingerprint."""
        return tuple(entry.alert for entry in self.alerts.values() if entry.firing)

    @property
    def common_labels(self) -> Mapping[str, str]:
        """The labels every firing alert shares (every alert, when none fires): what routes and
        silences look at for the group as a whole."""
        alerts = self.firing or tuple(entry.alert for entry in self.alerts.values())
        if not alerts:
            return MappingProxyType({})
        shared = dict(alerts[0].labels)
        for alert in alerts[1:]:
            shared = {k: v for k, v in shared.items() if alert.labels.get(k) == v}
        return MappingProxyType(shared)


def _event_time(alert: Alert, received_at: datetime) -> datetime:
    given = alert.starts_at if alert.status is AlertStatus.FIRING else alert.ends_at
    return given or received_at


def _merge(alerts: dict[str, GroupAlert], alert: Alert, received_at: datetime) -> Change | None:
    """Lay one alert event over the stored state; the change it makes, if any."""
    entry = GroupAlert(alert, _event_time(alert, received_at))
    stored = alerts.get(alert.fingerprint)
    if stored is not None and entry.order <= stored.order:
        return None  # a redelivery, or older than what is known
    alerts[alert.fingerprint] = entry
    if entry.firing and (stored is None or not stored.firing):
        return Change(ChangeKind.ALERT_FIRED, alert.fingerprint)
    if not entry.firing and stored is not None and stored.firing:
        return Change(ChangeKind.ALERT_RESOLVED, alert.fingerprint)
    return None


def apply_batch(
    group: AlertGroup | None, integration: str, batch: AlertBatch, received_at: datetime
) -> tuple[AlertGroup, tuple[Change, ...]]:
    """Apply one delivery to its group (``None``: the group is new); the new group and what
    changed. ``received_at`` is when the batch arrived (aware UTC)."""
    if group is None:
        group = AlertGroup(integration, batch.group_key, batch.title, {}, received_at, received_at)
    elif (group.integration, group.group_key) != (integration, batch.group_key):
        raise ValueError("the batch belongs to another group")
    was_firing = bool(group.firing)
    alerts = dict(group.alerts)
    merged = (_merge(alerts, alert, received_at) for alert in batch.alerts)
    alert_changes = [change for change in merged if change is not None]
    group = replace(
        group,
        alerts=MappingProxyType(dict(sorted(alerts.items()))),
        first_seen=min(group.first_seen, received_at),
        last_seen=max(group.last_seen, received_at),
    )
    return _group_changes(group, was_firing, batch, alert_changes)


def _group_changes(
    group: AlertGroup, was_firing: bool, batch: AlertBatch, alert_changes: list[Change]
) -> tuple[AlertGroup, tuple[Change, ...]]:
    now_firing = group.firing
    if now_firing and not was_firing:
        kind = ChangeKind.GROUP_OPENED if group.fired_at is None else ChangeKind.GROUP_REFIRED
        started = min(group.alerts[alert.fingerprint].at for alert in now_firing)
        group = replace(group, title=batch.title, fired_at=started)
        return group, (Change(kind), *alert_changes)
    if was_firing and not now_firing:
        group = replace(group, acknowledged=False, acknowledged_by="")
        return group, (*alert_changes, Change(ChangeKind.GROUP_RESOLVED))
    return group, tuple(alert_changes)


def acknowledge(group: AlertGroup, by: str = "") -> AlertGroup:
    """Someone (``by``, a name) has it: the group stays acknowledged while its alerts fire. A
    group acknowledged already is refused, saying by whom."""
    if not group.firing:
        raise InvalidTransition("this alert group is resolved; there is nothing to acknowledge")
    if group.acknowledged:
        which = f"Alert group #{group.id}" if group.id is not None else "This alert group"
        raise InvalidTransition(
            f"{which} is already acknowledged by {group.acknowledged_by or 'someone'}."
        )
    return replace(group, acknowledged=True, acknowledged_by=by)


def set_silenced(group: AlertGroup, silenced: bool, reason: str = "silence") -> AlertGroup:
    """Record whether a silence (or a maintenance window, with its ``reason``) covers the group
    now; the caller evaluates the silences and the windows."""
    return replace(group, silenced=silenced, silenced_reason=reason if silenced else "")
