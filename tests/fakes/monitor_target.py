"""Targets for the monitor checker on 127.0.0.1: a tiny HTTP server whose answer tests change
(status, body, how long it "takes" on an injected counter, a redirect), a TCP listener that can
go away, and a resolver that maps names to the addresses a test wants (the
:class:`~tocsin.services.address_guard.AddressGuard` seam)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from dataclasses import dataclass, field


@dataclass
class Counter:
    """A stand-in for ``time.perf_counter`` that the HTTP target moves while it answers."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class HttpTarget:
    status: int = 200
    body: str = "all ok"
    takes: float = 0.0  # seconds added to ``counter`` while answering
    counter: Counter = field(default_factory=Counter)
    location: str | None = None  # answered as a Location header (with a 3xx status)
    requests: int = 0
    heads: list[str] = field(default_factory=list)  # each request's head, as received
    _server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def url(self, path: str = "/health") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def start(self) -> HttpTarget:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            self.heads.append((await reader.readuntil(b"\r\n\r\n")).decode("latin-1"))
            self.requests += 1
            self.counter.now += self.takes
            body = self.body.encode()
            head = f"HTTP/1.1 {self.status} X\r\nContent-Length: {len(body)}\r\n"
            if self.location is not None:
                head += f"Location: {self.location}\r\n"
            writer.write(head.encode() + b"Connection: close\r\n\r\n" + body)
            await writer.drain()
        writer.close()


@dataclass
class TcpTarget:
    _server: asyncio.Server | None = None
    port: int = 0

    async def start(self) -> TcpTarget:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()


@dataclass
class Resolver:
    """Names to addresses, as the test says; an IP address is itself, any other name resolves
    to nothing. ``asked`` records every lookup."""

    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def __call__(self, host: str) -> tuple[str, ...]:
        self.asked.append(host)
        if host in self.names:
            return self.names[host]
        try:
            return (str(ipaddress.ip_address(host)),)
        except ValueError:
            return ()
