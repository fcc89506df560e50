"""Status-page subscribers: email addresses (double opt-in) and webhook URLs, each optionally
limited to some components (docs/status-page.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "status_subscribers",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=2000), nullable=False),
        sa.Column("components", _JSON, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("confirm_hash", sa.String(length=64), nullable=True),
        sa.Column("confirm_expires_at", _TS, nullable=True),
        sa.Column("unsubscribe_token", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("confirmed_at", _TS, nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("last_error", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_subscribers")),
        sa.UniqueConstraint("kind", "address", name="uq_status_subscribers_kind_address"),
        sa.UniqueConstraint(
            "unsubscribe_token", name=op.f("uq_status_subscribers_unsubscribe_token")
        ),
    )
    op.create_index("ix_status_subscribers_confirm_hash", "status_subscribers", ["confirm_hash"])
    op.create_index("ix_status_subscribers_state", "status_subscribers", ["state"])


def downgrade() -> None:
    op.drop_index("ix_status_subscribers_state", table_name="status_subscribers")
    op.drop_index("ix_status_subscribers_confirm_hash", table_name="status_subscribers")
    op.drop_table("status_subscribers")
