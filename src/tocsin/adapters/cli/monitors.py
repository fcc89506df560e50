"""``tocsin monitor list|pause|resume`` (docs/monitors.md). Monitors are defined in the policy
file's ``[[monitor]]`` section: ``add`` and ``delete`` only say so."""

from __future__ import annotations

import json

import click

from tocsin.adapters.cli.common import fail, run_with_context
from tocsin.services.monitors import record, views

_IN_POLICY = (
    "Monitors are defined in the policy file's [[monitor]] section (docs/policy.md#monitors); "
    "edit it and restart tocsin to {what} one."
)


@click.group("monitor")
def monitor() -> None:
    """Uptime monitors: list them, pause and resume checks.

    Monitors are defined in the policy file ([[monitor]]); there is no add or delete here.
    """


@monitor.command("list")
@click.option(
    "--json", "as_json", is_flag=True, help="Print name, status, last_checked, latency_ms."
)
def monitor_list(as_json: bool) -> None:
    """Each monitor with its status (up, down, paused, pending) and its last check."""
    items = run_with_context(views.list_monitors)
    if as_json:
        click.echo(json.dumps(items, indent=2, sort_keys=True))
        return
    if not items:
        click.echo("No monitors; add [[monitor]] tables to the policy file.")
    for item in items:
        latency = f"{item['latency_ms']} ms" if item["latency_ms"] is not None else "-"
        checked = item["last_checked"] or "never"
        click.echo(f"{item['name']}  {item['status']}  last checked {checked}  {latency}")


@monitor.command("pause")
@click.argument("name")
def monitor_pause(name: str) -> None:
    """Stop checking NAME (a monitor that is down resolves its alert)."""
    run_with_context(lambda ctx: record.set_paused(ctx, name, True))
    click.echo(f"Monitor {name} paused.")


@monitor.command("resume")
@click.argument("name")
def monitor_resume(name: str) -> None:
    """Check NAME again, from pending."""
    run_with_context(lambda ctx: record.set_paused(ctx, name, False))
    click.echo(f"Monitor {name} resumed (pending until its next check).")


@monitor.command("add", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def monitor_add(args: tuple[str, ...]) -> None:
    """Not here: monitors are defined in the policy file."""
    fail(_IN_POLICY.format(what="add"))


@monitor.command("delete", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def monitor_delete(args: tuple[str, ...]) -> None:
    """Not here: monitors are defined in the policy file."""
    fail(_IN_POLICY.format(what="delete"))
