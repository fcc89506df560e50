"""What every CLI command shares: settings, the context, the local actor, one-line errors."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

from tocsin.adapters.cli.errors import CliError
from tocsin.app import build_context
from tocsin.config import Settings, load_settings
from tocsin.domain.model import Actor
from tocsin.services.context import Context
from tocsin.storage import migrate

T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop the command: the entry point prints ``message`` as one line and exits ``code``."""
    raise CliError(message, code)


def settings() -> Settings:
    """The settings (a bad one raises ConfigError: one line, exit 2, from the entry point)."""
    return load_settings()


def local_actor() -> Actor:
    """The CLI acts as the local OS user, who is an admin (they can read the database anyway)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in a bare container
        user = "unknown"
    return Actor("cli", user, user)


async def require_head(ctx: Context) -> None:
    """Stop at once, naming both revisions, unless the schema is the one this tocsin expects
    (a half-migrated database would otherwise fail later, in some query)."""
    current, head = await migrate.current_revision(ctx.db), migrate.head_revision()
    if current != head:
        fail(
            f"the database schema is at revision {current or 'base'}, this tocsin needs {head} "
            "(run `tocsin db upgrade`)"
        )


def run_with_context(work: Callable[[Context], Awaitable[T]]) -> T:
    """Build the context, run ``work``, dispose the engine. Policy, domain and database
    errors propagate to the entry point, which prints them as one line."""
    cfg = settings()

    async def main() -> T:
        ctx = build_context(cfg)
        try:
            await require_head(ctx)
            return await work(ctx)
        finally:
            await ctx.db.dispose()

    return asyncio.run(main())
