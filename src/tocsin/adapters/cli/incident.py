"""``tocsin incident <subcommand>``: the same words as chat, run against the database directly."""

from __future__ import annotations

import shlex

import click
import orjson

from tocsin.adapters.cli.common import local_actor, run_with_context
from tocsin.adapters.views import entry_view, incident_view
from tocsin.domain.commands import parse
from tocsin.services.context import Context, Outcome
from tocsin.services.dispatch import execute


def command_text(words: tuple[str, ...]) -> str:
    """Rebuild the command line, re-quoting words the shell unquoted, so that
    ``declare "Upgrade to P2 failed"`` keeps "P2" inside the title."""
    return " ".join(shlex.quote(w) if any(c.isspace() for c in w) else w for w in words)


def render_json(outcome: Outcome, name: str) -> str:
    if name == "list":
        data: object = [incident_view(i) for i in outcome.incidents]
    elif outcome.incident is not None:
        view = incident_view(outcome.incident)
        if name == "show":
            view["timeline"] = [entry_view(e) for e in outcome.timeline]
        data = view
    else:
        data = {"message": outcome.message}
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()


@click.command(
    "incident",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    short_help="Declare and run incidents (the chat commands).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (list, show).")
@click.argument("words", nargs=-1, type=click.UNPROCESSED)
def incident(as_json: bool, words: tuple[str, ...]) -> None:
    """Run an incident subcommand, e.g. ``tocsin incident declare "DB down" P1``.

    ``tocsin incident help`` lists every subcommand.
    """
    text = command_text(words)

    async def work(ctx: Context) -> tuple[Outcome, str]:
        command = parse(text)
        return await execute(ctx, local_actor(), command), command.name

    outcome, name = run_with_context(work)
    click.echo(render_json(outcome, name) if as_json else outcome.message)
