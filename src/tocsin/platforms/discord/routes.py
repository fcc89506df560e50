"""``POST /discord/interactions``: a plain Starlette route.

It reads the raw body (the guard middleware has already answered 413 to anything over 1 MiB),
checks the Ed25519 signature on those exact bytes (401 before anything is parsed or stored),
parses (400 when malformed) and hands the interaction to :class:`DiscordApp`, whose answer is sent
as JSON.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tocsin.platforms.discord.app import BadRequest, DiscordApp
from tocsin.platforms.discord.verify import DiscordVerifier
from tocsin.responses import JSONResponse

PATH = "/discord/interactions"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def discord_routes(app: DiscordApp, verifier: DiscordVerifier) -> list[Route]:
    """The interactions endpoint, verifying with ``verifier``."""

    async def interactions(request: Request) -> Response:
        body = await request.body()
        if not verifier.verify(body, request.headers):
            return _error(401, "invalid request signature")
        try:
            interaction = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            return _error(400, "the body is not valid JSON")
        try:
            answer = await app.handle(interaction)
        except BadRequest as exc:
            return _error(400, str(exc))
        return JSONResponse(answer)

    return [Route(PATH, interactions, methods=["POST"])]
