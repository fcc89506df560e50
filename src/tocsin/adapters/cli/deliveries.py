"""``tocsin deliveries list|retry`` and ``tocsin worker``: look at and run the outbox."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import click

from tocsin.adapters.cli.common import fail, run_with_context, settings
from tocsin.adapters.cli.errors import ReportingGroup
from tocsin.services.context import Context
from tocsin.storage.outbox_store import DEAD, IN_FLIGHT, OPEN, PENDING, STATES, OutboxRow
from tocsin.storage.outbox_store import OutboxStore as Store

_STATE_CHOICES = (*STATES, "open", "all")
_COLUMNS = ("ID", "STATE", "DESTINATION", "KIND", "INCIDENT", "TRIES", "WHEN", "LAST ERROR")


@click.group("deliveries", cls=ReportingGroup)
def deliveries() -> None:
    """The outbox: what tocsin is delivering to Slack, Discord, Statuspage, PagerDuty..."""


def _states(state: str) -> tuple[str, ...]:
    if state == "all":
        return STATES
    if state == "open":
        return (*OPEN, DEAD)
    return (state,)


def _when(row: OutboxRow) -> str:
    at: datetime | None = row.delivered_at if row.state not in (PENDING, IN_FLIGHT) else None
    at = at or (row.next_attempt_at if row.state == PENDING else row.created_at)
    return at.strftime("%Y-%m-%d %H:%M:%S")


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
    type=click.Choice(_STATE_CHOICES),
    default="open",
    show_default=True,
    help="open = pending, in flight and dead.",
)
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_deliveries(state: str, limit: int, as_json: bool) -> None:
    """List deliveries, newest first."""

    async def work(ctx: Context) -> list[OutboxRow]:
        async with ctx.uow(read_only=True) as uow:
            return await Store(uow.connection).rows(_states(state), limit)

    rows = run_with_context(work)
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

    async def work(ctx: Context) -> tuple[int, list[str]]:
        async with ctx.uow() as uow:
            store = Store(uow.connection)
            problems = []
            for row_id in ids:
                row = await store.get(row_id)
                if row is None:
                    problems.append(f"there is no delivery {row_id}")
                elif row.state not in (DEAD, PENDING):
                    problems.append(f"delivery {row_id} is {row.state.replace('_', ' ')}")
            if problems:
                return 0, problems
            count = await store.requeue(list(ids) if ids else None, ctx.clock())
            await uow.commit()
        ctx.committed()
        return count, []

    count, problems = run_with_context(work)
    if problems:
        fail("; ".join(problems) + " (only dead or pending deliveries can be retried)")
    noun = "delivery" if count == 1 else "deliveries"
    click.echo(f"{count} {noun} queued again")


@click.command("worker")
def worker() -> None:
    """Run the delivery workers and timers without the web server (stop with SIGTERM)."""
    from tocsin.delivery.service import worker_main
    from tocsin.observability.logging import configure_logging

    cfg = settings()
    configure_logging(cfg.log_level, cfg.log_format)
    asyncio.run(worker_main(cfg))  # a start-up error is one log line (the entry point)


__all__ = ["deliveries", "worker"]
