"""Calls to the Discord REST API with httpx, rate limits kept and errors mapped once.

:meth:`DiscordRest.request` sends ``Authorization: Bot <token>`` (except to interaction webhooks,
whose token is in the URL), waits for room in the route's bucket and the global limit
(:class:`~tocsin.platforms.discord.ratelimit.RateLimiter`), and returns the decoded body, or raises:

* :class:`~tocsin.delivery.base.RetryableError` for a 429 (``retry_after`` from the body, float
  seconds), a 5xx, a timeout or a connection error (``maybe_sent`` when the request may have
  been carried out);
* :class:`~tocsin.platforms.discord.ratelimit.DiscordStopped` when the bot token is refused, or
  permissions are refused again and again (then nothing more is sent for a while);
* :class:`~tocsin.platforms.discord.ratelimit.DiscordRefused` for any other 4xx (``code`` is
  Discord's error code, such as 10003 Unknown Channel).
"""

from __future__ import annotations

from typing import Any

import httpx

from tocsin import __version__
from tocsin.delivery.base import RetryableError
from tocsin.platforms.discord.ratelimit import (
    DiscordRefused,
    DiscordStopped,
    InvalidRequestGuard,
    RateLimiter,
    route_key,
)

DEFAULT_API_URL = "https://discord.com/api/v10"
USER_AGENT = f"DiscordBot (https://pypi.org/project/tocsin/, {__version__})"


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _float(value: Any, default: float) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return default


class DiscordRest:
    """One bot token, one base URL, one httpx client, its rate limiter and its guard."""

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_API_URL,
        *,
        timeout: float = 10.0,
        limiter: RateLimiter | None = None,
        guard: InvalidRequestGuard | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.limiter = limiter or RateLimiter()
        self.guard = guard or InvalidRequestGuard()
        self._auth = f"Bot {token}"
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
    ) -> Any:
        """``method path`` (``"/channels/123/messages"``); the JSON answer, or None for 204."""
        self.guard.check(auth=auth)
        route, major = route_key(method, path)
        await self.limiter.acquire(route, major)
        headers = {"Authorization": self._auth} if auth else {}
        writes = method.upper() != "GET"
        try:
            response = await self._client.request(
                method, path, json=json, params=params, headers=headers
            )
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise RetryableError(f"Discord {route}: could not connect in time") from exc
        except httpx.TimeoutException as exc:
            raise RetryableError(f"Discord {route}: timed out", maybe_sent=writes) from exc
        except httpx.TransportError as exc:
            raise RetryableError(f"Discord {route}: {type(exc).__name__}: {exc}") from exc
        self.limiter.update(route, major, response.headers)
        return self._result(route, major, response, auth=auth, writes=writes)

    def _result(
        self, route: str, major: str, response: httpx.Response, *, auth: bool, writes: bool
    ) -> Any:
        status = response.status_code
        body = _body(response) if status >= 300 else {}
        scope = response.headers.get("x-ratelimit-scope", "")
        self.guard.record(status, auth=auth, scope=scope, code=body.get("code"))
        if status < 300:
            return response.json() if response.content else None
        if status == 429:
            wait = _float(body.get("retry_after"), _float(response.headers.get("retry-after"), 1.0))
            everything = bool(body.get("global")) or response.headers.get(
                "x-ratelimit-global", ""
            ).lower() in ("true", "1")
            self.limiter.limited(route, major, wait, everything=everything)
            scope = " (global)" if everything else ""
            raise RetryableError(f"Discord rate limit on {route}{scope}: retry after {wait}s", wait)
        if auth and status in (401, 403) and self.guard.stopped:
            raise DiscordStopped(self.guard.reason)
        if status >= 500 or status == 408:
            raise RetryableError(f"Discord {route}: HTTP {status}", maybe_sent=writes)
        code = body.get("code")
        raise DiscordRefused(
            route,
            status,
            code if isinstance(code, int) else 0,
            str(body.get("message") or "")[:200],
        )

    async def aclose(self) -> None:
        await self._client.aclose()
