"""Making one check: an HTTP(S) request with httpx or a TCP connect with asyncio.

:func:`probe` returns the :class:`~tocsin.domain.monitors.Observation` the domain judges. It
never raises for a target that misbehaves (refused, reset, timed out, bad TLS, a name that does
not resolve): that is what a check is for. It is called outside any unit of work.

With ``follow_redirects`` the probe follows up to
:data:`~tocsin.domain.monitors.ssrf.MAX_REDIRECTS` redirects itself (the shared client never
does): 303, and 301/302 after a POST, continue with GET; the monitor's headers are sent to the
first origin only. A restricted monitor (see :class:`~tocsin.services.address_guard.AddressGuard`)
has its host resolved again at every check and every hop through the guard's resolver; any
internal address fails the check as :attr:`ConnectError.BLOCKED` before anything is sent, and
otherwise the connection goes to the address that was checked (the URL's host still names the
``Host`` header and the TLS server name), so a name that changes its answer between the check and
the connect (DNS rebinding) cannot lead inside.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from tocsin.domain.monitors import ConnectError, Monitor, MonitorKind, Observation, target_allowed
from tocsin.domain.monitors.ssrf import MAX_REDIRECTS, redirect_url, same_origin, target_host
from tocsin.services.address_guard import AddressGuard, Resolver

BODY_LIMIT = 64 * 1024  # the excerpt of the body searched for keywords


class _Refused(Exception):
    """The guard refused the host: ``error`` is BLOCKED, or DNS when it resolves to nothing."""

    def __init__(self, error: ConnectError) -> None:
        super().__init__(str(error))
        self.error = error


async def probe(
    monitor: Monitor,
    client: httpx.AsyncClient,
    clock: Callable[[], datetime],
    counter: Callable[[], float] = time.perf_counter,
    guard: AddressGuard | None = None,
) -> Observation:
    """Check ``monitor`` once; ``clock`` stamps the check and ``counter`` (seconds) times it.
    ``guard`` holds a restricted monitor to public addresses (None: no guard)."""
    at = clock()
    started = counter()
    resolve = guard.resolve if guard is not None and guard.applies(monitor.restricted) else None

    def elapsed() -> int:
        return round((counter() - started) * 1000)

    try:
        if monitor.kind is MonitorKind.TCP:
            await _connect(monitor, resolve)
            return Observation(at, elapsed())
        return await _http(monitor, client, at, elapsed, resolve)
    except _Refused as refused:
        return Observation(at, error=refused.error)
    except (TimeoutError, httpx.TimeoutException):
        return Observation(at, error=ConnectError.TIMEOUT)
    except (OSError, httpx.TransportError) as exc:
        return Observation(at, error=_connect_error(exc))
    except httpx.InvalidURL:  # a redirect to a URL httpx cannot use
        return Observation(at, error=ConnectError.OTHER)


async def _pin(host: str, resolve: Resolver | None) -> str | None:
    """The checked address to connect to instead of ``host`` (None when unguarded)."""
    if resolve is None:
        return None
    addresses = await resolve(host) if host else ()
    if not addresses:
        raise _Refused(ConnectError.DNS)
    if not target_allowed(addresses):
        raise _Refused(ConnectError.BLOCKED)
    return addresses[0]


async def _connect(monitor: Monitor, resolve: Resolver | None) -> None:
    host, port = target_host(monitor.target), monitor.target.rpartition(":")[2]
    host = await _pin(host, resolve) or host
    opening = asyncio.open_connection(host, int(port))
    _reader, writer = await asyncio.wait_for(opening, monitor.timeout_seconds)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def _request(
    client: httpx.AsyncClient,
    monitor: Monitor,
    method: str,
    url: str,
    headers: dict[str, str],
    resolve: Resolver | None,
) -> httpx.Request:
    """The request for one hop; guarded, it goes to the checked address."""
    parsed = httpx.URL(url)
    address = await _pin(parsed.host, resolve)
    if address is None:
        return client.build_request(
            method, parsed, headers=headers, timeout=monitor.timeout_seconds
        )
    extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
    return client.build_request(
        method, parsed.copy_with(host=address),
        headers={"Host": parsed.netloc.decode("ascii"), **headers},
        timeout=monitor.timeout_seconds, extensions=extensions,
    )  # fmt: skip


async def _http(
    monitor: Monitor,
    client: httpx.AsyncClient,
    at: datetime,
    elapsed: Callable[[], int],
    resolve: Resolver | None,
) -> Observation:
    url, method, headers = monitor.url, monitor.method, dict(monitor.headers)
    hops = MAX_REDIRECTS if monitor.follow_redirects else 0
    for hop in range(hops + 1):
        request = await _request(client, monitor, method, url, headers, resolve)
        response = await client.send(request, stream=True)
        following = hop < hops and response.has_redirect_location
        target = redirect_url(url, response.headers["location"]) if following else None
        if target is None:
            break
        await response.aclose()
        if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
            method = "GET"
        if not same_origin(url, target):
            headers = {}
        url = target
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
