"""Making one check: an HTTP(S) request with httpx or a TCP connect with asyncio.

:func:`probe` returns the :class:`~tocsin.domain.monitors.Observation` the domain judges. It
never raises for a target that misbehaves (refused, reset, timed out, bad TLS, a name that does
not resolve): that is what a check is for. It is called outside any unit of work.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from tocsin.domain.monitors import ConnectError, Monitor, MonitorKind, Observation

BODY_LIMIT = 64 * 1024  # the excerpt of the body searched for keywords


async def probe(
    monitor: Monitor,
    client: httpx.AsyncClient,
    clock: Callable[[], datetime],
    counter: Callable[[], float] = time.perf_counter,
) -> Observation:
    """Check ``monitor`` once; ``clock`` stamps the check and ``counter`` (seconds) times it."""
    at = clock()
    started = counter()

    def elapsed() -> int:
        return round((counter() - started) * 1000)

    try:
        if monitor.kind is MonitorKind.TCP:
            await _connect(monitor)
            return Observation(at, elapsed())
        return await _http(monitor, client, at, elapsed)
    except (TimeoutError, httpx.TimeoutException):
        return Observation(at, error=ConnectError.TIMEOUT)
    except (OSError, httpx.TransportError) as exc:
        return Observation(at, error=_connect_error(exc))


async def _connect(monitor: Monitor) -> None:
    host, _, port = monitor.target.rpartition(":")
    opening = asyncio.open_connection(host.strip("[]"), int(port))
    _reader, writer = await asyncio.wait_for(opening, monitor.timeout_seconds)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def _http(
    monitor: Monitor, client: httpx.AsyncClient, at: datetime, elapsed: Callable[[], int]
) -> Observation:
    request = client.build_request(
        monitor.method, monitor.url, headers=dict(monitor.headers),
        timeout=monitor.timeout_seconds,
    )  # fmt: skip
    response = await client.send(request, stream=True)
    try:
        cert = _not_after(response)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) >= BODY_LIMIT:
                break
    finally:
        await response.aclose()
    text = bytes(body[:BODY_LIMIT]).decode("utf-8", "replace")
    return Observation(at, elapsed(), response.status_code, text, cert)


def _not_after(response: httpx.Response) -> datetime | None:
    """The peer certificate's expiry, read from the open connection (https only)."""
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    sock = stream.get_extra_info("ssl_object")
    if not isinstance(sock, ssl.SSLObject | ssl.SSLSocket):
        return None
    cert = sock.getpeercert()
    not_after = cert.get("notAfter") if cert else None
    if not isinstance(not_after, str):
        return None
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)


def _connect_error(exc: BaseException) -> ConnectError:
    chain = _causes(exc)  # httpx wraps the OSError ("All connection attempts failed" …)
    text = " ".join(f"{type(e).__name__} {e}" for e in chain).lower()
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
        return ConnectError.REFUSED
    if any(isinstance(e, ConnectionResetError) for e in chain) or "reset" in text:
        return ConnectError.RESET
    if "ssl" in text or "certificate" in text or "tls" in text:
        return ConnectError.TLS
    if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
        return ConnectError.DNS
    return ConnectError.OTHER


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it was raised from, outermost first (at most 8 deep)."""
    chain = [exc]
    while len(chain) < 8:
        cause = chain[-1].__cause__ or chain[-1].__context__
        if cause is None or cause in chain:
            break
        chain.append(cause)
    return chain
