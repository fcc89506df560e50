"""Migrated databases for tests, made by copying one migrated template instead of running every
migration for every test (about 0.25 s a test on either database).

The first test that asks migrates a template: an SQLite file in a folder of its own (copied with
SQLite's backup API) and, on PostgreSQL, a database ``tocsin_tpl_<hex>`` that each test's database
is created from (``CREATE DATABASE … TEMPLATE``); :func:`drop_templates` removes them at the end of
the session. The schema is the one ``tocsin db upgrade`` makes, since the template is made by it;
tests of the migrations themselves still run them (tests/integration/test_migrate_revisions.py).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import uuid
from pathlib import Path

import asyncpg

from tocsin.storage import migrate
from tocsin.storage.db import Database

_sqlite: list[Path] = []
_postgres: list[tuple[str, str]] = []  # (admin url, template name)


async def sqlite_copy(path: Path) -> None:
    """Put a migrated SQLite database at ``path`` (which must not exist yet)."""
    if not _sqlite:
        folder = Path(tempfile.mkdtemp(prefix="tocsin-template-"))
        template = Database(f"sqlite:///{folder / 'template.db'}")
        await migrate.upgrade(template)
        await template.dispose()
        _sqlite.append(folder / "template.db")
    source = sqlite3.connect(_sqlite[0])
    target = sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


async def postgres_from_template(admin: str, name: str) -> None:
    """Create the database ``name`` as a copy of the migrated template on ``admin``'s server."""
    if not _postgres:
        template = f"tocsin_tpl_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'CREATE DATABASE "{template}"')
        finally:
            await conn.close()
        database = Database(f"{admin.rsplit('/', 1)[0]}/{template}")
        await migrate.upgrade(database)
        await database.dispose()
        _postgres.append((admin, template))
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_postgres[0][1]}"')
    finally:
        await conn.close()


async def drop_templates() -> None:
    """Remove the templates this session made."""
    for admin, template in _postgres:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        finally:
            await conn.close()
    _postgres.clear()
    for path in _sqlite:
        shutil.rmtree(path.parent, ignore_errors=True)
    _sqlite.clear()
