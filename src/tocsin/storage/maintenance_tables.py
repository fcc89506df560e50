"""The scheduled maintenance table (docs/status-page.md), on the same ``MetaData`` as
:mod:`tocsin.storage.tables`, which imports this module so that migrations, backups and
``create_all`` see it."""

from __future__ import annotations

import sqlalchemy as sa

from tocsin.storage.tables import JSON, TS, metadata

# One window of planned work on status page components; ``components`` is a JSON list of names.
# Status: scheduled, in_progress, completed, cancelled (tocsin.domain.maintenance).
maintenances = sa.Table(
    "maintenances",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("components", JSON, nullable=False),
    sa.Column("starts_at", TS, nullable=False),
    sa.Column("ends_at", TS, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("started_at", TS, nullable=True),
    sa.Column("finished_at", TS, nullable=True),
    sa.Index("ix_maintenances_ends_at", "ends_at"),
)
