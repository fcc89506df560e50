"""Alert intake: integrations, the durable inbox of accepted bodies, alert groups and silences.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_integrations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("signing_secret", sa.String(length=128), nullable=True),
        sa.Column("period_seconds", sa.Integer(), nullable=True),
        sa.Column("grace_seconds", sa.Integer(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("last_received_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_integrations")),
        sa.UniqueConstraint("public_id", name=op.f("uq_alert_integrations_public_id")),
        sa.UniqueConstraint("name", name=op.f("uq_alert_integrations_name")),
    )
    op.create_table(
        "alert_inbox",
        sa.Column("id", _ID, nullable=False),
        sa.Column("integration", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("group_hash", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("processed_at", _TS, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_inbox")),
    )
    op.create_index("ix_alert_inbox_state_id", "alert_inbox", ["state", "id"], unique=False)
    op.create_index(
        "ix_alert_inbox_group", "alert_inbox", ["integration", "group_hash", "id"], unique=False
    )
    op.create_table(
        "alert_groups",
        sa.Column("id", _ID, nullable=False),
        sa.Column("integration", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "alerts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("first_seen", _TS, nullable=False),
        sa.Column("last_seen", _TS, nullable=False),
        sa.Column("fired_at", _TS, nullable=True),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.Column("silenced", sa.Boolean(), nullable=False),
        sa.Column("incident", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("auto_resolve", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_groups")),
        sa.UniqueConstraint("integration", "key_hash", name="uq_alert_groups_integration_key"),
    )
    op.create_index("ix_alert_groups_status", "alert_groups", ["status"], unique=False)
    op.create_index("ix_alert_groups_incident", "alert_groups", ["incident"], unique=False)
    op.create_table(
        "alert_silences",
        sa.Column("id", _ID, nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("matchers", sa.Text(), nullable=False),
        sa.Column("starts_at", _TS, nullable=False),
        sa.Column("ends_at", _TS, nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_silences")),
    )
    op.create_index("ix_alert_silences_ends_at", "alert_silences", ["ends_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alert_silences_ends_at", table_name="alert_silences")
    op.drop_table("alert_silences")
    op.drop_index("ix_alert_groups_incident", table_name="alert_groups")
    op.drop_index("ix_alert_groups_status", table_name="alert_groups")
    op.drop_table("alert_groups")
    op.drop_index("ix_alert_inbox_group", table_name="alert_inbox")
    op.drop_index("ix_alert_inbox_state_id", table_name="alert_inbox")
    op.drop_table("alert_inbox")
    op.drop_table("alert_integrations")
