"""Alert intake, pure: body formats to one neutral shape, alert groups, routing and silences.

- :mod:`~tocsin.domain.alerts.model`: the neutral :class:`Alert` and :class:`AlertBatch`;
- :mod:`~tocsin.domain.alerts.formats`: Alertmanager, Grafana and generic webhook bodies, and
  heartbeats, parsed into batches (errors name the bad field);
- :mod:`~tocsin.domain.alerts.groups`: the group state a batch updates, and what it changed;
- :mod:`~tocsin.domain.alerts.routes`: ``[[alert_route]]`` from the policy file;
- :mod:`~tocsin.domain.alerts.silences`: silences and their label matchers.

``docs/alerts.md`` describes the formats and rules for people.
"""

from tocsin.domain.alerts.formats import (
    PARSERS,
    heartbeat_missed,
    heartbeat_ok,
    parse_alertmanager,
    parse_generic,
    parse_grafana,
)
from tocsin.domain.alerts.groups import (
    AlertGroup,
    Change,
    ChangeKind,
    GroupAlert,
    GroupStatus,
    acknowledge,
    apply_batch,
    set_silenced,
)
from tocsin.domain.alerts.model import Alert, AlertBatch, AlertStatus, IntegrationKind
from tocsin.domain.alerts.routes import DEFAULT_ROUTE, AlertAction, AlertRoute, AlertRouter
from tocsin.domain.alerts.silences import (
    Matcher,
    MatchOp,
    Silence,
    is_silenced,
    make_silence,
    parse_matchers,
)

__all__ = [
    "DEFAULT_ROUTE", "PARSERS", "Alert", "AlertAction", "AlertBatch", "AlertGroup", "AlertRoute",
    "AlertRouter", "AlertStatus", "Change", "ChangeKind", "GroupAlert", "GroupStatus",
    "IntegrationKind", "MatchOp", "Matcher", "Silence", "acknowledge", "apply_batch",
    "heartbeat_missed", "heartbeat_ok", "is_silenced", "make_silence", "parse_alertmanager",
    "parse_generic", "parse_grafana", "parse_matchers", "set_silenced",
]  # fmt: skip
