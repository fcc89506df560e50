"""Slack: slash commands, interactivity and events over HTTP or Socket Mode.

:func:`slack_surface` builds what ``tocsin serve`` mounts: the three HTTP routes (when a signing
secret is set) and the Socket Mode starter (when an app token is set). The outbox sender for
``slack`` lives in :mod:`tocsin.platforms.slack.sender`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.routing import BaseRoute

from tocsin.config import Settings
from tocsin.observability.metrics import Metrics
from tocsin.platforms.slack.app import SlackApp
from tocsin.platforms.slack.routes import slack_routes
from tocsin.platforms.slack.verify import SlackVerifier
from tocsin.platforms.slack.webapi import SlackApi, SlackWeb
from tocsin.services.context import Context

Starter = Callable[[], Awaitable[Callable[[], Awaitable[None]]]]

__all__ = ["SlackApp", "SlackVerifier", "slack_routes", "slack_surface"]


def slack_surface(
    settings: Settings, ctx: Context, metrics: Metrics | None = None
) -> tuple[list[BaseRoute], list[Starter]]:
    """Routes and starters for the Slack settings given; both empty when Slack is off."""
    secret, bot, app_token = (
        settings.slack_signing_secret,
        settings.slack_bot_token,
        settings.slack_app_token,
    )
    if secret is None and app_token is None:
        return [], []
    web = SlackWeb(SlackApi(bot.get_secret_value(), settings.slack_api_url)) if bot else None
    app = SlackApp(ctx, web=web, metrics=metrics)
    routes: list[BaseRoute] = []
    starters: list[Starter] = []
    if secret is not None:
        routes = list(slack_routes(app, SlackVerifier(secret.get_secret_value())))
    if app_token is not None:
        # Imported only with an app token: the Socket Mode client (slack_sdk, aiohttp) is ~12 MB.
        from tocsin.platforms.slack.socket_mode import SocketModeRunner

        runner = SocketModeRunner(app, app_token.get_secret_value(), settings.slack_api_url)
        starters.append(runner.start)
    if web is not None:
        client = web

        async def start_web() -> Callable[[], Awaitable[None]]:
            return client.aclose

        starters.append(start_web)
    return routes, starters
