"""What ``/ready`` asks about the schema is answered without Alembic, and the same as Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory

from tocsin.storage import migrate
from tocsin.storage.db import Database


def test_head_revision_is_alembics_head() -> None:
    """The head read from the migration files' revision lines is the one Alembic computes."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert migrate.head_revision() == script.get_current_head()


async def test_current_revision_of_a_new_and_a_migrated_database(tmp_path: Path) -> None:
    """A database never migrated has no revision (not ready); after upgrade it is at head."""
    db = Database(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert await migrate.current_revision(db) is None
        assert not await migrate.is_at_head(db)
        await migrate.upgrade(db)
        assert await migrate.current_revision(db) == migrate.head_revision()
        assert await migrate.is_at_head(db)
        await migrate.downgrade(db, "-1")
        assert await migrate.current_revision(db) != migrate.head_revision()
    finally:
        await db.dispose()


def test_serving_does_not_import_alembic_or_redis() -> None:
    """Importing what ``tocsin serve`` runs leaves Alembic, Redis, the Slack SDK and the
    PostgreSQL dialect and Jinja2 unloaded (imported on use: ``tocsin db upgrade``,
    TOCSIN_REDIS_URL, the first Slack call, a PostgreSQL URL, the first HTML page)."""
    import subprocess
    import sys

    code = (
        "import sys, tocsin.adapters.web.server, tocsin.app; "
        "print(sorted(set(sys.modules) & "
        "{'alembic', 'redis', 'slack_sdk', 'aiohttp', 'sqlalchemy.dialects.postgresql', 'jinja2'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
