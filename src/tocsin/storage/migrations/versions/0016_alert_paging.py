"""Who acknowledged an alert group (``alert_groups.acknowledged_by``), so a second Acknowledge
says who has it; and the escalation an incident declared from an alert route pages through
(``incidents.escalation``; NULL: the severity's).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_groups") as batch:
        batch.add_column(sa.Column("acknowledged_by", sa.String(length=200), nullable=True))
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("escalation", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("escalation")
    with op.batch_alter_table("alert_groups") as batch:
        batch.drop_column("acknowledged_by")
