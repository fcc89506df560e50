"""The status page's subscribers (docs/status-page.md): :mod:`tocsin.storage.tables` defines the
table on its ``MetaData`` with :func:`status_subscribers` (this module imports nothing of tocsin,
so there is no import cycle).

Confirmation tokens are stored as their SHA-256 only, with an expiry. The unsubscribe token is
kept as it is, because every message carries it; it can do nothing but unsubscribe. A webhook's
signing secret is kept to sign each delivery and shown only once, when it is made.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def status_subscribers(metadata: sa.MetaData, json: Any, ts: Any) -> sa.Table:
    """The table, on ``metadata`` with tocsin's JSON and timestamp types."""
    return sa.Table(
        "status_subscribers",
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("address", sa.String(2000), nullable=False),
        sa.Column("components", json, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("confirm_hash", sa.String(64)),
        sa.Column("confirm_expires_at", ts),
        sa.Column("unsubscribe_token", sa.String(64), nullable=False, unique=True),
        sa.Column("secret", sa.String(100)),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("confirmed_at", ts),
        sa.Column("updated_at", ts, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.UniqueConstraint("kind", "address", name="uq_status_subscribers_kind_address"),
        sa.Index("ix_status_subscribers_confirm_hash", "confirm_hash"),
        sa.Index("ix_status_subscribers_state", "state"),
    )
