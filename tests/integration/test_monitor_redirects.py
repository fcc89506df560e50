"""One check with ``follow_redirects`` and under the private-address guard (``probe``): real
HTTP targets on 127.0.0.1 for the redirects it follows, and for the hops that must look public an
httpx mock transport standing in for the internet (no test can own a public address): each hop's
host is resolved through the guard's resolver and judged before anything is sent to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fakes.monitor_target import Counter, HttpTarget, Resolver
from tocsin.domain.monitors import ConnectError, Monitor, MonitorKind, evaluate
from tocsin.services.address_guard import AddressGuard
from tocsin.services.monitors.probe import probe

PUBLIC, OTHER_PUBLIC = "93.184.216.34", "93.184.216.35"


@pytest.fixture
async def targets() -> AsyncIterator[tuple[HttpTarget, HttpTarget]]:
    first, second = await HttpTarget().start(), await HttpTarget().start()
    yield first, second
    await first.stop()
    await second.stop()


def _http(url: str, **extra: Any) -> Monitor:
    return Monitor("web", MonitorKind.HTTP, url, timeout_seconds=5, **extra)


async def test_redirects_are_followed_only_when_asked_and_at_most_five_times(
    targets: tuple[HttpTarget, HttpTarget], clock: Any
) -> None:
    """A 302 to another server is followed with follow_redirects (the monitor's headers stay
    with the first origin) and judged by the final answer; without it the 302 itself is judged;
    a redirect loop stops after five hops and its last 302 fails the check."""
    first, second = targets
    first.status, first.location = 302, second.url("/landing")
    async with httpx.AsyncClient() as client:
        headers = {"X-Token": "secret"}
        followed = await probe(_http(first.url(), headers=headers, follow_redirects=True),
                               client, clock, Counter())  # fmt: skip
        assert (followed.status_code, followed.body) == (200, "all ok")
        assert "x-token: secret" in first.heads[0].lower()
        assert second.heads[0].startswith("GET /landing ")
        assert "x-token" not in second.heads[0].lower()
        direct = await probe(_http(first.url()), client, clock, Counter())
        assert evaluate(_http(first.url()), direct).reason == "status 302, expected 2xx"
        first.location = first.url("/again")
        asked = first.requests
        looped = await probe(_http(first.url(), follow_redirects=True), client, clock, Counter())
    assert first.requests - asked == 6  # the first request and five redirects
    assert looped.status_code == 302


def _internet(seen: list[httpx.Request], answers: dict[str, tuple[int, str]]) -> httpx.AsyncClient:
    """A client whose "internet" answers by the address connected to: (status, Location)."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status, location = answers.get(request.url.host, (200, ""))
        return httpx.Response(status, headers={"Location": location} if location else {})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_a_public_redirect_chain_ending_at_loopback_fails_blocked(
    targets: tuple[HttpTarget, HttpTarget], clock: Any
) -> None:
    """For a restricted monitor each hop is resolved and connected to at the address checked
    (Host header and TLS server name keep the name); the chain public → public → 127.0.0.1
    fails as "private address not allowed" and the local server is never asked."""
    inside, _ = targets
    resolver = Resolver({"public.example": (PUBLIC,), "next.example": (OTHER_PUBLIC,)})
    seen: list[httpx.Request] = []
    answers = {PUBLIC: (302, "https://next.example/step"), OTHER_PUBLIC: (301, inside.url())}
    monitor = _http("https://public.example/start", follow_redirects=True, restricted=True)
    async with _internet(seen, answers) as client:
        checked = await probe(monitor, client, clock, Counter(), AddressGuard(resolve=resolver))
    assert checked.error is ConnectError.BLOCKED
    assert evaluate(monitor, checked).reason == "private address not allowed"
    assert inside.requests == 0
    assert [(r.url.host, r.headers["host"], r.extensions.get("sni_hostname")) for r in seen] == [
        (PUBLIC, "public.example", "public.example"),
        (OTHER_PUBLIC, "next.example", "next.example"),
    ]
    assert resolver.asked == ["public.example", "next.example", "127.0.0.1"]


async def test_the_guard_checks_every_connect_of_a_restricted_monitor(clock: Any) -> None:
    """A restricted tcp target whose name resolves to a private address fails BLOCKED and one
    that resolves to nothing fails "name not resolved"; an unrestricted monitor, or any monitor
    with TOCSIN_MONITOR_ALLOW_PRIVATE, is not looked up by the guard at all."""
    resolver = Resolver({"db.example": ("10.0.0.5",)})
    guard = AddressGuard(resolve=resolver)
    db = Monitor("db", MonitorKind.TCP, target="db.example:5432", timeout_seconds=5,
                 restricted=True)  # fmt: skip
    gone = Monitor("gone", MonitorKind.TCP, target="gone.example:5432", restricted=True)
    async with httpx.AsyncClient() as client:
        assert (await probe(db, client, clock, Counter(), guard)).error is ConnectError.BLOCKED
        assert (await probe(gone, client, clock, Counter(), guard)).error is ConnectError.DNS
        seen: list[httpx.Request] = []
        async with _internet(seen, {}) as internet:
            free = AddressGuard(allow_private=True, resolve=resolver)
            web = _http("https://svc.example/", restricted=True)
            assert (await probe(web, internet, clock, Counter(), free)).status_code == 200
            unrestricted = _http("https://svc.example/")
            assert (await probe(unrestricted, internet, clock, Counter(), guard)).error is None
    assert resolver.asked == ["db.example", "gone.example"]
    assert [r.url.host for r in seen] == ["svc.example", "svc.example"]
