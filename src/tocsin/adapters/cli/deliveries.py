"""``tocsin deliveries list|retry`` and ``tocsin worker``: look at and run the outbox."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import click

from tocsin.adapters.cli.common import fail, run_with_context, settings
from tocsin.adapters.cli.errors import ReportingGroup
from tocsin.services import deliveries as service

if TYPE_CHECKING:  # only the type of the rows the service returns
    from tocsin.storage.outbox import OutboxRow

_COLUMNS = ("ID", "STATE", "DESTINATION", "KIND", "INCIDENT", "TRIES", "WHEN", "LAST ERROR")


@click.group("deliveries", cls=ReportingGroup)
def deliveries() -> None:
    """The outbox: what tocsin is delivering to Slack, Discord, Statuspage, PagerDuty..."""


def _when(row: OutboxRow) -> str:
    return service.shown_at(row).strftime("%Y-%m-%d %H:%M:%S")


def _table(rows: list[OutboxRow]) -> str:
    lines = [
        (
            str(r.id),
            r.state,
            r.destination,
            r.kind,
            f"INC-{r.incident}" if r.incident is not None else "-",
            str(r.attempts),
            _when(r),
            " ".join((r.last_error or "").split())[:80],
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in [_COLUMNS, *lines]) for i in range(len(_COLUMNS) - 1)]
    out = []
    for cells in [_COLUMNS, *lines]:
        out.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)) + cells[-1])
    return "\n".join(line.rstrip() for line in out)


@deliveries.command("list")
@click.option(
    "--state",
    type=click.Choice(service.STATE_CHOICES),
    default="open",
    show_default=True,
    help="open = pending, in flight and dead.",
)
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_deliveries(state: str, limit: int, as_json: bool) -> None:
    """List deliveries, newest first."""
    rows = run_with_context(lambda ctx: service.list_deliveries(ctx, state, limit))
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2, sort_keys=True))
    elif not rows:
        click.echo(f"no deliveries ({state})")
    else:
        click.echo(_table(rows))


@deliveries.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-dead", is_flag=True, help="Retry every dead delivery.")
def retry(ids: tuple[int, ...], all_dead: bool) -> None:
    """Send dead deliveries (by ID, or --all-dead) again; a pending ID is tried at once."""
    if bool(ids) == all_dead:
        fail("give delivery IDs or --all-dead (one of them)", 2)

    count, problems = run_with_context(lambda ctx: service.retry_deliveries(ctx, ids))
    if problems:
        fail("; ".join(problems) + " (only dead or pending deliveries can be retried)")
    noun = "delivery" if count == 1 else "deliveries"
    click.echo(f"{count} {noun} queued again")


@click.command("worker")
def worker() -> None:
    """Run the delivery workers and timers without the web server (stop with SIGTERM)."""
    from tocsin.app import worker_main
    from tocsin.observability.logging import configure_logging

    cfg = settings()
    configure_logging(cfg.log_level, cfg.log_format)
    asyncio.run(worker_main(cfg))  # a start-up error is one log line (the entry point)


__all__ = ["deliveries", "worker"]
