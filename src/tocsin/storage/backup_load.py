"""Loading a backup file into a database: one transaction, checked before it commits.

Every table is emptied (children first), the file's rows are inserted in batches, the row
counts are checked against the file's ``end`` line, the audit chain is verified on the loaded
rows by :func:`tocsin.storage.audit_chain.check_chain` (inside the same transaction, so a
broken chain rolls everything back), and on PostgreSQL the id sequences are moved past the
restored ids. Used by :func:`tocsin.storage.backup.restore`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin.storage import backup_codec as codec
from tocsin.storage.audit_chain import check_chain
from tocsin.storage.backup_codec import BATCH, BackupError, TableLayout
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork


class _InTransaction(UnitOfWork):
    """A unit of work on an already open transaction: lets ``check_chain`` see unsaved rows."""

    def __init__(self, db: Database, conn: AsyncConnection) -> None:
        super().__init__(db, read_only=True)
        self._open = conn

    @property
    def connection(self) -> AsyncConnection:
        return self._open

    async def __aenter__(self) -> _InTransaction:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class _Loader:
    """Inserts the rows of a backup file, table by table, in batches."""

    def __init__(self, conn: AsyncConnection, layout: dict[str, TableLayout], path: Path) -> None:
        self.conn, self.layout, self.path = conn, layout, path
        self.counts: dict[str, int] = {}
        self._insert: sa.Insert | None = None
        self._table = ""
        self._columns: tuple[str, ...] = ()
        self._decoders: list[Callable[[Any], Any]] = []
        self._batch: list[dict[str, Any]] = []

    def start(self, number: int, section: dict[str, Any]) -> None:
        name, columns = section.get("table"), tuple(section.get("columns") or ())
        table = self.layout.get(str(name))
        if table is None or name in self.counts:
            what = "a table this database does not have" if table is None else "a repeated table"
            raise BackupError(f"{self.path}: line {number} starts {what} ({name!r})")
        unknown = sorted(set(columns) - set(table.columns))
        if unknown or not columns:
            raise BackupError(
                f"{self.path}: line {number}: table {name!r} has columns the database lacks "
                f"({', '.join(unknown) or 'none listed'})"
            )
        kinds = dict(zip(table.columns, table.types, strict=True))
        self._insert = sa.insert(table.clause(columns))
        self._table, self._columns = table.name, columns
        self._decoders = [codec.decoder(kinds[c]) for c in columns]
        self.counts[table.name] = 0

    async def add(self, number: int, row: list[Any]) -> None:
        if self._insert is None or len(row) != len(self._columns):
            raise BackupError(f"{self.path}: line {number} is a row that fits no table header")
        try:
            values = [decode(v) for decode, v in zip(self._decoders, row, strict=True)]
        except (TypeError, ValueError) as exc:
            raise BackupError(f"{self.path}: line {number} has a bad value ({exc})") from None
        self._batch.append(dict(zip(self._columns, values, strict=True)))
        if len(self._batch) >= BATCH:
            await self.flush()

    async def flush(self) -> None:
        if self._batch and self._insert is not None:
            await self.conn.execute(self._insert, self._batch)
            self.counts[self._table] += len(self._batch)
        self._batch = []


async def _load(
    conn: AsyncConnection, layout: dict[str, TableLayout], path: Path
) -> dict[str, int]:
    """Insert every row of ``path``; check the counts its ``end`` line promises."""
    loader = _Loader(conn, layout, path)
    end: dict[str, Any] | None = None
    try:
        with codec.open_for_reading(path) as lines:
            next(lines)  # the header, already checked
            for number, item in lines:
                if isinstance(item, list):
                    await loader.add(number, item)
                    continue
                await loader.flush()
                if isinstance(item, dict) and item.get("end") is True:
                    end = item
                    break
                if not isinstance(item, dict) or "table" not in item:
                    raise BackupError(f"{path}: line {number} is neither a row nor a table header")
                loader.start(number, item)
    except codec.FileFormatError as exc:
        raise BackupError(str(exc)) from None
    if end is None:
        raise BackupError(f"{path} ends before its end marker (truncated?); nothing was restored")
    if end.get("rows") != loader.counts:
        raise BackupError(f"{path}: the row counts do not match its end marker; nothing restored")
    return loader.counts


async def _fix_sequences(conn: AsyncConnection, layout: dict[str, TableLayout]) -> None:
    """PostgreSQL: move each serial/identity sequence past the largest restored id."""
    quote = conn.dialect.identifier_preparer.quote
    for table in layout.values():
        for name, type_ in zip(table.columns, table.types, strict=True):
            if not isinstance(type_, sa.Integer):
                continue
            found = await conn.execute(
                sa.select(sa.func.pg_get_serial_sequence(quote(table.name), name))
            )
            sequence = found.scalar()
            if sequence is None:
                continue
            column = table.clause().c[name]
            largest = (await conn.execute(sa.select(sa.func.max(column)))).scalar()
            await conn.execute(
                sa.select(
                    sa.func.setval(sequence, 1 if largest is None else largest, largest is not None)
                )
            )


async def load_checked(db: Database, path: Path) -> tuple[dict[str, int], int]:
    """Replace every table's rows with the file's in one transaction; verify; commit."""
    conn = await db.connect()
    try:
        async with conn.begin():
            layout = await conn.run_sync(codec.layout)
            for table in reversed(layout.values()):
                await conn.execute(sa.delete(table.clause()))
            counts = await _load(conn, layout, path)
            problem, entries = await check_chain(_InTransaction(db, conn))
            if problem is not None:
                raise BackupError(
                    f"{path}: the audit chain is broken at {problem}; nothing was restored"
                )
            if db.dialect == "postgresql":
                await _fix_sequences(conn, layout)
    finally:
        await conn.close()
    return counts, entries
