"""Discord: the interactions endpoint, slash commands, buttons and forms.

:func:`discord_surface` builds what ``tocsin serve`` mounts: ``POST /discord/interactions`` when
TOCSIN_DISCORD_PUBLIC_KEY is set, and a starter whose stopper waits for deferred answers still
being worked out. The outbox sender for ``discord`` lives in
:mod:`tocsin.platforms.discord.sender`; ``tocsin discord register-commands`` in
:mod:`tocsin.adapters.cli.discord`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.routing import BaseRoute

from tocsin.config import Settings
from tocsin.observability.metrics import Metrics
from tocsin.platforms.discord.app import DiscordApp
from tocsin.platforms.discord.routes import discord_routes
from tocsin.platforms.discord.verify import DiscordVerifier
from tocsin.services.context import Context

Starter = Callable[[], Awaitable[Callable[[], Awaitable[None]]]]

__all__ = ["DiscordApp", "DiscordVerifier", "discord_routes", "discord_surface"]


def discord_surface(
    settings: Settings, ctx: Context, metrics: Metrics | None = None
) -> tuple[list[BaseRoute], list[Starter]]:
    """Routes and starters for the Discord settings given; both empty when Discord is off."""
    if settings.discord_public_key is None:
        return [], []
    app = DiscordApp(ctx, application_id=settings.discord_application_id or "", metrics=metrics)
    routes: list[BaseRoute] = list(
        discord_routes(app, DiscordVerifier(settings.discord_public_key))
    )

    async def start() -> Callable[[], Awaitable[None]]:
        return app.drain

    return routes, [start]
