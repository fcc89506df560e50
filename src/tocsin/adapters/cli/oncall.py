"""``tocsin oncall who|schedule|override|overrides|remove-override``: on-call schedules from the
command line. Works on the database directly, like every CLI command."""

from __future__ import annotations

import json
from datetime import datetime

import click

from tocsin.adapters.cli.common import local_actor, run_with_context
from tocsin.adapters.cli.errors import ReportingGroup
from tocsin.domain.oncall import Override, Shift, local
from tocsin.services import oncall as service
from tocsin.services.context import Context

_COLUMNS = ("FROM", "TO", "ON CALL", "LAYER", "")


@click.group("oncall", cls=ReportingGroup)
def oncall() -> None:
    """On-call schedules: who is on call, the coming shifts, overrides."""


@oncall.command("who")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def who(as_json: bool) -> None:
    """Who is on call now in every schedule, until when, and who is next."""

    async def work(ctx: Context) -> list[service.ScheduleNow]:
        return await service.who(ctx)

    rows = run_with_context(work)
    if as_json:
        click.echo(json.dumps(service.who_view(rows), indent=2))
    else:
        click.echo(service.who_text(rows))


def _when(at: datetime, timezone: str) -> str:
    return local(at, timezone).strftime("%a %Y-%m-%d %H:%M %Z")


def table(shifts: list[Shift], timezone: str) -> str:
    """The shifts as aligned columns, times in the schedule's time zone."""
    rows = [
        (
            _when(s.start, timezone),
            _when(s.end, timezone),
            s.person,
            s.layer,
            f"override #{s.override}" if s.override is not None else "",
        )
        for s in shifts
    ]
    widths = [max(len(r[i]) for r in [_COLUMNS, *rows]) for i in range(len(_COLUMNS))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [_COLUMNS, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


@oncall.command("schedule")
@click.argument("name")
@click.option("--weeks", type=click.IntRange(1, service.MAX_WEEKS), default=4, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def schedule(name: str, weeks: int, as_json: bool) -> None:
    """The shifts of schedule NAME (every layer, overrides applied) for the coming weeks."""

    async def work(ctx: Context) -> tuple[str, list[Shift]]:
        return service.find_schedule(ctx, name).timezone, await service.upcoming(ctx, name, weeks)

    timezone, shifts = run_with_context(work)
    if as_json:
        views = [service.shift_view(s, timezone) for s in shifts]
        click.echo(json.dumps({"schedule": name, "timezone": timezone, "shifts": views}, indent=2))
        return
    click.echo(f"{name} ({timezone}), the next {weeks} week{'s' if weeks > 1 else ''}")
    click.echo(table(shifts, timezone))


@oncall.command("override")
@click.argument("person")
@click.option("--from", "start", required=True, help='"now", "+2h", or "2026-03-02 09:00".')
@click.option("--to", "end", required=True, help='"+8h", or "2026-03-02 17:00".')
@click.option("--schedule", "name", default=None, help="The schedule (layer); needed if several.")
@click.option("--reason", default="", help="Why, for the record.")
def override(person: str, start: str, end: str, name: str | None, reason: str) -> None:
    """Put PERSON (platform:user_id) on call instead of the rotation, from --from to --to.

    Times without an offset are read in the schedule's time zone."""

    async def work(ctx: Context) -> tuple[Override, str]:
        made = await service.add_override(
            ctx, local_actor(), person, start, end, schedule=name, reason=reason
        )
        return made, service.find_schedule(ctx, made.schedule).timezone

    made, timezone = run_with_context(work)
    click.echo(
        f"override #{made.id}: {made.person} is on call in {made.schedule} from "
        f"{_when(made.start, timezone)} to {_when(made.end, timezone)}"
    )


@oncall.command("overrides")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def overrides(as_json: bool) -> None:
    """Overrides that are running or still to come."""

    async def work(ctx: Context) -> list[Override]:
        return await service.list_overrides(ctx)

    found = run_with_context(work)
    if as_json:
        click.echo(json.dumps([service.override_view(o) for o in found], indent=2))
    elif not found:
        click.echo("no overrides")
    for o in [] if as_json else found:
        line = f"#{o.id}  {o.schedule}  {o.person}  {o.start.isoformat()} to {o.end.isoformat()}"
        click.echo(line + (f"  ({o.reason})" if o.reason else ""))


@oncall.command("remove-override")
@click.argument("override_id", type=int)
def remove_override(override_id: int) -> None:
    """Delete override OVERRIDE_ID (see `tocsin oncall overrides`)."""

    async def work(ctx: Context) -> Override:
        return await service.remove_override(ctx, local_actor(), override_id)

    gone = run_with_context(work)
    click.echo(f"override #{gone.id} removed ({gone.person} in {gone.schedule})")


__all__ = ["oncall"]
