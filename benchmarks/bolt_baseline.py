"""The slack_bolt baseline for ``make bench``: what a team would otherwise build on.

A slack_bolt ``AsyncApp`` behind its Starlette adapter, verifying signatures with the signing
secret, an ``authorize`` function that returns a fixed ``AuthorizeResult`` (so no network call is
ever made) and one slash command, ``/ping``, acknowledged with ``pong``. Served by uvicorn with the
same loop and HTTP parser as ``tocsin serve`` (uvloop, httptools, no access log).

By default (``process_before_response=False``) Bolt runs the listener in a task and polls every
10 ms for its ``ack``, so every answer takes at least ~10 ms and 16 connections cap it near
1,500/s. ``--process-before-response`` runs the listener inline (Bolt's FaaS mode): no polling.

Run: ``python benchmarks/bolt_baseline.py --port 8090 [--process-before-response]`` with
``BOLT_SIGNING_SECRET`` set.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


async def authorize(**_kwargs: Any) -> AuthorizeResult:
    """A fixed installation: no ``auth.test`` call, no token store."""
    return AuthorizeResult(
        enterprise_id=None,
        team_id="T1",
        bot_token="xoxb-bench-token",  # a dummy, never sent anywhere
        bot_user_id="UBOT",
        bot_id="BBOT",
    )


def build(process_before_response: bool) -> Starlette:
    bolt = AsyncApp(
        signing_secret=os.environ["BOLT_SIGNING_SECRET"],
        authorize=authorize,
        process_before_response=process_before_response,
    )

    @bolt.command("/ping")
    async def ping(ack: Any) -> None:
        await ack("pong")

    handler = AsyncSlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    async def ready(_request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[Route("/slack/commands", events, methods=["POST"]), Route("/ready", ready)]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--process-before-response", action="store_true")
    args = parser.parse_args()
    uvicorn.run(
        build(args.process_before_response),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
