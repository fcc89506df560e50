"""Tables of the alert intake (docs/alerts.md), on the same ``MetaData`` as :mod:`tables`.

- ``alert_integrations``: one URL per sender; the URL's secret is kept as its SHA-256 only.
  ``signing_secret`` is Grafana's optional HMAC key, kept in clear because checking an HMAC needs
  the key itself.
- ``alert_inbox``: every accepted body, raw, committed before the sender gets its 2xx; the
  worker turns pending rows into group changes (``state`` pending → done, or failed).
- ``alert_groups``: one per integration and group key, the alerts kept as JSON by fingerprint.
- ``alert_silences``: silences of one group or of every alert matching label matchers.
"""

from __future__ import annotations

import sqlalchemy as sa

from tocsin.storage.tables import JSON, TS, metadata

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

alert_integrations = sa.Table(
    "alert_integrations",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("public_id", sa.String(32), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("signing_secret", sa.String(128)),
    sa.Column("period_seconds", sa.Integer),  # heartbeats: a call is due every period
    sa.Column("grace_seconds", sa.Integer),  # ... and late after period + grace
    sa.Column("created_at", TS, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("last_received_at", TS),
)

alert_inbox = sa.Table(
    "alert_inbox",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("integration", sa.Integer, nullable=False),
    sa.Column("group_key", sa.Text, nullable=False),
    sa.Column("group_hash", sa.String(64), nullable=False),  # SHA-256 of group_key, indexed
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", TS, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("processed_at", TS),
    sa.Column("error", sa.Text),
    sa.Index("ix_alert_inbox_state_id", "state", "id"),
    sa.Index("ix_alert_inbox_group", "integration", "group_hash", "id"),
)

alert_groups = sa.Table(
    "alert_groups",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("integration", sa.Integer, nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("group_key", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("alerts", JSON, nullable=False),
    sa.Column("first_seen", TS, nullable=False),
    sa.Column("last_seen", TS, nullable=False),
    sa.Column("fired_at", TS),
    sa.Column("acknowledged", sa.Boolean, nullable=False),
    sa.Column("acknowledged_by", sa.String(200)),  # who, by name (NULL: nobody, or before 0016)
    sa.Column("silenced", sa.Boolean, nullable=False),
    sa.Column("silenced_reason", sa.String(200)),
    sa.Column("incident", sa.Integer),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("auto_resolve", sa.Boolean, nullable=False),
    sa.UniqueConstraint("integration", "key_hash", name="uq_alert_groups_integration_key"),
    sa.Index("ix_alert_groups_status", "status"),
    sa.Index("ix_alert_groups_incident", "incident"),
)

alert_silences = sa.Table(
    "alert_silences",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("group_id", sa.Integer),
    sa.Column("matchers", sa.Text, nullable=False),
    sa.Column("starts_at", TS, nullable=False),
    sa.Column("ends_at", TS, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Index("ix_alert_silences_ends_at", "ends_at"),
)
