"""Which monitor targets are inside the network tocsin runs in.

A monitor created through the API by someone who is not an admin must not be able to probe
tocsin's own network (a server-side request forgery): unless TOCSIN_MONITOR_ALLOW_PRIVATE is set,
the checker refuses a target when any address it resolves to is private, loopback, link-local,
multicast, reserved, unspecified or otherwise not globally reachable. Every resolved address is
checked (a name that resolves to a public and a private address is refused), and IPv4 addresses
written as IPv6 (``::ffff:10.0.0.1``) are judged as the IPv4 address they stand for.

A check that follows redirects (``follow_redirects``) takes at most :data:`MAX_REDIRECTS` hops;
:func:`redirect_url` is where one leads, and each hop's host (:func:`url_host`) is judged by the
same rule before it is connected to.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

__all__ = [
    "MAX_REDIRECTS", "blocked_addresses", "is_internal", "redirect_url", "same_origin",
    "target_allowed", "target_host", "url_host",
]  # fmt: skip

MAX_REDIRECTS = 5

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse(address: str) -> _Address | None:
    try:
        parsed = ipaddress.ip_address(address.strip().strip("[]").split("%")[0])
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address):
        return parsed.ipv4_mapped or parsed.sixtofour or parsed
    return parsed


def is_internal(address: str) -> bool:
    """True for a private, loopback, link-local, multicast, reserved or unspecified address, for
    any other address that is not globally reachable (carrier-grade NAT ``100.64.0.0/10``,
    documentation ranges …), and for anything that is not an IP address at all (it cannot be
    shown to be public)."""
    parsed = _parse(address)
    if parsed is None:
        return True
    return (
        not parsed.is_global
        or parsed.is_private
        or parsed.is_loopback
        or parsed.is_link_local
        or parsed.is_multicast
        or parsed.is_reserved
        or parsed.is_unspecified
    )


def blocked_addresses(addresses: Iterable[str]) -> tuple[str, ...]:
    """The resolved addresses that make a target internal, in the order given."""
    return tuple(address for address in addresses if is_internal(address))


def target_allowed(addresses: Iterable[str], allow_private: bool = False) -> bool:
    """May the checker connect to a target resolving to ``addresses``? Never with no address;
    with ``allow_private`` (TOCSIN_MONITOR_ALLOW_PRIVATE, or an admin's monitor) any address."""
    resolved = tuple(addresses)
    if not resolved:
        return False
    return allow_private or not blocked_addresses(resolved)


def url_host(url: str) -> str:
    """The host of an http(s) URL, without brackets or port (``""`` when there is none)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def target_host(target: str) -> str:
    """The host of a tcp ``host:port`` target, without the brackets of an IPv6 address."""
    return target.rpartition(":")[0].strip("[]")


def redirect_url(current: str, location: str) -> str | None:
    """The absolute URL a redirect from ``current`` to ``location`` leads to, or None when it
    leads anywhere but an http(s) URL with a host (``file:``, ``gopher:``, no host …)."""
    try:
        joined = urljoin(current, location.strip())
        parts = urlsplit(joined)
        has_host = bool(parts.hostname)
        _ = parts.port  # a port that is not a number raises
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not has_host:
        return None
    return joined


def same_origin(first: str, second: str) -> bool:
    """Same scheme, host and port (headers set for one origin are not sent to another)."""
    a, b = urlsplit(first), urlsplit(second)
    return (a.scheme.lower(), a.hostname, a.port) == (b.scheme.lower(), b.hostname, b.port)
