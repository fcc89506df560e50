"""What every CLI command shares: settings, the context, the local actor, one-line errors."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from tocsin.app import build_context
from tocsin.config import ConfigError, Settings, load_settings
from tocsin.domain.errors import DomainError
from tocsin.domain.model import Actor
from tocsin.services.context import Context

T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, non-zero exit: the CLI's only way to report an error."""
    click.echo(f"tocsin: {message}", err=True)
    sys.exit(code)


def settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc), 2)


def local_actor() -> Actor:
    """The CLI acts as the local OS user, who is an admin (they can read the database anyway)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in a bare container
        user = "unknown"
    return Actor("cli", user, user)


def run_with_context(work: Callable[[Context], Awaitable[T]]) -> T:
    """Build the context, run ``work``, dispose the engine; domain errors become one line."""
    cfg = settings()

    async def main() -> T:
        try:
            ctx = build_context(cfg)
        except DomainError as exc:  # the policy file is wrong
            fail(str(exc).replace("\n", "; "), 2)
        try:
            return await work(ctx)
        finally:
            await ctx.db.dispose()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        fail(exc.message)
    except OSError as exc:
        fail(f"cannot reach the database: {exc}")
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", exc)).splitlines()[0]
        fail(f"database error: {first} (is the schema migrated? run `tocsin db upgrade`)")
