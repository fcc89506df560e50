"""The ``tocsin`` command. Errors print one line to stderr and exit non-zero
(:mod:`tocsin.adapters.cli.errors`, for every subcommand at once).

Subcommands are imported only when they run (``LAZY``): ``tocsin incident ...`` need not load the
Slack, Discord, web or backup code, which keeps every CLI call quick.
"""

from __future__ import annotations

import importlib

import click

from tocsin import __version__
from tocsin.adapters.cli.errors import ReportingGroup

# name -> "module:attribute" of the click command.
LAZY = {
    "incident": "tocsin.adapters.cli.incident:incident",
    "db": "tocsin.adapters.cli.ops:db",
    "audit": "tocsin.adapters.cli.ops:audit",
    "postmortem": "tocsin.adapters.cli.ops:postmortem",
    "deliveries": "tocsin.adapters.cli.deliveries:deliveries",
    "worker": "tocsin.adapters.cli.deliveries:worker",
    "backup": "tocsin.adapters.cli.backup:backup",
    "restore": "tocsin.adapters.cli.backup:restore",
    "slack": "tocsin.adapters.cli.slack:slack",
    "discord": "tocsin.adapters.cli.discord:discord",
    "token": "tocsin.adapters.cli.access:token",
    "user": "tocsin.adapters.cli.access:user",
    "oncall": "tocsin.adapters.cli.oncall:oncall",
    "page": "tocsin.adapters.cli.page:page",
    "person": "tocsin.adapters.cli.people:person",
    "maintenance": "tocsin.adapters.cli.maintenance:maintenance",
    "subscriber": "tocsin.adapters.cli.subscribers:subscriber",
    "integration": "tocsin.adapters.cli.alerts:integration",
    "alerts": "tocsin.adapters.cli.alerts:alerts",
    "monitor": "tocsin.adapters.cli.monitors:monitor",
}


class LazyGroup(ReportingGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tocsin")
def cli() -> None:
    """tocsin: declare and run incidents from Slack, Discord, the web, the API or here."""


@cli.command()
def serve() -> None:
    """Serve the web app, the APIs and the chat endpoints, with the delivery workers."""
    from tocsin.adapters.cli.common import fail, settings
    from tocsin.adapters.web.server import serve as run_server
    from tocsin.observability.tracing import configure_tracing

    cfg = settings()
    try:
        configure_tracing()  # only when the otel extra is installed and OTEL_* asks for it
    except ValueError as exc:
        fail(str(exc), 2)
    run_server(cfg)


def main() -> None:
    cli(prog_name="tocsin")
