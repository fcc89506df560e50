"""Bearer-token authentication for the REST API, with failed attempts rate-limited per client IP."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import Response

from tocsin.adapters.web.api.problems import problem
from tocsin.adapters.web.api.ratelimit import FailureLimiter
from tocsin.services.access.principal import Principal
from tocsin.services.access.tokens import authenticate_token
from tocsin.services.context import Context

_CHALLENGE = 'Bearer realm="tocsin"'


def client_ip(connection: HTTPConnection) -> str:
    """The peer address (uvicorn rewrites it from X-Forwarded-For for trusted proxies only)."""
    return connection.client.host if connection.client is not None else "unknown"


def rate_limited(wait: int, detail: str) -> Response:
    return problem("rate-limited", detail, headers={"Retry-After": str(wait)})


async def authenticate(
    connection: HTTPConnection, ctx: Context, limiter: FailureLimiter
) -> Principal | Response:
    """The caller's principal, or the problem response to send (401 or 429)."""
    key = client_ip(connection)
    wait = await limiter.retry_after(key)
    if wait:
        return rate_limited(wait, f"Too many failed attempts; try again in {wait} seconds.")
    scheme, _, secret = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return problem(
            "unauthorized",
            "Send an API token as `Authorization: Bearer <token>`; "
            "`tocsin token create` makes one.",
            headers={"WWW-Authenticate": _CHALLENGE},
        )
    principal = await authenticate_token(ctx, secret.strip())
    if principal is None:
        await limiter.failed(key)
        return problem(
            "unauthorized",
            "That token is not valid: it is unknown, mistyped or revoked.",
            headers={"WWW-Authenticate": _CHALLENGE + ', error="invalid_token"'},
        )
    return principal
