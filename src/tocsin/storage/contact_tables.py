"""Tables for people's contact methods (docs/oncall.md, "Acknowledge links"). They are defined
by :mod:`tocsin.storage.tables` on its ``MetaData`` (it calls :func:`define`), so this module
imports nothing of the storage package."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def define(metadata: sa.MetaData, timestamp: Any) -> sa.Table:
    """``ack_link_uses``: each acknowledge link carries a random nonce, and its row records that
    it was spent, so a link acknowledges once. Rows are small and links expire after a day."""
    return sa.Table(
        "ack_link_uses",
        metadata,
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("incident", sa.Integer, nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("used_at", timestamp, nullable=False),
    )
