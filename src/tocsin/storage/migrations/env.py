"""Alembic environment. tocsin always hands Alembic an open connection (see tocsin.storage.migrate),
so one async code path serves the CLI, the server and the tests on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import context

from tocsin.storage import maintenance_tables  # noqa: F401 - its table, on the same metadata
from tocsin.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable by calling alembic's own CLI
    raise SystemExit("Run migrations with `tocsin db upgrade`, not the alembic command.")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
