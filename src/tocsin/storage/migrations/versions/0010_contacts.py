"""Acknowledge links: the nonces of spent links (``ack_link_uses``), so each acknowledges once.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ack_link_uses",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("incident", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_ack_link_uses")),
    )


def downgrade() -> None:
    op.drop_table("ack_link_uses")
