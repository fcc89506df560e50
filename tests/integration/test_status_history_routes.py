"""``/status/history`` against the real app and database (SQLite and PostgreSQL): resolved public
incidents grouped by month with their public updates, paged, private ones left out, escaping,
the page's link to it, and a bad page number refused with a 400 naming the parameter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from conftest import Clock
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.adapters.web.status import build_cache, page_info
from tocsin.adapters.web.status.history import history_routes
from tocsin.adapters.web.status.routes import public_routes
from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Severity
from tocsin.observability.metrics import create_metrics
from tocsin.services import public_status_page, status_history
from tocsin.services.context import Context
from tocsin.services.dispatch import execute

ALICE = Actor("slack", "U0ALICE", "alice")
KEY = b"k" * 32


@pytest.fixture
async def http(ctx: Context, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    metrics = create_metrics(process=False)
    info = page_info("https://example.test")
    routes = [
        *public_routes(build_cache(ctx, info, KEY, metrics)),
        *history_routes(ctx, info, public_status_page.public_ids(KEY), clock=lambda: 0.0),
    ]
    app = create_app(ctx, metrics, Runtime(), routes=routes)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as client:
        yield client


async def incident(ctx: Context, title: str, severity: Severity, update: str) -> None:
    """Declare, post one update and resolve."""
    outcome = await execute(ctx, ALICE, Command("declare", text=title, severity=severity))
    assert outcome.incident is not None
    number = outcome.incident.number
    await execute(ctx, ALICE, Command("update", incident=number, text=update))
    await execute(ctx, ALICE, Command("resolve", incident=number, text=""))


async def test_history_groups_by_month_with_updates_and_pages(
    ctx: Context, http: httpx.AsyncClient, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three public incidents over two months (March and April), two a page: page 1 has the
    newest two under their month, page 2 the oldest; a private (P3) one is nowhere; updates
    are shown."""
    monkeypatch.setattr(status_history, "PER_PAGE", 2)
    await incident(ctx, "March outage", Severity.P1, "Failed over in March")
    clock.advance(days=31)
    await incident(ctx, "April <b>slowness</b>", Severity.P2, "Caches warmed")
    await incident(ctx, "Quiet internal", Severity.P3, "nobody sees this")
    clock.advance(days=1)
    await incident(ctx, "April again", Severity.P1, "Rolled back")
    first = await http.get("/status/history")
    assert first.status_code == 200
    page = first.text
    assert "default-src 'none'" in first.headers["content-security-policy"]
    assert page.index("April again") < page.index("April &lt;b&gt;slowness")
    assert "April 2026" in page
    assert "Caches warmed" in page
    assert "March outage" not in page
    assert "Quiet internal" not in page
    assert "Page 1 of 2" in page
    assert 'href="/status/history?page=2"' in page
    second = (await http.get("/status/history?page=2")).text
    assert "March outage" in second
    assert "Failed over in March" in second
    assert "March 2026" in second
    assert 'href="/status/history?page=1"' in second
    assert "No past incidents on this page" in (await http.get("/status/history?page=3")).text
    assert 'href="/status/history"' in (await http.get("/status")).text


@pytest.mark.parametrize("bad", ["0", "-1", "x", "10001", "1.5", "١"])
async def test_a_bad_page_number_is_a_400_naming_it(http: httpx.AsyncClient, bad: str) -> None:
    """Anything but a page number from 1 to 10000 is refused with a plain 400, never a 500."""
    answer = await http.get("/status/history", params={"page": bad})
    assert answer.status_code == 400
    assert answer.text.startswith("page:")


async def test_each_incident_shows_how_long_it_lasted(
    ctx: Context, http: httpx.AsyncClient, clock: Clock
) -> None:
    """The history shows each incident's duration, declaration to resolution, on the injected
    clock: 2 h 5 min for one resolved that long after it was declared."""
    outcome = await execute(ctx, ALICE, Command("declare", text="Long one", severity=Severity.P1))
    assert outcome.incident is not None
    clock.advance(hours=2, minutes=5)
    await execute(ctx, ALICE, Command("resolve", incident=outcome.incident.number, text=""))
    page = (await http.get("/status/history")).text
    assert "lasted 2 h 5 min" in page
