"""People's stored edits (``person_edits``): contacts and rules changed through the CLI or the
API, over the policy file's ``[[person]]`` entries.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_edits",
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("edit", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person", name=op.f("pk_person_edits")),
    )


def downgrade() -> None:
    op.drop_table("person_edits")
