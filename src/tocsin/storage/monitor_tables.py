"""Tables of the uptime monitors (docs/monitors.md), on the same ``MetaData`` as :mod:`tables`.

- ``monitor_states``: one row per monitor name: its status, the current run of failures or
  successes (with the failures' reasons), when it was last checked and how long that took;
- ``monitor_results``: one row per check, kept for a week;
- ``monitor_hourly``: older checks folded into one row per monitor and hour, kept for 90 days;
- ``monitor_definitions``: the monitors created through the API or the CLI (the policy file's
  are not stored): the ``[[monitor]]`` keys as JSON, ``restricted`` when the private-address
  rule applies at every check, who created it and when.
"""

from __future__ import annotations

import sqlalchemy as sa

from tocsin.storage.tables import JSON, TS, metadata

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

monitor_states = sa.Table(
    "monitor_states",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("successes", sa.Integer, nullable=False),
    sa.Column("reasons", JSON, nullable=False),
    sa.Column("since", TS),
    sa.Column("last_checked", TS),
    sa.Column("latency_ms", sa.Integer),
    sa.Column("paused", sa.Boolean, nullable=False),
)

monitor_results = sa.Table(
    "monitor_results",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("monitor", sa.String(200), nullable=False),
    sa.Column("checked_at", TS, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("latency_ms", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Index("ix_monitor_results_monitor_checked_at", "monitor", "checked_at"),
    sa.Index("ix_monitor_results_checked_at", "checked_at"),
)

monitor_hourly = sa.Table(
    "monitor_hourly",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("monitor", sa.String(200), nullable=False),
    sa.Column("hour", TS, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("min_ms", sa.Integer),
    sa.Column("avg_ms", sa.Float),
    sa.Column("max_ms", sa.Integer),
    sa.UniqueConstraint("monitor", "hour", name="uq_monitor_hourly_monitor_hour"),
)

monitor_definitions = sa.Table(
    "monitor_definitions",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("definition", JSON, nullable=False),
    sa.Column("restricted", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", TS, nullable=False),
)
