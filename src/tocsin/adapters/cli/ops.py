"""Operator commands: ``db``, ``audit verify``, ``postmortem``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from tocsin.adapters.cli.common import fail, local_actor, run_with_context, settings
from tocsin.adapters.cli.errors import ReportingGroup
from tocsin.domain.commands import parse_incident_ref
from tocsin.services.audit_check import check_audit
from tocsin.services.context import Context
from tocsin.services.postmortem import postmortem as render
from tocsin.storage import migrate
from tocsin.storage.db import Database


@click.group("db", cls=ReportingGroup)
def db() -> None:
    """Schema migrations."""


def _migrate(action: str, revision: str) -> str | None:
    cfg = settings()

    async def main() -> str | None:
        database = Database(cfg.database_url)
        try:
            if action == "upgrade":
                await migrate.upgrade(database, revision)
            elif action == "downgrade":
                await migrate.downgrade(database, revision)
            return await migrate.current_revision(database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(main())
    except Exception as exc:  # noqa: BLE001 - any failure is reported as one line
        fail(f"db {action} failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the schema up (to the newest by default)."""
    click.echo(f"database at revision {_migrate('upgrade', revision)}")


@db.command("downgrade")
@click.argument("revision", default="-1")
def db_downgrade(revision: str) -> None:
    """Migrate the schema down (one step by default; ``base`` empties it)."""
    click.echo(f"database at revision {_migrate('downgrade', revision) or 'base'}")


@db.command("current")
def db_current() -> None:
    """Print the schema revision and whether it is the newest."""
    current = _migrate("current", "")
    head = migrate.head_revision()
    state = "head" if current == head else f"behind head {head}"
    click.echo(f"{current or 'base'} ({state})")


@click.group("audit", cls=ReportingGroup)
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the whole hash chain; exit 1 naming the first broken entry."""
    problem, count = run_with_context(check_audit)
    if problem:
        fail(f"audit chain broken at {problem}")
    click.echo(f"audit chain intact: {count} entries")


@click.command("postmortem")
@click.argument("incident")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
def postmortem(incident: str, output: Path | None) -> None:
    """Write the post-mortem of INCIDENT (e.g. INC-12) as Markdown, to stdout or a file."""
    number = parse_incident_ref(incident)
    if number is None:
        fail(f"{incident!r} is not an incident reference like INC-12")

    async def work(ctx: Context) -> str:
        return (await render(ctx, local_actor(), number, record=False)).document

    document = run_with_context(work)
    if output is None:
        click.echo(document, nl=False)
    else:
        output.write_text(document, encoding="utf-8")
        click.echo(f"wrote {output}")


__all__ = ["audit", "db", "postmortem"]
