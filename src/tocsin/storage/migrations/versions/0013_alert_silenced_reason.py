"""Why an alert group is silenced (``alert_groups.silenced_reason``): a silence, or the
maintenance window of one of its components.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 20:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_groups") as batch:
        batch.add_column(sa.Column("silenced_reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_groups") as batch:
        batch.drop_column("silenced_reason")
