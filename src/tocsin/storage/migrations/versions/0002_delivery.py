"""Delivery: outbox rows that may have reached the destination, operator re-queues, timer retries,
and a PostgreSQL trigger that wakes the workers of every process when work is queued.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# NOTIFY on INSERT only: the workers' own UPDATEs (claims, completions) must not wake everyone.
_WAKE_FUNCTION = """
CREATE OR REPLACE FUNCTION tocsin_wake() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('tocsin_wake', TG_TABLE_NAME);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
_TRIGGERS = ("outbox", "timers")


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("maybe_sent", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("requeued_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_WAKE_FUNCTION)
        for table in _TRIGGERS:
            op.execute(
                f"CREATE TRIGGER {table}_wake AFTER INSERT ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION tocsin_wake()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_wake ON {table}")
        op.execute("DROP FUNCTION IF EXISTS tocsin_wake()")
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.drop_column("last_error")
        batch_op.drop_column("attempts")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("requeued_at")
        batch_op.drop_column("maybe_sent")
