"""Slack over HTTP: ``POST /slack/commands``, ``/slack/interactions``, ``/slack/events``.

Plain Starlette routes. Each reads the raw body (the guard middleware has already answered 413
to anything over 1 MiB), checks the signature on those exact bytes (401, before anything is
parsed or stored), parses (400 when malformed) and hands over to :class:`SlackApp`. A body from
the handler is sent as JSON; None becomes an empty 200, which is what Slack wants for
acknowledged interactions and events.

``ssl_check=1`` requests (Slack checking the certificate of a slash command URL) are answered
200 before verification, as Bolt does: they carry no command and change nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote_plus

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tocsin.chat.payloads import Malformed, json_object
from tocsin.platforms.slack.app import SlackApp
from tocsin.platforms.slack.common import BadRequest
from tocsin.platforms.slack.verify import SlackVerifier
from tocsin.responses import JSONResponse

log = structlog.get_logger("tocsin.slack")
Handler = Callable[[bytes, Request], Awaitable[dict[str, Any] | None]]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _form(body: bytes) -> dict[str, str]:
    """A strict ``application/x-www-form-urlencoded`` body (every field ``name=value``) as a
    dict, the last value of a repeated name winning, as ``dict(parse_qsl(...))`` would give.
    Only fields with ``%`` or ``+`` are unquoted: most of Slack's (ids, flags) have neither, and
    ``parse_qsl`` was a fifth of a ``help`` command's time in the application."""
    try:
        text = body.decode("utf-8")
        fields: dict[str, str] = {}
        for pair in text.split("&") if text else ():
            name, sep, value = pair.partition("=")
            if not sep:
                raise ValueError(pair)
            fields[_unquote(name)] = _unquote(value)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the body is not a valid form") from None
    if b"%00" in body or b"\x00" in body:
        found = next((name for name, value in fields.items() if "\x00" in name + value), None)
        if found is not None:
            raise BadRequest(f"the form field {found[:40]!r} contains a NUL character")
    return fields


def _unquote(text: str) -> str:
    return unquote_plus(text) if "%" in text or "+" in text else text


def _is_ssl_check(body: bytes) -> bool:
    if b"ssl_check=1" not in body:
        return False
    try:
        return _form(body).get("ssl_check") == "1"
    except BadRequest:
        return False


def _retry_num(request: Request) -> int | None:
    """The redelivery count Slack sends (ASCII digits only: ``str.isdigit`` also takes "²")."""
    value = request.headers.get("x-slack-retry-num", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


def slack_routes(app: SlackApp, verifier: SlackVerifier) -> list[Route]:
    """The three Slack endpoints, verifying with ``verifier``."""

    async def commands(body: bytes, request: Request) -> dict[str, Any] | None:
        del request
        return await app.handle_command(_form(body))

    async def interactions(body: bytes, request: Request) -> dict[str, Any] | None:
        del request
        raw = _form(body).get("payload")
        if raw is None:
            raise BadRequest("an interaction needs a payload field")
        return await app.handle_interaction(json_object(raw))

    async def events(body: bytes, request: Request) -> dict[str, Any] | None:
        return await app.handle_event(json_object(body), retry_num=_retry_num(request))

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            body = await request.body()
            if _is_ssl_check(body):
                return Response(status_code=200)
            if not verifier.verify(body, request.headers):
                return _error(401, "invalid or missing Slack signature")
            try:
                result = await handler(body, request)
            except Malformed as exc:
                log.warning("malformed Slack request", path=request.url.path, error=str(exc))
                return _error(400, str(exc))
            return JSONResponse(result) if result is not None else Response(status_code=200)

        return run

    return [
        Route("/slack/commands", endpoint(commands), methods=["POST"]),
        Route("/slack/interactions", endpoint(interactions), methods=["POST"]),
        Route("/slack/events", endpoint(events), methods=["POST"]),
    ]
