"""Uptime monitors: their state, every check, and hourly aggregates of older checks.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "monitor_states",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("since", _TS),
        sa.Column("last_checked", _TS),
        sa.Column("latency_ms", sa.Integer()),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_monitor_states")),
    )
    op.create_table(
        "monitor_results",
        sa.Column("id", _ID, nullable=False),
        sa.Column("monitor", sa.String(length=200), nullable=False),
        sa.Column("checked_at", _TS, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_results")),
    )
    op.create_index(
        "ix_monitor_results_monitor_checked_at", "monitor_results", ["monitor", "checked_at"]
    )
    op.create_index("ix_monitor_results_checked_at", "monitor_results", ["checked_at"])
    op.create_table(
        "monitor_hourly",
        sa.Column("id", _ID, nullable=False),
        sa.Column("monitor", sa.String(length=200), nullable=False),
        sa.Column("hour", _TS, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("min_ms", sa.Integer()),
        sa.Column("avg_ms", sa.Float()),
        sa.Column("max_ms", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_hourly")),
        sa.UniqueConstraint("monitor", "hour", name="uq_monitor_hourly_monitor_hour"),
    )


def downgrade() -> None:
    op.drop_table("monitor_hourly")
    op.drop_index("ix_monitor_results_checked_at", table_name="monitor_results")
    op.drop_index("ix_monitor_results_monitor_checked_at", table_name="monitor_results")
    op.drop_table("monitor_results")
    op.drop_table("monitor_states")
