"""How every ``tocsin`` command reports an error it cannot go on from: one line, non-zero exit.

Commands raise (:class:`CliError` through ``fail()``, or the settings, policy, database and
domain errors as they come); :class:`ReportingGroup`, the class of the ``tocsin`` group and its
subgroups, turns them into one line on stderr, in one place. ``serve`` and ``worker`` write
their output as logs, so their line follows TOCSIN_LOG_FORMAT (a JSON object by default,
``tocsin: ...`` with ``console``); every other command talks to a person and prints
``tocsin: ...``. Exit 2 means bad configuration (a setting, the policy file, a usage mistake),
1 anything else. An exception not listed here is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import click

# The commands whose output is their log (long-running processes under a supervisor).
LOGGING_COMMANDS = frozenset({"serve", "worker"})


class CliError(Exception):
    """An error a command reports as it is: ``message`` is the line, ``code`` the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def describe(exc: Exception) -> tuple[str, int] | None:
    """The line and exit status for ``exc``; None for an exception that is a bug."""
    # Imported here, on the error path: ``tocsin --help`` need not load settings or SQLAlchemy.
    from sqlalchemy.exc import SQLAlchemyError

    from tocsin.config import ConfigError
    from tocsin.domain.errors import DomainError, PolicyError

    if isinstance(exc, CliError):
        return exc.message, exc.code
    if isinstance(exc, ConfigError):
        return str(exc), 2
    if isinstance(exc, PolicyError):  # one problem per line in the error, joined here
        return "; ".join(exc.problems), 2
    if isinstance(exc, DomainError):
        return exc.message, 1
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or exc}: {exc.filename}", 1
    if isinstance(exc, OSError):  # refused, unknown host, timed out: the database is away
        return f"cannot reach the database: {_first_line(str(exc)) or type(exc).__name__}", 1
    if isinstance(exc, SQLAlchemyError):
        first = _first_line(str(getattr(exc, "orig", None) or exc)) or type(exc).__name__
        return f"database error: {first} (is the schema migrated? run `tocsin db upgrade`)", 1
    return None


def _log_format() -> str:
    """The log format in use: the settings' if they load, else the raw variable, else json."""
    from tocsin.config import ConfigError, load_settings

    try:
        return load_settings().log_format
    except ConfigError:
        raw = os.environ.get("TOCSIN_LOG_FORMAT", "").strip().lower()
        return "console" if raw == "console" else "json"


def render(message: str, code: int, *, as_log: bool) -> str:
    """The one line: a JSON log object for a logging command in json format, else plain."""
    if as_log and _log_format() == "json":
        import orjson

        line = {
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "level": "error",
            "logger": "tocsin.cli",
            "event": "tocsin stopped",
            "error": message,
            "exit_code": code,
        }
        return orjson.dumps(line).decode()
    return f"tocsin: {message}"


def report(exc: Exception, command: str | None) -> click.exceptions.Exit:
    """Print the line for ``exc`` on stderr; the exit to raise. Re-raises a bug as it is."""
    described = describe(exc)
    if described is None:
        raise exc
    message, code = described
    line = render(message.replace("\n", "; "), code, as_log=command in LOGGING_COMMANDS)
    click.echo(line, err=True)
    return click.exceptions.Exit(code)


class ReportingGroup(click.Group):
    """A command group whose subcommands' errors end as one line (:func:`report`) and an exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except Exception as exc:  # noqa: BLE001 - report() re-raises what it does not know
            raise report(exc, ctx.find_root().invoked_subcommand) from None
