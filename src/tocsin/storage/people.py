"""People's stored edits (``uow.people``): one document per person, replaced whole."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.domain.person_edits import PersonEdit
from tocsin.storage import tables as t


class PeopleStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def edits(self) -> dict[str, PersonEdit]:
        """Every stored edit, by person id."""
        table = t.person_edits
        rows = await self.conn.execute(sa.select(table.c.person, table.c.edit))
        return {row.person: PersonEdit.from_dict(row.person, row.edit) for row in rows}

    async def save(self, edit: PersonEdit, by: str, now: datetime) -> None:
        """Store ``edit`` (replacing the person's earlier one)."""
        table = t.person_edits
        await self.conn.execute(sa.delete(table).where(table.c.person == edit.person))
        await self.conn.execute(
            sa.insert(table).values(
                person=edit.person, edit=edit.to_dict(), updated_by=by, updated_at=now
            )
        )
