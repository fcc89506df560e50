"""The metrics listener of a process without the web app (``tocsin worker``, docs/operations.md):
``GET /metrics``, the process's registry in Prometheus text, exactly as ``tocsin serve`` answers
it, and ``GET /healthz``, 200 while the process runs and 503 once it is stopping.

The socket is bound by :func:`bind` before anything else starts, so a port that is taken is a
start-up error and port 0 gives a free port (:attr:`MetricsListener.port`); uvicorn then serves
on it inside the process's event loop, without its own signal handlers (the process owns them)
and without an access log.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tocsin import __version__
from tocsin.observability.metrics import Metrics, render
from tocsin.responses import JSONResponse


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv6 when ``host`` has a colon); raises
    OSError when the address cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the process owns SIGTERM and SIGINT
        yield


class MetricsListener:
    """Serves ``/metrics`` and ``/healthz`` on ``sock`` from :meth:`start` to :meth:`stop`."""

    def __init__(self, metrics: Metrics, sock: socket.socket) -> None:
        self.metrics = metrics
        self.sock = sock
        self.stopping = False
        app = Starlette(routes=[Route("/metrics", self._metrics), Route("/healthz", self._health)])
        config = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="off", server_header=False
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    async def _metrics(self, request: Request) -> Response:
        body, content_type = render(self.metrics)
        return Response(body, media_type=content_type)

    async def _health(self, request: Request) -> Response:
        if self.stopping:
            return JSONResponse({"status": "stopping", "version": __version__}, status_code=503)
        return JSONResponse({"status": "ok", "version": __version__})

    def start(self) -> None:
        self._task = asyncio.create_task(
            self._server.serve(sockets=[self.sock]), name="tocsin-metrics-listener"
        )

    async def stop(self) -> None:
        """Stop serving (requests in flight finish) and close the socket."""
        self.stopping = True
        self._server.should_exit = True
        if self._task is not None:
            await self._task
        self.sock.close()
