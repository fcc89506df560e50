"""A fake Discord REST API on 127.0.0.1, for tocsin's httpx client.

Built on :class:`tests.fakes.http_fake.FakeServer`. Every request is checked against Discord's
OpenAPI description (:mod:`fakes.discord_spec`): an unknown route answers 404, a body that does not
fit the route's schema (or has a field the schema does not name) answers 400 Invalid Form Body,
and both are recorded in :attr:`FakeDiscord.violations` so a test can assert there were none. Bot
routes want ``Authorization: Bot <token>``; interaction webhooks take no header.

State is kept like Discord keeps it (channels and threads, messages with nonces, pins, thread
members, permission overwrites, application commands, interaction originals), every answer
carries ``X-RateLimit-*`` headers from a real per-route bucket (tight ones with :meth:`limit`),
and failures are scriptable::

    discord.rate_limit("POST", "/channels/{channel_id}/messages", example="global")
    discord.fail("POST", "/guilds/{guild_id}/channels", 403, 50013, "Missing Permissions")
    discord.revoke_token()                              # every bot request: 401
    discord.limit("POST", "/channels/{channel_id}/messages", 2, per=0.5)

429 answers reuse the three documented examples
(``tests/fixtures/discord/docs_examples/rate_limit_429_examples.json``), headers and body,
with ``retry_after`` shortened when a test asks.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakes import FIXTURES
from fakes.discord_guild import (
    ANNOUNCE,
    APPLICATION_ID,
    BOT_USER_ID,
    GUILD_ID,
    Guild,
    error,
    params,
)
from fakes.discord_spec import check_request, match
from fakes.http_fake import FakeServer, Reply, Request

__all__ = ["ANNOUNCE", "APPLICATION_ID", "BOT_TOKEN", "BOT_USER_ID", "GUILD_ID", "FakeDiscord"]

EXAMPLES = FIXTURES / "discord" / "docs_examples"
BASE = "/api/v10"
BOT_TOKEN = "fake-discord-bot-token"


def rate_limit_examples() -> dict[str, Any]:
    return dict(json.loads((EXAMPLES / "rate_limit_429_examples.json").read_text()))


@dataclass(frozen=True)
class Call:
    method: str
    template: str
    path: str
    body: Any
    headers: dict[str, str]


class FakeDiscord(Guild):
    """The fake server, in front of the guild it pretends to be."""

    def __init__(self, *, route_limit: int = 50, window: float = 1.0) -> None:
        super().__init__()
        self.server = FakeServer(default=self._handle)
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.rate_limited: list[str] = []
        self.token_valid = True
        self.default_limit = (route_limit, window)
        self.clock: Callable[[], float] = time.monotonic  # the buckets' clock; tests may move it
        self._limits: dict[tuple[str, str], tuple[int, float]] = {}
        self._windows: dict[tuple[str, str, str], tuple[float, int]] = {}
        self._scripts: dict[tuple[str, str], list[Reply]] = {}

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> FakeDiscord:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeDiscord:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        return f"{self.server.url}{BASE}"

    # --- scripting ------------------------------------------------------------------------
    def _script(self, method: str, template: str, reply: Reply, times: int) -> None:
        with self._lock:
            self._scripts.setdefault((method, template), []).extend([reply] * times)

    def fail(
        self,
        method: str,
        template: str,
        status: int,
        code: int = 0,
        message: str = "",
        times: int = 1,
    ) -> None:
        self._script(method, template, error(status, code, message or f"{status}"), times)

    def rate_limit(
        self,
        method: str,
        template: str,
        *,
        example: str = "user",
        retry_after: float | None = None,
        times: int = 1,
    ) -> dict[str, Any]:
        """Answer the next request(s) with a documented 429; returns the body sent."""
        found = rate_limit_examples()[example]
        body = dict(found["body"])
        headers = {k: v for k, v in found["headers"].items() if k.lower() != "content-type"}
        if retry_after is not None:
            body["retry_after"] = retry_after
            headers["Retry-After"] = str(max(1, round(retry_after)))
            if "X-RateLimit-Reset-After" in headers:
                headers["X-RateLimit-Reset-After"] = str(retry_after)
        self._script(method, template, Reply(429, json=body, headers=headers), times)
        return body

    def limit(self, method: str, template: str, count: int, *, per: float) -> None:
        """A real bucket: ``count`` requests per ``per`` seconds, then 429s."""
        with self._lock:
            self._limits[(method, template)] = (count, per)

    def revoke_token(self) -> None:
        self.token_valid = False

    # --- reading --------------------------------------------------------------------------
    def calls_to(self, method: str, template: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and c.template == template]

    # --- serving --------------------------------------------------------------------------
    def _handle(self, request: Request) -> Reply:
        path = request.path.removeprefix(BASE)
        template = match(request.method, path) if request.path.startswith(BASE) else None
        with self._lock:
            if template is None:
                self.violations.append(f"no such Discord route: {request.method} {request.path}")
                return error(404, 0, "404: Not Found")
            body = request.json() if request.body else None
            self.calls.append(Call(request.method, template, path, body, request.headers))
            reply = self._refusal(request, template, body)
            if reply is None:
                reply = self._answer(request, template, path, body)
            return reply

    def _refusal(self, request: Request, template: str, body: Any) -> Reply | None:
        problems = check_request(request.method, template, body)
        if problems:
            self.violations += [f"{request.method} {template}: {p}" for p in problems]
            return Reply(
                400, json={"code": 50035, "message": "Invalid Form Body", "errors": problems}
            )
        if not (request.header("user-agent") or "").startswith("DiscordBot ("):
            self.violations.append(
                f"{request.method} {template}: User-Agent is not DiscordBot (...)"
            )
        if template.startswith(("/webhooks/", "/interactions/")):
            return None
        if not self.token_valid or request.header("authorization") != f"Bot {BOT_TOKEN}":
            return error(401, 0, "401: Unauthorized")
        return None

    def _answer(self, request: Request, template: str, path: str, body: Any) -> Reply:
        key = (request.method, template)
        headers = self._bucket(request.method, template, path)
        script = self._scripts.get(key)
        if script:
            reply = script.pop(0)
        elif headers is None:
            reply = self._too_fast(request.method, template, path)
        else:
            impl = self.handlers.get(key)
            if impl is None:
                self.violations.append(f"the fake does not implement {request.method} {template}")
                return error(404, 0, "404: Not Found")
            names = params(template, path)
            reply = impl(names, copy.deepcopy(body))
            reply.headers = {**(headers or {}), **reply.headers}
        if reply.status == 429:
            self.rate_limited.append(f"{request.method} {template}")
        return reply

    def _bucket(self, method: str, template: str, path: str) -> dict[str, str] | None:
        """Count the request in its bucket: its headers, or None when the bucket is empty."""
        count, per = self._limits.get((method, template), self.default_limit)
        major = path.strip("/").split("/")[1] if path.count("/") > 1 else ""
        now = self.clock()
        start, used = self._windows.get((method, template, major), (now, 0))
        if now - start >= per:
            start, used = now, 0
        if used >= count:
            return None
        self._windows[(method, template, major)] = (start, used + 1)
        reset_after = max(0.0, start + per - now)
        return {
            "X-RateLimit-Limit": str(count),
            "X-RateLimit-Remaining": str(count - used - 1),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": f"bucket-{abs(hash((method, template))) % 10**8}",
        }

    def _too_fast(self, method: str, template: str, path: str) -> Reply:
        count, per = self._limits.get((method, template), self.default_limit)
        major = path.strip("/").split("/")[1] if path.count("/") > 1 else ""
        start, _ = self._windows[(method, template, major)]
        wait = max(0.001, start + per - self.clock())
        body = {
            "message": "You are being rate limited.",
            "retry_after": round(wait, 3),
            "global": False,
        }
        headers = {
            "Retry-After": str(max(1, round(wait))),
            "X-RateLimit-Limit": str(count),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": f"{wait:.3f}",
            "X-RateLimit-Scope": "user",
        }
        return Reply(429, json=body, headers=headers)
