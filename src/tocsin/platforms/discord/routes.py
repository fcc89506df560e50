"""``POST /discord/interactions``: a plain Starlette route.

It reads the raw body (the guard middleware has already answered 413 to anything over 1 MiB),
checks the Ed25519 signature on those exact bytes (401 before anything is parsed or stored),
parses (400 when malformed) and hands the interaction to :class:`DiscordApp`, whose answer is sent
as JSON.
"""

from __future__ import annotations

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tocsin.chat.payloads import Malformed, json_value
from tocsin.platforms.discord.app import DiscordApp
from tocsin.platforms.discord.verify import DiscordVerifier
from tocsin.responses import JSONResponse

log = structlog.get_logger("tocsin.discord")
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
            answer = await app.handle(json_value(body))
        except Malformed as exc:
            log.warning("malformed Discord interaction", error=str(exc))
            return _error(400, str(exc))
        return JSONResponse(answer)

    return [Route(PATH, interactions, methods=["POST"])]
