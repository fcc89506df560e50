"""The ``tocsin`` command. Errors print one line to stderr and exit non-zero."""

from __future__ import annotations

import click

from tocsin import __version__
from tocsin.adapters.cli.common import settings
from tocsin.adapters.cli.incident import incident
from tocsin.adapters.cli.ops import audit, db, postmortem


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tocsin")
def cli() -> None:
    """tocsin: declare and run incidents from Slack, Discord, the web, the API or here."""


@cli.command()
def serve() -> None:
    """Serve the web app, the APIs and the chat endpoints, with the delivery workers."""
    from tocsin.adapters.web.server import serve as run_server

    run_server(settings())


cli.add_command(incident)
cli.add_command(db)
cli.add_command(audit)
cli.add_command(postmortem)


def main() -> None:
    cli(prog_name="tocsin")
