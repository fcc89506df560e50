"""A programmable HTTP server on 127.0.0.1 for tests: the base of the fake Slack, Discord,
Statuspage and webhook servers.

It runs uvicorn on a free port in a background thread (so a busy test event loop never slows it
down, and a subprocess under test can reach it too), records every request, and answers by
rules you set::

    with FakeServer() as fake:                        # default answer: 200 {"ok": true}
        fake.route("POST", "/hook", Reply(202))       # a fixed answer for one route
        fake.route("GET", "/items", lambda req: Reply(json={"q": req.query}))  # computed
        fake.script("POST", "/hook", Reply(429, headers={"Retry-After": "1"}), Reply(503))
        fake.outage(Reply(503), seconds=2.0)          # every request gets 503 for 2 s
        fake.route("POST", "/slow", Reply(delay=5))   # answers after 5 s (client timeouts)
        ... fake.url ...  fake.requests  fake.requests_to("/hook")

Precedence for each request: an outage in force, then the route's scripted one-shot replies (in
order), then the route's answer, then the default. Handlers may be plain or async functions of a
:class:`Request`; they run on the server's thread. :class:`IdempotencySink` is a handler that
applies each idempotency key once and counts repeats, like a receiver that deduplicates.
"""

from __future__ import annotations

import asyncio
import inspect
import json as jsonlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn


@dataclass
class Reply:
    """An answer: status, a JSON or raw body, headers, and an optional delay before it."""

    status: int = 200
    json: Any = None
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def encode(self) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.json is not None:
            payload = jsonlib.dumps(self.json).encode()
            headers.setdefault("content-type", "application/json")
        else:
            payload = self.body.encode() if isinstance(self.body, str) else self.body
        headers["content-length"] = str(len(payload))
        return payload, [(k.encode(), v.encode()) for k, v in headers.items()]


@dataclass(frozen=True)
class Request:
    """A request as received. ``headers`` keys are lower case; ``at`` is time.monotonic()."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return jsonlib.loads(self.body or b"null")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


Handler = Callable[[Request], "Reply | Awaitable[Reply]"]
Answer = Reply | Handler


class IdempotencySink:
    """A handler that applies each value of ``header`` once: ``applied`` keeps first arrivals
    in order, ``received`` counts every arrival per key."""

    def __init__(self, header: str = "Idempotency-Key", reply: Reply | None = None) -> None:
        self.header = header
        self.reply = reply or Reply(200, json={"ok": True})
        self.applied: list[str] = []
        self.received: Counter[str] = Counter()
        self.bodies: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        key = request.header(self.header) or ""
        with self._lock:
            self.received[key] += 1
            if self.received[key] == 1:
                self.applied.append(key)
                self.bodies[key] = request.json() if request.body else None
        return self.reply

    @property
    def repeats(self) -> int:
        """Requests that carried a key already applied."""
        return sum(n - 1 for n in self.received.values())


class FakeServer:
    def __init__(self, default: Answer | None = None) -> None:
        self.default: Answer = default or Reply(200, json={"ok": True})
        self.requests: list[Request] = []
        self._routes: dict[tuple[str, str], Answer] = {}
        self._scripts: dict[tuple[str, str], list[Reply]] = {}
        self._outage: tuple[Reply, float] | None = None
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- programming ------------------------------------------------------------------------
    def route(self, method: str, path: str, answer: Answer) -> None:
        """Answer ``method`` (or ``"*"``) ``path`` with a fixed reply or a handler."""
        with self._lock:
            self._routes[(method.upper(), path)] = answer

    def script(self, method: str, path: str, *replies: Reply) -> None:
        """Queue one-shot replies for the next requests to ``method path``, in order."""
        with self._lock:
            self._scripts.setdefault((method.upper(), path), []).extend(replies)

    def outage(self, reply: Reply | None = None, seconds: float = float("inf")) -> None:
        """Answer every request with ``reply`` (503 by default) for ``seconds``."""
        with self._lock:
            self._outage = (reply or Reply(503, json={"error": "down"}), time.monotonic() + seconds)

    def restore(self) -> None:
        """End an outage now."""
        with self._lock:
            self._outage = None

    def reset(self) -> None:
        """Forget requests, routes, scripts and outages."""
        with self._lock:
            self.requests.clear()
            self._routes.clear()
            self._scripts.clear()
            self._outage = None

    # --- reading ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests_to(self, path: str, method: str | None = None) -> list[Request]:
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path == path and (method is None or r.method == method.upper())
            ]

    async def wait_for(
        self, predicate: Callable[[], bool], within: float = 5.0, interval: float = 0.01
    ) -> None:
        """Poll ``predicate`` until it holds; AssertionError after ``within`` seconds."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {within}s")
            await asyncio.sleep(interval)

    # --- serving ----------------------------------------------------------------------------
    def _answer_for(self, request: Request) -> Answer:
        key = (request.method, request.path)
        with self._lock:
            if self._outage is not None:
                reply, until = self._outage
                if time.monotonic() < until:
                    return reply
                self._outage = None
            for candidate in (key, ("*", request.path)):
                script = self._scripts.get(candidate)
                if script:
                    return script.pop(0)
            return self._routes.get(key) or self._routes.get(("*", request.path)) or self.default

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request = Request(
            scope["method"],
            scope["path"],
            scope.get("query_string", b"").decode(),
            headers,
            body,
            time.monotonic(),
        )
        with self._lock:
            self.requests.append(request)
        answer = self._answer_for(request)
        reply = answer(request) if callable(answer) else answer
        if inspect.isawaitable(reply):
            reply = await reply
        if reply.delay:
            await asyncio.sleep(reply.delay)
        payload, raw_headers = reply.encode()
        await send({"type": "http.response.start", "status": reply.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})

    def start(self) -> FakeServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self,
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake HTTP server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._server.force_exit = True  # do not wait for delayed answers still running
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
