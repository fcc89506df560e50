"""Every Prometheus metric tocsin exports, defined here and nowhere else.

Metrics live in a dedicated :class:`~prometheus_client.CollectorRegistry` made by
:func:`create_metrics`, never in the global default registry, so several apps (or tests) in one
process do not collide. The composition root creates one :class:`Metrics` and passes it down;
``/metrics`` answers with :func:`render`.
"""

from __future__ import annotations

import contextlib
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from tocsin import __version__

# Values of circuit_breaker_state.
CIRCUIT_CLOSED = 0
CIRCUIT_HALF_OPEN = 1
CIRCUIT_OPEN = 2

# Request and command latency: 1 ms to 5 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Calls to Slack, Discord, Statuspage, PagerDuty: 5 ms to 30 s.
DELIVERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Time to acknowledge / resolve: 1 minute to 7 days.
_MINUTE, _HOUR, _DAY = 60.0, 3600.0, 86400.0
INCIDENT_BUCKETS = (
    *(m * _MINUTE for m in (1, 2, 5, 10, 15, 30)),
    *(h * _HOUR for h in (1, 2, 4, 8, 12)),
    *(d * _DAY for d in (1, 2, 3, 7)),
)


class Metrics:
    """The registry and every metric in it. Create it with :func:`create_metrics`.

    Label values must come from small fixed sets (route templates, not raw paths; severities;
    platform names), or the number of time series grows without bound.
    """

    def __init__(self, registry: CollectorRegistry, version: str) -> None:
        self.registry = registry
        r = registry
        self.http_requests_total = Counter(
            "http_requests_total",
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_request_duration_seconds = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.commands_total = Counter(
            "commands_total",
            "Incident commands run, by platform, subcommand and outcome (allowed|denied|error).",
            ["platform", "command", "outcome"],
            registry=r,
        )
        self.command_duration_seconds = Histogram(
            "command_duration_seconds",
            "Time to decide and commit a command, by platform.",
            ["platform"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._incident_metrics(r)
        self._delivery_metrics(r)
        self._alert_metrics(r)
        self.status_cache_total = Counter(
            "status_cache_total",
            "Status page cache lookups, by result (hit|miss).",
            ["result"],
            registry=r,
        )
        self.status_subscribers = Gauge(
            "status_subscribers",
            "Status page subscribers, by kind (email|webhook) and state "
            "(pending|confirmed|bounced|unsubscribed).",
            ["kind", "state"],
            registry=r,
        )
        self.build_info = Gauge(
            "build_info",
            "Always 1; the version label says which tocsin runs.",
            ["version"],
            registry=r,
        )
        self.build_info.labels(version=version).set(1)
        # Labelled children of the per-request metrics, looked up once per label set:
        # ``labels()`` costs several microseconds, and these are counted on every request.
        self._requests: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._commands: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def request_done(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one HTTP request and its duration."""
        key = (route, method, status)
        children = self._requests.get(key)
        if children is None:
            children = self._requests[key] = (
                self.http_requests_total.labels(route, method, str(status)),
                self.http_request_duration_seconds.labels(route, method),
            )
        children[0].inc()
        children[1].observe(seconds)

    def command_done(self, platform: str, command: str, outcome: str, seconds: float) -> None:
        """Count one chat command, how it ended, and its duration."""
        key = (platform, command, outcome)
        children = self._commands.get(key)
        if children is None:
            children = self._commands[key] = (
                self.commands_total.labels(platform, command, outcome),
                self.command_duration_seconds.labels(platform),
            )
        children[0].inc()
        children[1].observe(seconds)

    def _incident_metrics(self, r: CollectorRegistry) -> None:
        self.incidents_declared_total = Counter(
            "incidents_declared_total",
            "Incidents declared, by severity.",
            ["severity"],
            registry=r,
        )
        self.open_incidents = Gauge(
            "open_incidents",
            "Incidents not yet resolved, by severity.",
            ["severity"],
            registry=r,
        )
        self.time_to_acknowledge_seconds = Histogram(
            "time_to_acknowledge_seconds",
            "Time from declaration to acknowledgement, by severity.",
            ["severity"],
            buckets=INCIDENT_BUCKETS,
            registry=r,
        )
        self.time_to_resolve_seconds = Histogram(
            "time_to_resolve_seconds",
            "Time from declaration to resolution, by severity.",
            ["severity"],
            buckets=INCIDENT_BUCKETS,
            registry=r,
        )
        self.pages_sent_total = Counter(
            "pages_sent_total",
            "Pages sent to on-call people, by channel.",
            ["channel"],
            registry=r,
        )
        self.escalations_total = Counter(
            "escalations_total",
            "Pages escalated for want of an ack, by level.",
            ["level"],
            registry=r,
        )
        self.timers_fired_total = Counter(
            "timers_fired_total",
            "Timers (reminders, escalations, checks) fired, by kind.",
            ["kind"],
            registry=r,
        )

    def _alert_metrics(self, r: CollectorRegistry) -> None:
        """The alert intake (docs/alerts.md). ``integration`` is the integration's kind, a fixed
        set, not its name; ``status`` is the alert's (firing, resolved, silenced)."""
        self.alerts_received_total = Counter(
            "alerts_received_total",
            "Alerts processed from the inbox, by integration kind and status.",
            ["integration", "status"],
            registry=r,
        )
        self.alerts_deduplicated_total = Counter(
            "alerts_deduplicated_total",
            "Alert bodies accepted as redeliveries of the group's last body (stored once).",
            registry=r,
        )
        self.alert_groups = Gauge(
            "alert_groups",
            "Alert groups by state (firing, acknowledged, silenced, resolved).",
            ["state"],
            registry=r,
        )
        self.alert_intake_rejected_total = Counter(
            "alert_intake_rejected_total",
            "Alert bodies refused, by reason: unauthorized, unknown, too_large, malformed, method.",
            ["reason"],
            registry=r,
        )
        self.monitor_up = Gauge(
            "monitor_up",
            "Uptime monitors: 1 up, 0 down (pending and paused monitors are not set).",
            ["monitor"],
            registry=r,
        )
        self.monitor_check_seconds = Histogram(
            "monitor_check_seconds",
            "Time one monitor check took (request or connect, up to its timeout).",
            ["monitor"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.monitor_checks_total = Counter(
            "monitor_checks_total",
            "Monitor checks, by monitor and result (ok|failed).",
            ["monitor", "result"],
            registry=r,
        )

    def forget_monitor(self, name: str) -> None:
        """Drop every series of monitor ``name`` (it was deleted), so it stops being exported."""
        with contextlib.suppress(KeyError):
            self.monitor_up.remove(name)
        with contextlib.suppress(KeyError):
            self.monitor_check_seconds.remove(name)
        for result in ("ok", "failed"):
            with contextlib.suppress(KeyError):
                self.monitor_checks_total.remove(name, result)

    def group_committed(self, members: int, seconds: float) -> None:
        """One SQLite group COMMIT: how many units of work it made durable, and how long."""
        self.sqlite_group_commit_members.observe(members)
        self.sqlite_commit_seconds.observe(seconds)

    def _delivery_metrics(self, r: CollectorRegistry) -> None:
        self.sqlite_group_commit_members = Histogram(
            "sqlite_group_commit_members",
            "Units of work made durable by one SQLite COMMIT (group commit; SQLite only).",
            buckets=(1, 2, 4, 8, 16, 32),
            registry=r,
        )
        self.sqlite_commit_seconds = Histogram(
            "sqlite_commit_seconds",
            "Time one SQLite group COMMIT took (mostly fsync; SQLite only).",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=r,
        )
        self.outbox_pending = Gauge(
            "outbox_pending",
            "Outbox rows waiting to be delivered, by destination.",
            ["destination"],
            registry=r,
        )
        self.outbox_oldest_pending_seconds = Gauge(
            "outbox_oldest_pending_seconds",
            "Age of the oldest outbox row waiting to be delivered, by destination.",
            ["destination"],
            registry=r,
        )
        self.deliveries_total = Counter(
            "deliveries_total",
            "Delivery attempts, by destination and outcome (delivered|retry|dead).",
            ["destination", "outcome"],
            registry=r,
        )
        self.delivery_duration_seconds = Histogram(
            "delivery_duration_seconds",
            "Time of one delivery attempt to an outside service, by destination.",
            ["destination"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.circuit_breaker_state = Gauge(
            "circuit_breaker_state",
            "Circuit breaker per destination: 0 closed, 1 half-open, 2 open.",
            ["destination"],
            registry=r,
        )


def create_metrics(version: str = __version__, *, process: bool = True) -> Metrics:
    """A fresh registry holding every tocsin metric.

    ``process`` adds the standard process, Python platform and GC collectors (CPU, memory,
    open files), which describe the whole process: leave it on for the app, off in tests.
    It also turns off prometheus_client's ``*_created`` series, process-wide.
    """
    disable_created_metrics()  # type: ignore[no-untyped-call]  # no extra *_created series per counter and histogram
    registry = CollectorRegistry(auto_describe=True)
    if process:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    return Metrics(registry, version)


def render(metrics: Metrics) -> tuple[bytes, str]:
    """The ``/metrics`` answer: the body in Prometheus text format, and its content type."""
    return generate_latest(metrics.registry), CONTENT_TYPE_LATEST
