"""Uptime monitors, pure: what a check means, when a monitor is up or down, what is kept.

- :mod:`~tocsin.domain.monitors.model`: :class:`Monitor`, an :class:`Observation` and its
  :class:`Outcome`;
- :mod:`~tocsin.domain.monitors.section`: ``[[monitor]]`` from the policy file;
- :mod:`~tocsin.domain.monitors.checks`: :func:`evaluate`, one observation to ok or failed;
- :mod:`~tocsin.domain.monitors.state`: the pending/up/down/paused state machine and the alert
  batch each change becomes;
- :mod:`~tocsin.domain.monitors.retention`: detail, hourly aggregates, uptime per day;
- :mod:`~tocsin.domain.monitors.ssrf`: which resolved addresses are internal.

``docs/monitors.md`` describes the rules for people.
"""

from tocsin.domain.monitors.checks import evaluate, expected_status_text
from tocsin.domain.monitors.model import ConnectError, Monitor, MonitorKind, Observation, Outcome
from tocsin.domain.monitors.retention import (
    DayUptime,
    HourlyAggregate,
    ResultRow,
    RetentionPlan,
    bytes_per_monitor_held,
    bytes_per_monitor_per_day,
    daily_uptime,
    expired_aggregates,
    plan_retention,
)
from tocsin.domain.monitors.section import parse_monitors
from tocsin.domain.monitors.ssrf import blocked_addresses, is_internal, target_allowed
from tocsin.domain.monitors.state import (
    EventKind,
    MonitorEvent,
    MonitorState,
    MonitorStatus,
    event_batch,
    observe,
    pause,
    resume,
)

__all__ = [
    "ConnectError", "DayUptime", "EventKind", "HourlyAggregate", "Monitor", "MonitorEvent",
    "MonitorKind", "MonitorState", "MonitorStatus", "Observation", "Outcome", "ResultRow",
    "RetentionPlan", "blocked_addresses", "bytes_per_monitor_held", "bytes_per_monitor_per_day",
    "daily_uptime", "evaluate", "event_batch", "expected_status_text", "expired_aggregates",
    "is_internal", "observe", "parse_monitors", "pause", "plan_retention", "resume",
    "target_allowed",
]  # fmt: skip
