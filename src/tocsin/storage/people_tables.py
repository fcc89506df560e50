"""The table of people's stored edits (docs/oncall.md, "Editing people"). It is defined by
:mod:`tocsin.storage.tables` on its ``MetaData`` (it calls :func:`define`), so this module imports
nothing of the storage package."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def define(metadata: sa.MetaData, json: Any, timestamp: Any) -> sa.Table:
    """``person_edits``: one row per ``[[person]]`` (their policy-file ``id``) whose contacts or
    rules were changed through the CLI or the API; ``edit`` is the
    :class:`~tocsin.domain.person_edits.PersonEdit` as a document (contact URLs in full: they
    never leave the database unmasked)."""
    return sa.Table(
        "person_edits",
        metadata,
        sa.Column("person", sa.String(200), primary_key=True),
        sa.Column("edit", json, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", timestamp, nullable=False),
    )
