"""The commander's public post-mortem summary on the incident (``incidents.public_summary``,
``public_summary_at``, ``public_summary_by``): shown on ``/status/history`` and in the Atom
feed once the incident is resolved (docs/status-page.md).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("public_summary", sa.Text(), nullable=True))
        batch.add_column(sa.Column("public_summary_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("public_summary_by", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("public_summary_by")
        batch.drop_column("public_summary_at")
        batch.drop_column("public_summary")
