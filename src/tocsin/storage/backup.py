"""``tocsin backup FILE`` and ``tocsin restore FILE``: a portable export of every table.

A backup is read in one consistent snapshot (a read transaction on SQLite, REPEATABLE READ on
PostgreSQL) and holds every table of :data:`tocsin.storage.tables.metadata`, so tables added
later are covered without changes here. The file format is described in
:mod:`tocsin.storage.backup_codec`; it moves an installation between SQLite and PostgreSQL.

A restore goes into an *empty* database: one never migrated, or one holding only what the
migrations seed. It first brings that database to the backup's schema revision, then, in one
transaction, loads every row, checks the file's row counts, verifies the audit chain and (on
PostgreSQL) moves the id sequences past the restored ids; any failure rolls everything back.
Finally it migrates the database up to this tocsin's newest revision. A backup from a newer
tocsin (a schema revision this one does not know) is refused before anything is touched.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection

from tocsin import __version__
from tocsin.storage import backup_codec as codec
from tocsin.storage import migrate
from tocsin.storage.backup_codec import BackupError
from tocsin.storage.backup_load import load_checked
from tocsin.storage.db import Database

__all__ = ["BackupError", "Summary", "backup", "read_header", "restore"]


@dataclass(frozen=True)
class Summary:
    """What was written or restored: the schema revision and the row count of every table."""

    path: Path
    revision: str
    rows: dict[str, int]
    audit_entries: int = 0
    created_at: str = ""

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _revision(sync_conn: sa.Connection) -> str | None:
    return MigrationContext.configure(sync_conn).get_current_revision()


@contextlib.asynccontextmanager
async def _snapshot(db: Database) -> AsyncIterator[AsyncConnection]:
    """A read-only connection whose reads all see one consistent state of the database."""
    conn = await db.connect(read_only=True)
    try:
        if not db.is_sqlite:
            await conn.execution_options(isolation_level="REPEATABLE READ")
        await conn.begin()
        yield conn
    finally:
        await conn.close()


async def _rows(conn: AsyncConnection, table: codec.TableLayout) -> AsyncIterator[list[Any]]:
    """Every row of ``table`` as encoded JSON values, in primary-key order."""
    encoders = [codec.encoder(t) for t in table.types]
    clause = table.clause()
    query = sa.select(*clause.c).order_by(*(clause.c[name] for name in table.order_by))
    result = await conn.stream(query)
    async for partition in result.partitions(codec.BATCH):
        for row in partition:
            yield [encode(value) for encode, value in zip(encoders, row, strict=True)]


async def backup(db: Database, path: Path | str) -> Summary:
    """Write every table of ``db`` to ``path`` (gzip when it ends in ``.gz``)."""
    path = Path(path)
    async with _snapshot(db) as conn:
        revision = await conn.run_sync(_revision)
        if revision is None:
            raise BackupError(
                "the database has no tocsin schema; check TOCSIN_DATABASE_URL "
                "(or run `tocsin db upgrade` first)"
            )
        if revision not in _known_revisions():
            raise BackupError(_newer_database(revision))
        layout = await conn.run_sync(codec.layout)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        counts: dict[str, int] = {}
        with codec.open_for_writing(path) as out:
            out.write(
                {
                    "format": codec.FORMAT,
                    "format_version": codec.FORMAT_VERSION,
                    "schema_revision": revision,
                    "tocsin_version": __version__,
                    "created_at": created,
                    "source_dialect": db.dialect,
                }
            )
            for table in layout.values():
                out.write({"table": table.name, "columns": list(table.columns)})
                counts[table.name] = 0
                async for row in _rows(conn, table):
                    out.write(row)
                    counts[table.name] += 1
            out.write({"end": True, "rows": counts})
    return Summary(path, revision, counts, created_at=created)


# --- restore --------------------------------------------------------------------------------------
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrate.alembic_config())


def _known_revisions() -> set[str]:
    return {script.revision for script in _script().walk_revisions()}


def _newer_database(revision: str) -> str:
    return (
        f"the database is at schema revision {revision}, which tocsin {__version__} does not "
        f"know (it knows up to {migrate.head_revision()}): a newer tocsin migrated it; use that "
        "version"
    )


def read_header(path: Path) -> dict[str, Any]:
    """The first line of a backup, checked to be one this tocsin can restore."""
    try:
        with codec.open_for_reading(path) as lines:
            _number, header = next(lines, (0, None))
    except FileNotFoundError:
        raise BackupError(f"no such file: {path}") from None
    except codec.FileFormatError as exc:
        raise BackupError(str(exc)) from None
    if not isinstance(header, dict) or header.get("format") != codec.FORMAT:
        raise BackupError(f"{path} is not a tocsin backup (its first line has no format marker)")
    version = header.get("format_version")
    if version != codec.FORMAT_VERSION:
        raise BackupError(
            f"{path} uses backup format {version!r}, but tocsin {__version__} reads format "
            f"{codec.FORMAT_VERSION}; restore it with the tocsin version that wrote it "
            f"({header.get('tocsin_version', 'unknown')}) or newer"
        )
    revision = header.get("schema_revision")
    if revision not in _known_revisions():
        raise BackupError(
            f"{path} was made by a newer tocsin ({header.get('tocsin_version', 'unknown')}, "
            f"schema revision {revision!r}); tocsin {__version__} knows schema revisions up to "
            f"{migrate.head_revision()}: upgrade tocsin, then restore"
        )
    return header


async def _encoded_rows(conn: AsyncConnection, table: codec.TableLayout) -> list[list[Any]]:
    return [row async for row in _rows(conn, table)]


async def _fresh_rows(revision: str) -> dict[str, list[list[Any]]]:
    """What the migrations alone leave in each table at ``revision`` (their seed rows)."""
    with tempfile.TemporaryDirectory(prefix="tocsin-fresh-") as folder:
        fresh = Database(f"sqlite:///{Path(folder) / 'fresh.db'}", synchronous="OFF")
        try:
            await migrate.upgrade(fresh, revision)
            async with _snapshot(fresh) as conn:
                layout = await conn.run_sync(codec.layout)
                return {name: await _encoded_rows(conn, t) for name, t in layout.items()}
        finally:
            await fresh.dispose()


async def _holds_data(db: Database, revision: str) -> bool:
    """True unless every table is empty or holds exactly what the migrations seed."""
    fresh: dict[str, list[list[Any]]] | None = None
    async with _snapshot(db) as conn:
        layout = await conn.run_sync(codec.layout)
        for table in layout.values():
            count = (
                await conn.execute(sa.select(sa.func.count()).select_from(table.clause()))
            ).scalar_one()
            if count == 0:
                continue
            if fresh is None:
                fresh = await _fresh_rows(revision)
            seeded = fresh.get(table.name, [])
            if count != len(seeded) or await _encoded_rows(conn, table) != seeded:
                return True
    return False


async def _migrate_to(db: Database, current: str, target: str) -> None:
    older = {script.revision for script in _script().iterate_revisions(current, "base")}
    if target in older:
        await migrate.downgrade(db, target)
    else:
        await migrate.upgrade(db, target)


async def _prepare(db: Database, revision: str, force: bool) -> None:
    """Bring an empty database to ``revision``; refuse one that holds data (unless ``force``)."""
    current = await migrate.current_revision(db)
    if current is None:
        async with db.engine.connect() as conn:
            layout = await conn.run_sync(codec.layout)
        if layout:
            raise BackupError(
                f"the database has tocsin tables ({', '.join(layout)}) but no schema revision; "
                "restore into an empty database"
            )
        await migrate.upgrade(db, revision)
        return
    if current not in _known_revisions():
        raise BackupError(_newer_database(current))
    holds_data = await _holds_data(db, current)
    if current != revision:
        if holds_data:
            raise BackupError(
                f"the database holds data at schema revision {current} but the backup is at "
                f"revision {revision}; restore into an empty database"
            )
        await _migrate_to(db, current, revision)
    elif holds_data and not force:
        raise BackupError(
            "the database already holds data; restore into an empty database, or pass --force "
            "to replace everything in it with the backup"
        )


async def restore(db: Database, path: Path | str, *, force: bool = False) -> Summary:
    """Load the backup at ``path`` into ``db`` (see the module docstring for the rules)."""
    path = Path(path)
    header = read_header(path)
    revision = str(header["schema_revision"])
    await _prepare(db, revision, force)
    counts, entries = await load_checked(db, path)
    if revision != migrate.head_revision():
        await migrate.upgrade(db)
    return Summary(path, revision, counts, entries, str(header.get("created_at", "")))
