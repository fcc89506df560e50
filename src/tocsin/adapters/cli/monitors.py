"""``tocsin monitor list|add|pause|resume|delete`` (docs/monitors.md). Monitors come from the
policy file's ``[[monitor]]`` section and from ``add`` (stored in the database, like those
created through the API). The CLI is an operator on the database, so it acts as an admin: the
private-address rule does not apply to the monitors it adds."""

from __future__ import annotations

import json
from typing import Any

import click

from tocsin.adapters.cli.common import fail, local_actor, run_with_context
from tocsin.domain.monitor_definition import MonitorInvalid
from tocsin.services.context import Context
from tocsin.services.monitors import manage, record, views


@click.group("monitor")
def monitor() -> None:
    """Uptime monitors: list, add, pause, resume and delete them.

    Monitors of the policy file ([[monitor]]) are changed there; `add` stores one in the
    database, and `delete` removes only those.
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
        click.echo("No monitors; `tocsin monitor add` or [[monitor]] in the policy file adds one.")
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


def _headers(values: tuple[str, ...]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, colon, text = value.partition(":")
        if not colon or not name.strip():
            fail(f"--header: expected 'Name: value', got {value[:60]!r}", 2)
        headers[name.strip()] = text.strip()
    return headers


_OPTIONS = {"name": "NAME", "kind": "--kind", "headers": "--header", "expect_status":
            "--expect-status"}  # fmt: skip


def _option(field: str) -> str:
    """The option a definition's field came from (``url`` -> ``--url``)."""
    head, dot, rest = field.partition(".")
    shown = _OPTIONS.get(head, "--" + head.replace("_", "-"))
    return f"{shown} {rest}" if dot else shown


@monitor.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(["http", "tcp"]), required=True, help="What to check.")
@click.option("--url", help="The http(s) URL (kind http).")
@click.option("--target", help="host:port (kind tcp).")
@click.option("--method", help="GET, HEAD or POST (kind http; default GET).")
@click.option("--interval", "interval_seconds", type=int, help="Seconds between checks.")
@click.option("--timeout", "timeout_seconds", type=int, help="Seconds one check may take.")
@click.option("--expect-status", type=int, multiple=True, help="An accepted status (repeat).")
@click.option("--keyword", help="Text the body must contain.")
@click.option("--absent-keyword", help="Text the body must not contain.")
@click.option("--max-response-ms", type=int, help="A slower answer fails the check.")
@click.option("--tls-expiry-warn-days", type=int, help="Fail when the certificate expires sooner.")
@click.option("--down-after", type=int, help="Failed checks in a row before down.")
@click.option("--up-after", type=int, help="Good checks in a row before up.")
@click.option("--component", help="The status-page component it drives.")
@click.option("--component-status", help="What that component shows while down.")
@click.option("--header", "headers", multiple=True, help="'Name: value' sent with the request.")
@click.option("--follow-redirects", is_flag=True, default=None, help="Follow up to 5 redirects.")
@click.option("--json", "as_json", is_flag=True, help="Print the monitor as JSON.")
def monitor_add(name: str, headers: tuple[str, ...], as_json: bool, **options: Any) -> None:
    """Add the monitor NAME (stored in the database; checked from its first interval on).

    The options are the keys of a [[monitor]] table (docs/policy.md#monitors).
    """
    definition: dict[str, Any] = {"name": name}
    for key, value in options.items():
        if value is not None and value != ():
            definition[key] = list(value) if isinstance(value, tuple) else value
    if headers:
        definition["headers"] = _headers(headers)

    async def add(ctx: Context) -> dict[str, Any]:
        added = await manage.add_monitor(ctx, definition, local_actor(), restricted=False)
        return await views.monitor_detail(ctx, added.name)

    try:
        item = run_with_context(add)
    except MonitorInvalid as exc:
        fail("; ".join(f"{_option(field)}: {what}" for field, what in exc.errors.items()), 2)
    if as_json:
        click.echo(json.dumps(item, indent=2, sort_keys=True))
        return
    click.echo(f"Monitor {name} added ({item['kind']} {item['target']}); pending until checked.")


@monitor.command("delete")
@click.argument("name")
def monitor_delete(name: str) -> None:
    """Delete the monitor NAME, its state and its results (a monitor that is down resolves its
    alert). A monitor of the policy file is removed from the file instead."""
    run_with_context(lambda ctx: manage.delete_monitor(ctx, name, local_actor()))
    click.echo(f"Monitor {name} deleted.")
