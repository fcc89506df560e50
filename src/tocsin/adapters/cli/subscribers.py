"""``tocsin subscriber list [--json] | add EMAIL|URL [--component NAME]... | remove ID``: the
status page's subscribers (docs/status-page.md#subscribers)."""

from __future__ import annotations

import json

import click

from tocsin.adapters.cli.common import local_actor, run_with_context
from tocsin.adapters.cli.errors import ReportingGroup
from tocsin.services import subscribers as service
from tocsin.services.context import Context


@click.group("subscriber", cls=ReportingGroup)
def subscriber() -> None:
    """Who hears of the public status page's changes: email addresses and webhook URLs."""


@subscriber.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def subscriber_list(as_json: bool) -> None:
    """List subscribers with their state (pending, confirmed, bounced, unsubscribed)."""

    async def work(ctx: Context) -> list[dict[str, object]]:
        return [s.to_dict() for s in await service.list_subscribers(ctx, local_actor())]

    rows = run_with_context(work)
    if as_json:
        click.echo(json.dumps({"items": rows}, indent=2))
        return
    if not rows:
        click.echo(
            "No subscribers yet; the status page's form or `tocsin subscriber add` adds one."
        )
        return
    for row in rows:
        only = ", ".join(row["components"]) or "all components"  # type: ignore[arg-type]
        click.echo(
            f"{row['id']:>5}  {row['kind']:<8} {row['state']:<12} {row['address']}  ({only})"
        )


@subscriber.command("add")
@click.argument("address")
@click.option("--component", "components", multiple=True, help="Only this component (repeat).")
def subscriber_add(address: str, components: tuple[str, ...]) -> None:
    """Add an email address (confirmed at once) or a webhook URL (its signing secret is printed
    once)."""
    added = run_with_context(
        lambda ctx: service.add_subscriber(ctx, local_actor(), address, components)
    )
    sub = added.subscriber
    click.echo(f"Added {sub.kind} subscriber #{sub.id}: {sub.address}")
    if added.secret:
        click.echo(
            "Signing secret (X-Tocsin-Signature: sha256=HMAC-SHA256 of the body); copy it "
            "now, it is not shown again:"
        )
        click.echo(added.secret)


@subscriber.command("remove")
@click.argument("number", metavar="ID", type=int)
def subscriber_remove(number: int) -> None:
    """Remove a subscriber for good."""
    run_with_context(lambda ctx: service.remove_subscriber(ctx, local_actor(), number))
    click.echo(f"Removed subscriber #{number}.")
