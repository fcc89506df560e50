"""``tocsin maintenance create|list|edit|cancel``: scheduled maintenance of the status page's
components, from the command line. Works on the database directly, like every CLI command; the
running workers' timers start and complete the window (docs/status-page.md)."""

from __future__ import annotations

import json

import click

from tocsin.adapters.cli.common import local_actor, run_with_context
from tocsin.adapters.cli.errors import ReportingGroup
from tocsin.domain.maintenance import Maintenance
from tocsin.services import maintenance as service
from tocsin.services.context import Context

_TIME_HELP = 'ISO 8601 (UTC unless it has an offset), e.g. "2026-03-02T09:00Z", or "+2h".'


@click.group("maintenance", cls=ReportingGroup)
def maintenance() -> None:
    """Scheduled maintenance windows shown on the status page."""


def _line(m: Maintenance) -> str:
    affects = f"  [{', '.join(m.components)}]" if m.components else ""
    window = f"{m.starts_at.isoformat()} to {m.ends_at.isoformat()}"
    return f"#{m.id}  {m.status}  {window}  {m.title}{affects}"


def _echo(m: Maintenance, as_json: bool) -> None:
    click.echo(json.dumps(service.maintenance_view(m), indent=2) if as_json else _line(m))


@maintenance.command("create")
@click.argument("title")
@click.option("--start", required=True, help=_TIME_HELP)
@click.option("--end", required=True, help=_TIME_HELP)
@click.option("--component", "components", multiple=True, help="An affected component (repeat).")
@click.option("--description", default="", help="What is done and what users will notice.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def create(
    title: str, start: str, end: str, components: tuple[str, ...], description: str, as_json: bool
) -> None:
    """Schedule maintenance TITLE from --start to --end."""

    async def work(ctx: Context) -> Maintenance:
        return await service.create(ctx, local_actor(), title, start, end, components, description)

    _echo(run_with_context(work), as_json)


@maintenance.command("list")
@click.option("--all", "everything", is_flag=True, help="Also those over in the last 90 days.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def list_(everything: bool, as_json: bool) -> None:
    """Maintenances scheduled or in progress (with --all, recent ones too)."""

    async def work(ctx: Context) -> list[Maintenance]:
        if everything:
            return await service.recent(ctx)
        return await service.upcoming_and_current(ctx)

    found = run_with_context(work)
    if as_json:
        click.echo(json.dumps([service.maintenance_view(m) for m in found], indent=2))
    elif not found:
        click.echo("no maintenance scheduled")
    for m in [] if as_json else found:
        click.echo(_line(m))


@maintenance.command("edit")
@click.argument("maintenance_id", type=int)
@click.option("--title", default=None)
@click.option("--start", default=None, help=_TIME_HELP)
@click.option("--end", default=None, help=_TIME_HELP)
@click.option("--component", "components", multiple=True, help="Replaces the components.")
@click.option("--description", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def edit(
    maintenance_id: int,
    title: str | None,
    start: str | None,
    end: str | None,
    components: tuple[str, ...],
    description: str | None,
    as_json: bool,
) -> None:
    """Change maintenance MAINTENANCE_ID (only what is given changes)."""
    change = service.MaintenanceChange(title, start, end, components or None, description)

    async def work(ctx: Context) -> Maintenance:
        return await service.edit(ctx, local_actor(), maintenance_id, change)

    _echo(run_with_context(work), as_json)


@maintenance.command("cancel")
@click.argument("maintenance_id", type=int)
def cancel(maintenance_id: int) -> None:
    """Call off maintenance MAINTENANCE_ID (see `tocsin maintenance list`)."""

    async def work(ctx: Context) -> Maintenance:
        return await service.cancel(ctx, local_actor(), maintenance_id)

    gone = run_with_context(work)
    click.echo(f"maintenance #{gone.id} cancelled ({gone.title})")


__all__ = ["maintenance"]
