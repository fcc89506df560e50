"""``tocsin backup FILE`` and ``tocsin restore FILE [--force]``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from tocsin.adapters.cli.common import fail, settings
from tocsin.storage import backup as backups
from tocsin.storage.db import Database

T = TypeVar("T")


def _run(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` on the configured database; every failure becomes one line on stderr."""
    cfg = settings()

    async def main() -> T:
        database = Database(cfg.database_url)
        try:
            return await work(database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(main())
    except backups.BackupError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else f"{exc}")
    except SQLAlchemyError as exc:
        fail(f"database error: {str(getattr(exc, 'orig', exc)).splitlines()[0]}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Write every table to FILE (JSON lines; gzip when FILE ends in .gz)."""
    summary = _run(lambda db: backups.backup(db, file))
    click.echo(
        f"wrote {file}: {summary.total} rows in {len(summary.rows)} tables, "
        f"schema revision {summary.revision}"
    )


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace everything in a database that already holds data (destructive).",
)
def restore(file: Path, force: bool) -> None:
    """Load a backup FILE into an empty database, then verify the audit chain."""
    summary = _run(lambda db: backups.restore(db, file, force=force))
    click.echo(
        f"restored {file} (made {summary.created_at or 'at an unknown time'}): "
        f"{summary.total} rows in {len(summary.rows)} tables; "
        f"audit chain intact: {summary.audit_entries} entries"
    )


__all__ = ["backup", "restore"]
