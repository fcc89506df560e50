"""Indexes for two hot paths: the heads of open outbox queues, and channel → incident lookups.

- ``ix_outbox_open_queue``: a partial index over open (pending or in-flight) rows only, by
  ordering key and id. Finding the head of every queue reads just the open rows, however many
  delivered rows the table has kept, instead of probing each pending row for an earlier one.
- ``ix_remote_refs_lookup``: every chat command typed in an incident channel finds its incident
  by ``(destination, name, value)``; without it that was a scan of ``remote_refs``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_OPEN = sa.text("state IN ('pending', 'in_flight')")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_open_queue",
        "outbox",
        ["ordering_key", "id"],
        unique=False,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.create_index(
        "ix_remote_refs_lookup", "remote_refs", ["destination", "name", "value"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_remote_refs_lookup", table_name="remote_refs")
    op.drop_index("ix_outbox_open_queue", table_name="outbox")
