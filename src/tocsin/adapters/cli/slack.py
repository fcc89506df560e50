"""``tocsin slack manifest``: print the Slack app manifest for this installation."""

from __future__ import annotations

import click

from tocsin.adapters.cli.common import settings
from tocsin.adapters.cli.errors import ReportingGroup
from tocsin.platforms.slack.manifest import build_manifest, render


@click.group("slack", cls=ReportingGroup)
def slack() -> None:
    """Slack app setup."""


@slack.command("manifest")
@click.option(
    "--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True
)
@click.option(
    "--socket-mode/--http",
    default=None,
    help="Socket Mode (no public URL) or HTTP request URLs; default: Socket Mode when "
    "TOCSIN_SLACK_APP_TOKEN is set.",
)
@click.option("--name", default="tocsin", show_default=True, help="The app's name in Slack.")
def manifest(fmt: str, socket_mode: bool | None, name: str) -> None:
    """Print an app manifest with request URLs built from TOCSIN_PUBLIC_URL."""
    cfg = settings()
    if socket_mode is None:
        socket_mode = cfg.slack_app_token is not None
    click.echo(
        render(build_manifest(cfg.public_url, socket_mode=socket_mode, name=name), fmt), nl=False
    )
