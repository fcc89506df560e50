"""Schema migrations (Alembic) behind ``tocsin db upgrade|downgrade|current``.

Alembic is given a connection opened by :class:`~tocsin.storage.db.Database`, so migrations run
with the same pragmas and transaction rules as the application, in one transaction.

``tocsin serve`` only needs to know whether the schema is current (``/ready``): that is read
without importing Alembic (with Mako and Pygments, ~10 MB of memory for the life of the process),
from the ``revision = "..."`` lines of the migration files and the ``alembic_version`` table. A
test keeps that answer equal to Alembic's own.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from tocsin.storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r'^revision = "([^"]+)"$', re.M)
_DOWN_REVISION = re.compile(r'^down_revision = (?:"([^"]+)"|None)$', re.M)


def alembic_config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """The newest revision the package ships: the one no other revision follows."""
    revisions, followed = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text), _DOWN_REVISION.search(text)
        if revision is None or down is None:  # pragma: no cover - every migration has both
            raise RuntimeError(f"{path.name}: no revision / down_revision line")
        revisions.add(revision.group(1))
        if down.group(1):
            followed.add(down.group(1))
    heads = revisions - followed
    if len(heads) != 1:  # pragma: no cover - the package ships one line of migrations
        raise RuntimeError(f"expected one migration head, found {sorted(heads)}")
    return heads.pop()


async def upgrade(db: Database, revision: str = "head") -> None:
    from alembic import command

    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), revision))


async def downgrade(db: Database, revision: str = "-1") -> None:
    from alembic import command

    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), revision))


async def current_revision(db: Database) -> str | None:
    """The revision recorded in ``alembic_version``; None for a database never migrated."""
    async with db.engine.connect() as conn:
        exists = await conn.run_sync(lambda c: sa.inspect(c).has_table("alembic_version"))
        if not exists:
            return None
        versions = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).all()
    return str(versions[0][0]) if versions else None


async def is_at_head(db: Database) -> bool:
    return await current_revision(db) == head_revision()
