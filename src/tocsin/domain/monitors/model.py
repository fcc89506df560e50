"""The monitor as the policy file (or the API) defines it, and one observed check result.

A :class:`Monitor` is checked every ``interval_seconds``; each check gives an
:class:`Observation` (what the checker saw) that :func:`tocsin.domain.monitors.checks.evaluate`
turns into an :class:`Outcome` (ok or failed, and why). Times are aware UTC datetimes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

__all__ = ["ConnectError", "Monitor", "MonitorKind", "Observation", "Outcome"]


class MonitorKind(enum.StrEnum):
    HTTP = "http"  # an HTTP(S) request to ``url``
    TCP = "tcp"  # a TCP connect to ``target`` (host:port)


class ConnectError(enum.StrEnum):
    """Why a check got no answer at all; the value is the reason shown to people."""

    TIMEOUT = "timeout"
    REFUSED = "connection refused"
    RESET = "connection reset"
    DNS = "name not resolved"
    TLS = "TLS handshake failed"
    BLOCKED = "private address not allowed"
    OTHER = "connection failed"


def _no_headers() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Monitor:
    """One ``[[monitor]]``.

    ``expect_status`` empty means any 2xx. ``keyword`` must appear in the body and
    ``absent_keyword`` must not. ``down_after`` failed checks in a row make it down and
    ``up_after`` good checks in a row make it up again. ``component`` is the status-page component
    it drives, set to ``component_status`` while it is down. With ``follow_redirects`` an
    http check follows up to five redirects itself.

    ``source`` says where it is defined: ``"policy"`` (the policy file) or ``"api"`` (stored,
    created through the API or the CLI). A ``restricted`` monitor (created by someone who is not
    an admin) may only reach public addresses, re-checked at every check and every redirect
    (:mod:`tocsin.domain.monitors.ssrf`).
    """

    name: str
    kind: MonitorKind
    url: str = ""
    target: str = ""
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=_no_headers)
    interval_seconds: int = 60
    timeout_seconds: int = 10
    expect_status: tuple[int, ...] = ()
    keyword: str | None = None
    absent_keyword: str | None = None
    max_response_ms: int | None = None
    tls_expiry_warn_days: int | None = None
    down_after: int = 2
    up_after: int = 1
    component: str | None = None
    component_status: str = "major_outage"
    follow_redirects: bool = False
    source: str = "policy"
    restricted: bool = False


@dataclass(frozen=True, slots=True)
class Observation:
    """What one check saw. ``error`` set means no answer (the other fields are then ignored);
    ``body`` is an excerpt of the response body; ``cert_not_after`` the server certificate's
    expiry (https only)."""

    checked_at: datetime
    latency_ms: int | None = None
    status_code: int | None = None
    body: str = ""
    cert_not_after: datetime | None = None
    error: ConnectError | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The verdict on one check: ``reason`` is empty when ``ok``."""

    checked_at: datetime
    ok: bool
    reason: str = ""
    latency_ms: int | None = None
