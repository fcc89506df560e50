"""``tocsin discord register-commands``: register ``/incident``, ``/inc`` and the message
commands with Discord."""

from __future__ import annotations

import asyncio

import click

from tocsin.adapters.cli.common import fail, settings
from tocsin.adapters.cli.errors import ReportingGroup
from tocsin.delivery.base import DeliveryError
from tocsin.platforms.discord.register import Registration, register_commands
from tocsin.platforms.discord.rest import DiscordRest


@click.group("discord", cls=ReportingGroup)
def discord() -> None:
    """Discord app setup."""


@discord.command("register-commands")
@click.option(
    "--global",
    "everywhere",
    is_flag=True,
    help="Register for every server even when TOCSIN_DISCORD_GUILD_ID is set.",
)
@click.option("--force", is_flag=True, help="Send the commands even if Discord already has them.")
def register(everywhere: bool, force: bool) -> None:
    """Bulk-overwrite the commands, in TOCSIN_DISCORD_GUILD_ID or globally (running it twice
    changes nothing)."""
    cfg = settings()
    if cfg.discord_bot_token is None or not cfg.discord_application_id:
        fail("set TOCSIN_DISCORD_BOT_TOKEN and TOCSIN_DISCORD_APPLICATION_ID first", 2)
    token, application = cfg.discord_bot_token.get_secret_value(), cfg.discord_application_id
    guild = None if everywhere else cfg.discord_guild_id

    async def run() -> Registration:
        rest = DiscordRest(token, cfg.discord_api_url)
        try:
            return await register_commands(rest, application, guild, force=force)
        finally:
            await rest.aclose()

    try:
        done = asyncio.run(run())
    except DeliveryError as exc:
        fail(f"Discord did not take the commands: {exc}")
    if done.changed:
        click.echo(f"Registered {done.count} Discord commands {done.scope}.")
    else:
        click.echo(
            f"Discord already has these {done.count} commands {done.scope}; nothing changed."
        )
