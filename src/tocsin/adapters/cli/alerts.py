"""``tocsin integration create|list|rotate|delete`` and
``tocsin alerts list|ack|silence|silences|unsilence|declare`` (docs/alerts.md)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import click

from tocsin.adapters.cli.common import fail, local_actor, run_with_context
from tocsin.services.alerts import groups as group_service
from tocsin.services.alerts import integrations as service
from tocsin.services.alerts import silences
from tocsin.services.alerts.views import group_dict
from tocsin.services.context import Context
from tocsin.storage.alert_groups import StoredGroup
from tocsin.storage.alerts import SilenceRow

_KINDS = click.Choice(["alertmanager", "grafana", "webhook", "heartbeat"])
_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


@click.group("integration")
def integration() -> None:
    """The URLs Alertmanager, Grafana and other senders post alerts to."""


def _show_created(made: service.Created, as_json: bool) -> None:
    if as_json:
        _echo_json(made.to_dict())
        return
    click.echo(
        f'Integration "{made.row.name}" ({made.row.kind}). Its URL (shown once; tocsin '
        "stores only a hash of the secret in it):"
    )
    click.echo(made.url)
    if made.signing_secret:
        click.echo(f"Grafana HMAC signing secret (optional): {made.signing_secret}")


@integration.command("create")
@click.argument("kind", type=_KINDS)
@click.argument("name")
@click.option("--period", help="Heartbeats: a call is due this often (e.g. 5m, 1h, 1d).")
@click.option("--grace", help="Heartbeats: how late a call may be before it counts as missed.")
@click.option("--json", "as_json", is_flag=True, help="Print id, kind, name and url as JSON.")
def integration_create(
    kind: str, name: str, period: str | None, grace: str | None, as_json: bool
) -> None:
    """Create an integration and print its URL."""
    every = parse_duration(period) if period else None
    late = parse_duration(grace) if grace else None
    made = run_with_context(
        lambda ctx: service.create_integration(
            ctx, kind, name, local_actor().key, period=every, grace=late
        )
    )
    _show_created(made, as_json)


@integration.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the integrations as JSON.")
def integration_list(as_json: bool) -> None:
    """List integrations (never their secrets)."""
    rows = run_with_context(service.list_integrations)
    if as_json:
        _echo_json([service.integration_dict(row) for row in rows])
        return
    if not rows:
        click.echo("No integrations yet; `tocsin integration create alertmanager NAME` makes one.")
    for row in rows:
        last = f"{row.last_received_at:%Y-%m-%d %H:%M}" if row.last_received_at else "never"
        click.echo(f"{row.name}  {row.kind}  id {row.public_id}  last body {last}")


@integration.command("rotate")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the new URL as JSON.")
def integration_rotate(name: str, as_json: bool) -> None:
    """Give an integration a new secret; its old URL stops working at once."""
    _show_created(run_with_context(lambda ctx: service.rotate_integration(ctx, name)), as_json)


@integration.command("delete")
@click.argument("name")
def integration_delete(name: str) -> None:
    """Delete an integration; its URL answers 404 from now on."""
    run_with_context(lambda ctx: service.delete_integration(ctx, name))
    click.echo(f'Deleted integration "{name}".')


@click.group("alerts")
def alerts() -> None:
    """Alert groups: what came in, and what tocsin did with it."""


def _line(kept: StoredGroup) -> str:
    data = group_dict(kept)
    incident = f"  {data['incident']}" if data["incident"] else ""
    status = data["status"]
    if data["silenced_reason"]:
        status = f"{status} ({data['silenced_reason']})"
    return (
        f"#{data['id']}  {status}  {data['firing']}/{data['alerts']} firing  "
        f"{data['title']}{incident}"
    )


@alerts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the groups as JSON.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
def alerts_list(as_json: bool, limit: int) -> None:
    """List alert groups, most recently seen first."""

    async def work(ctx: Context) -> list[StoredGroup]:
        return await group_service.list_groups(ctx, limit=limit)

    found = run_with_context(work)
    if as_json:
        _echo_json([group_dict(kept) for kept in found])
        return
    if not found:
        click.echo("No alert groups yet.")
    for kept in found:
        click.echo(_line(kept))


@alerts.command("ack")
@click.argument("group_id", type=int)
def alerts_ack(group_id: int) -> None:
    """Acknowledge an alert group."""
    kept = run_with_context(lambda ctx: group_service.ack_group(ctx, local_actor(), group_id))
    click.echo(_line(kept))


def parse_duration(text: str) -> timedelta:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        fail(f"not a duration: {text!r} (use e.g. 90s, 30m, 4h, 2d)", 2)
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


@alerts.command("silence")
@click.argument("group_id", type=int, required=False)
@click.option(
    "--match", "matchers", help='Label matchers, e.g. team="payments",severity=~"crit.*".'
)
@click.option("--for", "length", default="1h", show_default=True, help="e.g. 30m, 4h, 1d.")
@click.option("--comment", default="", help="Why (kept with a --match silence).")
def alerts_silence(group_id: int | None, matchers: str | None, length: str, comment: str) -> None:
    """Silence one alert group, or (--match) every alert whose labels match, for a while: what
    it covers pages, proposes and declares nothing."""
    if (group_id is None) == (matchers is None):
        fail("name an alert group id or give --match, not both", 2)
    span = parse_duration(length)
    if matchers is None:
        assert group_id is not None
        kept = run_with_context(
            lambda ctx: group_service.silence_group(ctx, local_actor(), group_id, span)
        )
        click.echo(_line(kept))
        return
    made = run_with_context(
        lambda ctx: silences.create_silence(ctx, local_actor(), matchers, span, comment)
    )
    click.echo(f"Silence #{made.id}: {_silence_line(made)}")


def _silence_line(row: SilenceRow) -> str:
    data = silences.silence_dict(row)
    what = f"alert group #{data['group']}" if data["group"] is not None else data["matchers"]
    return f"{what} until {row.silence.ends_at:%Y-%m-%d %H:%M} UTC (by {data['created_by']})"


@alerts.command("silences")
@click.option("--all", "everything", is_flag=True, help="Ended silences too.")
@click.option("--json", "as_json", is_flag=True, help="Print the silences as JSON.")
def alerts_silences(everything: bool, as_json: bool) -> None:
    """List silences that have not ended, newest first."""
    found = run_with_context(lambda ctx: silences.list_silences(ctx, expired=everything))
    if as_json:
        _echo_json([silences.silence_dict(row) for row in found])
        return
    if not found:
        click.echo("No silences.")
    for row in found:
        click.echo(f"#{row.id}  {_silence_line(row)}")


@alerts.command("unsilence")
@click.argument("silence_id", type=int)
def alerts_unsilence(silence_id: int) -> None:
    """End a silence now."""
    ended = run_with_context(lambda ctx: silences.expire_silence(ctx, local_actor(), silence_id))
    click.echo(f"Ended silence #{ended.id}: {_silence_line(ended)}")


@alerts.command("declare")
@click.argument("group_id", type=int)
def alerts_declare(group_id: int) -> None:
    """Declare an incident for an alert group (commander: whoever is on call)."""
    kept = run_with_context(lambda ctx: group_service.declare_group(ctx, local_actor(), group_id))
    click.echo(_line(kept))
