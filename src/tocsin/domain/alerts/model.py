"""The neutral alert: what every sender (Alertmanager, Grafana, a generic webhook, a heartbeat)
is turned into before grouping and routing.

A sender posts a :class:`AlertBatch`: the alerts of one group (``group_key``) at one moment, each
an :class:`Alert` identified by its ``fingerprint``. Times are aware UTC datetimes, or ``None``
when the sender gave none (Alertmanager's zero time ``0001-01-01T00:00:00Z`` is ``None``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

__all__ = ["Alert", "AlertBatch", "AlertStatus", "IntegrationKind", "frozen_map"]


class AlertStatus(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class IntegrationKind(enum.StrEnum):
    """Where alerts come from; each kind has its own body format."""

    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    WEBHOOK = "webhook"
    HEARTBEAT = "heartbeat"


def frozen_map(items: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """A read-only copy with sorted keys (so equal maps print and compare alike)."""
    return MappingProxyType(dict(sorted((items or {}).items())))


def _empty() -> Mapping[str, str]:
    return frozen_map()


def _no_values() -> Mapping[str, float]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert in a batch.

    ``links`` maps a kind to an http(s) URL: ``generator`` (the rule or query), ``silence``,
    ``dashboard``, ``panel``, ``image`` (Grafana) and ``source`` (generic webhook ``link``).
    ``values`` and ``value_text`` are what Grafana says triggered the alert (empty elsewhere).
    """

    fingerprint: str
    status: AlertStatus
    labels: Mapping[str, str] = field(default_factory=_empty)
    annotations: Mapping[str, str] = field(default_factory=_empty)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    links: Mapping[str, str] = field(default_factory=_empty)
    values: Mapping[str, float] = field(default_factory=_no_values)
    value_text: str = ""

    @property
    def name(self) -> str:
        """``alertname``, else the summary, else the fingerprint: what a person calls it."""
        return self.labels.get("alertname") or self.annotations.get("summary") or self.fingerprint


@dataclass(frozen=True, slots=True)
class AlertBatch:
    """The alerts of one group, as one delivery from one sender.

    ``group_key`` names the group within the integration (Alertmanager's ``groupKey``, the
    generic webhook's ``key``, the heartbeat's name). ``truncated`` is how many alerts the sender
    left out of the body (Alertmanager's ``truncatedAlerts``).
    """

    kind: IntegrationKind
    group_key: str
    status: AlertStatus
    alerts: tuple[Alert, ...]
    title: str
    receiver: str = ""
    group_labels: Mapping[str, str] = field(default_factory=_empty)
    common_labels: Mapping[str, str] = field(default_factory=_empty)
    common_annotations: Mapping[str, str] = field(default_factory=_empty)
    external_url: str = ""
    truncated: int = 0
