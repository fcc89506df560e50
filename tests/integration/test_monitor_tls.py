"""HTTPS monitors through the real probe against HTTPS servers on 127.0.0.1 whose certificates
are made in the test: one that expires in 5 days fails a monitor warning at 14 days with
"certificate expires in 5 days", one valid for 90 days passes, and a self-signed certificate
nobody trusts fails as "TLS handshake failed".

The probe's httpx client is the one the checker is given (``MonitorChecker(client=…)``): here
it verifies as production does (chain, hostname, dates) with the test CA as its only trust
anchor; the checker's own client, built when none is given, keeps the system's trust store."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Clock
from fakes.monitor_target import HttpTarget
from fakes.tls_certs import Authority, Issued, self_signed
from tocsin.domain.policy_file import parse_policy
from tocsin.services.context import Context
from tocsin.services.monitors.checker import MonitorChecker
from tocsin.services.monitors.views import monitor_detail
from tocsin.storage.db import Database

ROUTE = {"match": {"alertname": "MonitorDown"}, "action": "ignore"}


@dataclass
class HttpsTarget(HttpTarget):
    """The HTTP target behind TLS with the given server context."""

    context: ssl.SSLContext | None = None

    def url(self, path: str = "/health") -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    async def start(self) -> HttpsTarget:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0, ssl=self.context)
        return self


@pytest.fixture
def now() -> datetime:
    """The test's clock starts at the real time: the TLS handshake checks dates against it."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def authority(now: datetime) -> Authority:
    return Authority.create(now)


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Any]:
    started: list[HttpsTarget] = []

    async def start(issued: Issued, name: str) -> HttpsTarget:
        folder = tmp_path / name
        folder.mkdir()
        target = await HttpsTarget(context=issued.server_context(folder)).start()
        started.append(target)
        return target

    yield start
    for target in started:
        await target.stop()


def _monitor(name: str, target: HttpsTarget) -> dict[str, Any]:
    return {"name": name, "kind": "http", "url": target.url(), "interval_seconds": 60,
            "timeout_seconds": 5, "tls_expiry_warn_days": 14, "down_after": 1}  # fmt: skip


async def _check_all(
    db: Database, now: datetime, client: httpx.AsyncClient, *monitors: Any
) -> Context:
    clock = Clock(now)
    policy = parse_policy({"monitor": list(monitors), "alert_route": [ROUTE]})
    ctx = Context(db, policy, clock=clock)
    checker = MonitorChecker(ctx, "w1", client=client)
    await checker.arm()
    clock.advance(seconds=60)
    assert await checker.run_once() == len(monitors)
    return ctx


async def test_certificates_expiring_soon_or_not_trusted_fail_and_a_valid_one_passes(
    db: Database, now: datetime, authority: Authority, serve: Any
) -> None:
    """Three HTTPS targets checked once: the 5-day certificate is a failed check ("certificate
    expires in 5 days"), the 90-day one is ok with a response time, and the self-signed one
    fails the handshake ("TLS handshake failed", no response time); each monitor with
    down_after 1 is down or up accordingly."""
    soon = await serve(authority.issue(timedelta(days=5, hours=12)), "soon")
    fine = await serve(authority.issue(timedelta(days=90)), "fine")
    alone = await serve(self_signed(now, timedelta(days=90)), "alone")
    async with httpx.AsyncClient(verify=authority.client_context()) as client:
        ctx = await _check_all(
            db, now, client, _monitor("soon", soon), _monitor("fine", fine),
            _monitor("alone", alone),
        )  # fmt: skip
    details = {name: await monitor_detail(ctx, name) for name in ("soon", "fine", "alone")}
    soon_check = details["soon"]["results"][0]
    assert (details["soon"]["status"], soon_check["ok"]) == ("down", False)
    assert soon_check["error"] == "certificate expires in 5 days"
    assert soon_check["latency_ms"] is not None  # it answered: the request itself succeeded
    fine_check = details["fine"]["results"][0]
    assert (details["fine"]["status"], fine_check["ok"]) == ("up", True)
    assert fine_check["latency_ms"] is not None
    alone_check = details["alone"]["results"][0]
    assert (details["alone"]["status"], alone_check["ok"]) == ("down", False)
    assert (alone_check["error"], alone_check["latency_ms"]) == ("TLS handshake failed", None)
    assert (soon.requests, fine.requests, alone.requests) == (1, 1, 0)


async def test_the_checkers_own_client_does_not_trust_a_private_ca(
    db: Database, now: datetime, authority: Authority, serve: Any
) -> None:
    """Without an injected client the checker builds its own, verifying against the system's
    trust store: the test CA's 90-day certificate is refused there, so trusting it in the test
    above came from the injected client alone."""
    fine = await serve(authority.issue(timedelta(days=90)), "fine")
    clock = Clock(now)
    policy = parse_policy({"monitor": [_monitor("fine", fine)], "alert_route": [ROUTE]})
    ctx = Context(db, policy, clock=clock)
    checker = MonitorChecker(ctx, "w1")
    await checker.arm()
    clock.advance(seconds=60)
    assert await checker.run_once() == 1
    [check] = (await monitor_detail(ctx, "fine"))["results"]
    assert (check["ok"], check["error"]) == (False, "TLS handshake failed")
