"""The ``tocsin`` command. Errors print one line to stderr and exit non-zero."""

from __future__ import annotations

import click

from tocsin import __version__
from tocsin.adapters.cli.access import token, user
from tocsin.adapters.cli.backup import backup, restore
from tocsin.adapters.cli.common import fail, settings
from tocsin.adapters.cli.deliveries import deliveries, worker
from tocsin.adapters.cli.incident import incident
from tocsin.adapters.cli.oncall import oncall
from tocsin.adapters.cli.ops import audit, db, postmortem
from tocsin.adapters.discord.cli import discord
from tocsin.adapters.slack.cli import slack


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tocsin")
def cli() -> None:
    """tocsin: declare and run incidents from Slack, Discord, the web, the API or here."""


@cli.command()
def serve() -> None:
    """Serve the web app, the APIs and the chat endpoints, with the delivery workers."""
    from tocsin.adapters.web.server import serve as run_server
    from tocsin.observability.tracing import configure_tracing

    cfg = settings()
    try:
        configure_tracing()  # only when the otel extra is installed and OTEL_* asks for it
    except ValueError as exc:
        fail(str(exc), 2)
    run_server(cfg)


cli.add_command(incident)
cli.add_command(db)
cli.add_command(audit)
cli.add_command(postmortem)
cli.add_command(deliveries)
cli.add_command(worker)
cli.add_command(backup)
cli.add_command(restore)
cli.add_command(slack)
cli.add_command(discord)
cli.add_command(token)
cli.add_command(user)
cli.add_command(oncall)


def main() -> None:
    cli(prog_name="tocsin")
