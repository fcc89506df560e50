"""The private-address guard's parts that touch the network: resolving a host, and the setting.

:class:`AddressGuard` is on the :class:`~tocsin.services.context.Context` (``ctx.address_guard``):
``allow_private`` is TOCSIN_MONITOR_ALLOW_PRIVATE, and ``resolve`` the one seam every lookup goes
through (creation by a non-admin, and every check of a restricted monitor), so tests map names to
the addresses they want. The rule itself is :func:`tocsin.domain.monitors.target_allowed`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Resolver = Callable[[str], Awaitable[tuple[str, ...]]]
"""A host name to the addresses it resolves to (empty when it does not resolve)."""


async def system_resolve(host: str) -> tuple[str, ...]:
    """The host's addresses from the system resolver (an IP address is itself), in its order."""
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return ()
    return tuple(dict.fromkeys(str(info[4][0]) for info in found))


@dataclass(frozen=True, slots=True)
class AddressGuard:
    allow_private: bool = False
    resolve: Resolver = system_resolve

    def applies(self, restricted: bool) -> bool:
        """Is a monitor with this ``restricted`` flag held to public addresses?"""
        return restricted and not self.allow_private
