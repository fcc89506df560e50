"""Calls to the Slack Web API through slack_sdk's ``AsyncWebClient``, with errors mapped once.

:meth:`SlackApi.call` returns the response body or raises:

* :class:`~tocsin.delivery.base.RetryableError`: HTTP 429 or ``ratelimited`` (``retry_after`` from
  ``Retry-After``), HTTP 5xx, Slack's transient errors (``internal_error``, ``fatal_error``,
  ``service_unavailable``, ``request_timeout``), timeouts and connection errors. A timeout while
  waiting for the answer sets ``maybe_sent``: Slack may have done it.
* :class:`SlackRefused` (a :class:`~tocsin.delivery.base.PermanentError`) for every other
  ``ok: false``; ``code`` is Slack's error (``invalid_auth``, ``channel_not_found``,
  ``name_taken``, ...), so callers can handle the ones they expect.

The SDK's own retry handlers are switched off: the outbox owns retries, backoff and pacing.

slack_sdk's async client and aiohttp are imported on the first call, not at start-up: together
they are ~12 MB of memory that a process which has not yet spoken to Slack does not need.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from tocsin.delivery.base import DeliveryError, PermanentError, RetryableError

if TYPE_CHECKING:
    import aiohttp
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

DEFAULT_BASE_URL = "https://slack.com/api/"
TRANSIENT = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class SlackRefused(PermanentError):
    """Slack answered ``ok: false`` with an error retrying cannot fix."""

    def __init__(self, method: str, code: str) -> None:
        super().__init__(f"Slack {method} failed: {code}")
        self.method = method
        self.code = code


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def mapped(method: str, exc: SlackApiError) -> DeliveryError:
    """The delivery error for a Slack error response."""
    response = exc.response
    status = int(getattr(response, "status_code", 200) or 200)
    data = getattr(response, "data", None)
    code = str(data.get("error") or "") if isinstance(data, dict) else ""
    if status == 429 or code == "ratelimited":
        headers = getattr(response, "headers", None) or {}
        seconds = _retry_after(headers.get("Retry-After"))
        return RetryableError(f"Slack {method}: rate limited", seconds)
    if status >= 500 or code in TRANSIENT:
        return RetryableError(f"Slack {method}: {code or f'HTTP {status}'}")
    return SlackRefused(method, code or f"http_{status}")


class SlackApi:
    """One bot token, one base URL, one aiohttp session (opened lazily, closed by aclose)."""

    def __init__(self, token: str, base_url: str = DEFAULT_BASE_URL, *, timeout: float = 10.0):
        self.token = token
        self.base_url = base_url
        self.timeout = timeout
        self._client: AsyncWebClient | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def client(self) -> AsyncWebClient:
        if self._client is None:
            from slack_sdk.web.async_client import AsyncWebClient

            self._client = AsyncWebClient(
                token=self.token,
                base_url=self.base_url,
                timeout=int(max(1, self.timeout)),
                retry_handlers=[],
            )
        return self._client

    def _ensure_session(self) -> None:
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self.client.session = self._session

    async def call(self, method: str, *, within: float | None = None, **args: Any) -> Any:
        """Call ``method`` (``"chat.postMessage"``) with keyword ``args``; the body as a dict.
        ``within``: give up (retryable, maybe sent) after that many seconds."""
        import aiohttp
        from slack_sdk.errors import SlackApiError, SlackClientError

        self._ensure_session()
        function = getattr(self.client, method.replace(".", "_"))
        try:
            async with asyncio.timeout(within):
                response = await function(**args)
        except SlackApiError as exc:
            raise mapped(method, exc) from None
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise RetryableError(f"Slack {method}: timed out", maybe_sent=True) from exc
        except (aiohttp.ClientError, OSError, SlackClientError) as exc:
            raise RetryableError(f"Slack {method}: {type(exc).__name__}: {exc}") from exc
        return response.data

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


class SlackWeb:
    """The two calls a request handler may make inline, each within a short timeout:
    ``views.open`` (a ``trigger_id`` lives about 3 seconds, so it cannot wait for the outbox) and
    reading one message's text for a 📌 reaction. Everything else goes through the outbox."""

    def __init__(self, api: SlackApi, *, timeout: float = 2.0) -> None:
        self.api = api
        self.timeout = timeout

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> str | None:
        """Open a modal; None when it opened, else a short reason."""
        try:
            await self.api.call("views.open", within=self.timeout, trigger_id=trigger_id, view=view)
        except DeliveryError as exc:
            return str(exc)
        return None

    async def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message ``ts`` in ``channel``, or None when it cannot be read now."""
        try:
            data = await self.api.call(
                "conversations.history",
                within=self.timeout,
                channel=channel,
                latest=ts,
                inclusive=True,
                limit=1,
            )
        except DeliveryError:
            return None
        for message in data.get("messages") or []:
            if message.get("ts") == ts:
                return dict(message)
        return None

    async def aclose(self) -> None:
        await self.api.aclose()
