"""Table definitions (SQLAlchemy Core). The Alembic migrations create exactly these.

Core, not the ORM: the hot paths write a handful of rows per command and the aggregate is mapped
by hand in :mod:`tocsin.storage.incidents`, which keeps the domain free of SQLAlchemy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from tocsin.storage import contact_tables, people_tables
from tocsin.storage import tables_subscribers as subscriber_tables

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class _JSON(sa.TypeDecorator[Any]):
    """JSON documents: ``JSONB`` on PostgreSQL, JSON text on SQLite.

    A decorator rather than ``sa.JSON().with_variant(postgresql.JSONB(), ...)`` so that the
    PostgreSQL dialect (2 MB of memory) is imported only by processes that talk to PostgreSQL.
    """

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(sa.JSON())


JSON = _JSON()


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timestamps stored as UTC and read back timezone-aware UTC on both databases.

    SQLite keeps no offset, so an aware non-UTC time must be converted before it is written,
    and a naive value read back is UTC by construction.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


TS = UTCDateTime()

counters = sa.Table(
    "counters",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("severity", sa.String(2), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("summary", sa.Text, nullable=False, default=""),
    sa.Column("declared_by", JSON, nullable=False),
    sa.Column("declared_at", TS, nullable=False),
    sa.Column("acknowledged_at", TS),
    sa.Column("identified_at", TS),
    sa.Column("mitigated_at", TS),
    sa.Column("resolved_at", TS),
    sa.Column("last_update_at", TS),
    sa.Column("roles", JSON, nullable=False),
    sa.Column("participants", JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # Status page (docs/status-page.md): None follows the policy; True/False set by the commander.
    sa.Column("public", sa.Boolean),
    # When the incident first became public: it stays on the status page after a downgrade.
    sa.Column("published_at", TS),
    # Names of the status page components it affects (None: none).
    sa.Column("components", JSON),
    # The commander's public post-mortem summary (domain/public_summary.py); NULL: none.
    sa.Column("public_summary", sa.Text),
    sa.Column("public_summary_at", TS),
    sa.Column("public_summary_by", JSON),
    # The escalation that pages for it, from the alert route that declared it; NULL: the severity's.
    sa.Column("escalation", sa.String(100)),
    sa.Index("ix_incidents_status", "status"),
)

timeline = sa.Table(
    "timeline",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("incident", sa.ForeignKey("incidents.number"), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("actor", JSON, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("data", JSON, nullable=False),
    sa.Index("ix_timeline_incident_id", "incident", "id"),
)

action_items = sa.Table(
    "action_items",
    metadata,
    sa.Column("incident", sa.ForeignKey("incidents.number"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("owner", JSON),
    sa.Column("created_by", JSON, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("done", sa.Boolean, nullable=False, default=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("at", TS, nullable=False),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("actor_id", sa.String(128), nullable=False),
    sa.Column("actor_name", sa.String(200), nullable=False),
    sa.Column("command", sa.String(32), nullable=False),
    sa.Column("incident", sa.Integer),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# One row (id=1) holding the chain's head. Writers lock it (FOR UPDATE on PostgreSQL; SQLite
# serialises writers with BEGIN IMMEDIATE), so concurrent appends can never fork the chain.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# The outbox's open states, as SQL the partial index and the queries that use it share: SQLite
# uses a partial index only for a query whose WHERE repeats the index's condition literally.
OUTBOX_OPEN_SQL = "state IN ('pending', 'in_flight')"

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("incident", sa.Integer),
    sa.Column("destination", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
    sa.Column("ordering_key", sa.String(200), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", TS, nullable=False),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", TS),
    sa.Column("last_error", sa.Text),
    sa.Column("remote_ids", JSON, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("delivered_at", TS),
    # An earlier attempt may have reached the destination (lease expired, timed out after sending).
    sa.Column("maybe_sent", sa.Boolean, nullable=False, server_default=sa.false()),
    # When an operator last re-queued the row (`tocsin deliveries retry`); max age counts from it.
    sa.Column("requeued_at", TS),
    sa.Index("ix_outbox_state_next", "state", "next_attempt_at"),
    sa.Index("ix_outbox_ordering", "ordering_key", "id"),
    # The open rows of each queue (see outbox._heads); partial, so delivered rows kept
    # for the record cost nothing here. Migration 0006 makes it partial on PostgreSQL too; a
    # postgresql_where here would import the PostgreSQL dialect into every SQLite process.
    sa.Index("ix_outbox_open_queue", "ordering_key", "id", sqlite_where=sa.text(OUTBOX_OPEN_SQL)),
)

# Remote objects an incident owns on a platform (channel id, announcement ts, Statuspage id).
# Deliveries read and write them so that later effects address what earlier ones created.
remote_refs = sa.Table(
    "remote_refs",
    metadata,
    sa.Column("incident", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("destination", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    sa.Index("ix_remote_refs_lookup", "destination", "name", "value"),
)

timers = sa.Table(
    "timers",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("incident", sa.Integer),
    sa.Column("due_at", TS, nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", TS),
    sa.Column("fired_at", TS),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("last_error", sa.Text),
    sa.Index("ix_timers_state_due", "state", "due_at"),
)

# Requests and events already handled (Slack event_id, Discord interaction id, modal submits).
seen_requests = sa.Table(
    "seen_requests",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("seen_at", TS, nullable=False),
)

# --- access: API tokens and dashboard users (docs/api.md) -----------------------------------------
# A token is stored as the SHA-256 of its secret (high-entropy, so no salt or slow hash is needed);
# only ``prefix`` (its first characters) is ever shown again. Revoked tokens stay for the record.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("last_used_at", TS),
    sa.Column("revoked_at", TS),
)

# Dashboard users; ``password_hash`` is an argon2id hash.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_login_at", TS),
)

# --- status page (docs/status-page.md) ------------------------------------------------------------
# Components created through the API, and status overrides (e.g. under_maintenance) of the
# policy's components; a policy component without a row is operational.
status_components = sa.Table(
    "status_components",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

# --- on-call overrides (docs/oncall.md) -----------------------------------------------------------
# ``person`` is on call in the schedule layer ``schedule`` from ``starts_at`` to ``ends_at`` instead
# of whoever the rotation says; where overrides overlap, the newest (highest id) wins.
oncall_overrides = sa.Table(
    "oncall_overrides",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("schedule", sa.String(100), nullable=False),
    sa.Column("person", sa.String(200), nullable=False),
    sa.Column("starts_at", TS, nullable=False),
    sa.Column("ends_at", TS, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Index("ix_oncall_overrides_schedule_ends_at", "schedule", "ends_at"),
)

# --- people's contact methods: acknowledge links (docs/oncall.md) ---------------------------------
ack_link_uses = contact_tables.define(metadata, TS)
person_edits = people_tables.define(metadata, JSON, TS)
# --- status-page subscribers (docs/status-page.md) ------------------------------------------------
status_subscribers = subscriber_tables.status_subscribers(metadata, JSON, TS)
# The alert intake's tables are in ``alert_tables`` on this metadata; ``tocsin.storage`` imports
# that module (importing it from here would be an import cycle), so they are always registered.
