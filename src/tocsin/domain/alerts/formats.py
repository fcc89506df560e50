"""The body formats tocsin accepts, each parsed into one neutral :class:`AlertBatch`.

- Alertmanager's webhook (``"version": "4"``);
- Grafana Alerting's webhook (``"version": "1"``): Alertmanager's shape plus ``orgId``,
  ``title``, ``state``, ``message`` and, per alert, ``silenceURL``, ``dashboardURL``,
  ``panelURL``, ``imageURL``, ``values`` and ``valueString``;
- the generic webhook, tocsin's own small format (``docs/alerts.md``, "Generic webhook format");
- heartbeats, which have no body: :func:`heartbeat_missed` and :func:`heartbeat_ok` build the
  alert a missed heartbeat raises and the one a call resolves.

Every parser takes any parsed JSON value and either returns a batch or raises
:class:`~tocsin.domain.errors.AlertPayloadError` naming the bad field; nothing else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType

from tocsin.domain.alerts.model import (
    Alert,
    AlertBatch,
    AlertStatus,
    IntegrationKind,
    frozen_map,
)
from tocsin.domain.alerts.reading import Reader
from tocsin.domain.errors import AlertPayloadError

__all__ = [
    "GENERIC_KEYS", "PARSERS", "heartbeat_missed", "heartbeat_ok", "label_fingerprint",
    "parse_alertmanager", "parse_generic", "parse_grafana",
]  # fmt: skip

MAX_KEY = 200
GENERIC_KEYS = ("key", "status", "title", "severity", "description", "labels", "link")
_GRAFANA_LINKS = {"silence": "silenceURL", "dashboard": "dashboardURL", "panel": "panelURL",
                  "image": "imageURL"}  # fmt: skip


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """A stable id for a label set (used when a sender gives no ``fingerprint``)."""
    text = "\x00".join(f"{key}\x01{value}" for key, value in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_alertmanager(body: object) -> AlertBatch:
    """An Alertmanager webhook body (version "4")."""
    return _parse_grouped(body, IntegrationKind.ALERTMANAGER, "4")


def parse_grafana(body: object) -> AlertBatch:
    """A Grafana Alerting webhook body (version "1")."""
    return _parse_grouped(body, IntegrationKind.GRAFANA, "1")


def _parse_grouped(body: object, kind: IntegrationKind, version: str) -> AlertBatch:
    top = Reader(body)
    top.choice("version", (version,))
    group_key = top.text("groupKey", required=True)
    status = top.status()
    alerts = tuple(_grouped_alert(item, kind) for item in top.objects("alerts"))
    if kind is IntegrationKind.GRAFANA:
        top.count("orgId")
        for key in ("title", "state", "message"):
            top.text(key)
    group_labels = top.strings("groupLabels")
    common_labels = top.strings("commonLabels")
    common_annotations = top.strings("commonAnnotations")
    title = common_annotations.get("summary") or common_labels.get("alertname") or alerts[0].name
    return AlertBatch(
        kind=kind,
        group_key=group_key,
        status=status,
        alerts=alerts,
        title=title,
        receiver=top.text("receiver"),
        group_labels=group_labels,
        common_labels=common_labels,
        common_annotations=common_annotations,
        external_url=top.url("externalURL"),
        truncated=top.count("truncatedAlerts"),
    )


def _grouped_alert(item: Reader, kind: IntegrationKind) -> Alert:
    status = item.status()
    labels = item.strings("labels", required=True)
    annotations = item.strings("annotations")
    starts_at = item.time("startsAt", required=True)
    ends_at = item.time("endsAt")
    links = {"generator": item.url("generatorURL")}
    values: Mapping[str, float] = MappingProxyType({})
    value_text = ""
    if kind is IntegrationKind.GRAFANA:
        links |= {name: item.url(key) for name, key in _GRAFANA_LINKS.items()}
        values = MappingProxyType(item.numbers("values"))
        value_text = item.text("valueString")
    fingerprint = item.text("fingerprint").strip() or label_fingerprint(labels)
    return Alert(
        fingerprint=fingerprint,
        status=status,
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at if status is AlertStatus.RESOLVED else None,
        links=frozen_map({name: url for name, url in links.items() if url}),
        values=values,
        value_text=value_text,
    )


def parse_generic(body: object) -> AlertBatch:
    """The generic webhook: one alert per ``key`` (see ``docs/alerts.md``)."""
    top = Reader(body)
    unknown = sorted(str(key) for key in top.data if key not in GENERIC_KEYS)
    if unknown:
        raise AlertPayloadError(unknown[0], f"unknown field (expected {', '.join(GENERIC_KEYS)})")
    key = top.nonempty("key").strip()
    if len(key) > MAX_KEY:
        raise AlertPayloadError("key", f"longer than {MAX_KEY} characters")
    status = top.status()
    title = top.nonempty("title") if status is AlertStatus.FIRING else top.text("title")
    labels = dict(top.strings("labels"))
    severity = top.text("severity").strip()
    if severity:
        labels["severity"] = severity
    link = top.text("link").strip()
    if link and not top.url("link"):
        raise AlertPayloadError("link", "expected an http:// or https:// URL")
    annotations = {"summary": title.strip() or key, "description": top.text("description")}
    alert = Alert(
        fingerprint=key,
        status=status,
        labels=frozen_map(labels),
        annotations=frozen_map({name: text for name, text in annotations.items() if text}),
        links=frozen_map({"source": link} if link else {}),
    )
    return AlertBatch(IntegrationKind.WEBHOOK, key, status, (alert,), alert.name)


def _heartbeat(name: str, status: AlertStatus, at: datetime, summary: str) -> AlertBatch:
    alert = Alert(
        fingerprint=f"heartbeat:{name}",
        status=status,
        labels=frozen_map({"alertname": "HeartbeatMissed", "heartbeat": name}),
        annotations=frozen_map({"summary": summary}),
        starts_at=at if status is AlertStatus.FIRING else None,
        ends_at=at if status is AlertStatus.RESOLVED else None,
    )
    return AlertBatch(IntegrationKind.HEARTBEAT, name, status, (alert,), summary)


def heartbeat_missed(name: str, due_at: datetime) -> AlertBatch:
    """The alert raised when heartbeat ``name`` was due at ``due_at`` and no call came."""
    return _heartbeat(name, AlertStatus.FIRING, due_at, f'Heartbeat "{name}" missed')


def heartbeat_ok(name: str, called_at: datetime) -> AlertBatch:
    """The alert a call to heartbeat ``name`` at ``called_at`` resolves."""
    return _heartbeat(name, AlertStatus.RESOLVED, called_at, f'Heartbeat "{name}" missed')


PARSERS: Mapping[IntegrationKind, Callable[[object], AlertBatch]] = MappingProxyType(
    {
        IntegrationKind.ALERTMANAGER: parse_alertmanager,
        IntegrationKind.GRAFANA: parse_grafana,
        IntegrationKind.WEBHOOK: parse_generic,
    }
)
