"""The dashboard's Monitors pages against the real database and app: behind sign-in, the list
with each monitor's status, one monitor's response-time chart (an inline SVG with the failed
checks marked) and its recent failures, the range parameter checked, and Pause/Resume through
forms that carry the session's CSRF token and run the same use case as the CLI and the API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from conftest import Clock
from integration.test_api_dashboard import csrf_of, make_client, quick_hashes, sign_in, users
from tocsin.domain.monitors import MonitorState, MonitorStatus
from tocsin.domain.policy_file import parse_policy
from tocsin.services.context import Context
from tocsin.services.monitors.retention import apply_retention
from tocsin.storage.db import Database
from tocsin.storage.monitors import CheckResult

__all__ = ["quick_hashes", "users"]  # the dashboard tests' fixtures, used here too
MONITORS = [{"name": "web", "kind": "http", "url": "https://shop.example/health"},
            {"name": "db", "kind": "tcp", "target": "db.internal:5432"}]  # fmt: skip
MARKER_RE = re.compile(r'<circle class="chart-fail" cx="([\d.]+)"')


@pytest.fixture
def watched(db: Database, clock: Clock) -> Context:
    return Context(db, parse_policy({"monitor": MONITORS}), clock=clock)


@pytest.fixture
async def client(watched: Context, users: None) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(watched) as http:
        yield http


async def seed(ctx: Context, results: list[CheckResult]) -> None:
    async with ctx.uow() as uow:
        for result in results:
            await uow.monitors.add_result(result)
        await uow.commit()


def day_of_checks(clock: Clock, failing: dict[int, str]) -> list[CheckResult]:
    """One check a minute over the last 24 h for "web"; minute ``k`` fails when in ``failing``."""
    checks = []
    for k in range(24 * 60):
        at = clock.now - timedelta(minutes=24 * 60 - k)
        reason = failing.get(k)
        latency = None if reason == "timeout" else 100 + k % 40
        checks.append(CheckResult("web", at, reason is None, latency, reason))
    return checks


async def test_the_pages_need_a_login(client: httpx.AsyncClient) -> None:
    """Signed out, the list, a monitor and its forms redirect to the sign-in page."""
    answers = [await client.get("/monitors"), await client.get("/monitors/web?range=7d"),
               await client.post("/monitors/web/pause")]  # fmt: skip
    for answer in answers:
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")
    assert answers[1].headers["location"] == "/login?next=%2Fmonitors%2Fweb%3Frange%3D7d"


async def test_the_list_shows_every_monitor_with_its_status(
    watched: Context, client: httpx.AsyncClient, clock: Clock
) -> None:
    """Each monitor is a row with its status badge, kind, target, last check and latency; one
    never checked is pending; the header links to the page."""
    await seed(watched, [CheckResult("web", clock.now, True, 87)])
    async with watched.uow() as uow:
        await uow.monitors.save_state(
            "web", MonitorState(MonitorStatus.UP, last_checked=clock.now, latency_ms=87)
        )
        await uow.commit()
    await sign_in(client, "alice")
    page = await client.get("/monitors")
    assert page.status_code == 200
    assert '<a href="/monitors">Monitors</a>' in page.text
    rows = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("</tr>")
    assert 'href="/monitors/web"' in rows[0]
    assert 'class="badge monitor-status monitor-up">up<' in rows[0]
    assert "https://shop.example/health" in rows[0]
    assert "87 ms" in rows[0]
    assert clock.now.strftime("%Y-%m-%d %H:%M UTC") in rows[0]
    assert 'monitor-pending">pending<' in rows[1]
    assert "db.internal:5432" in rows[1]
    assert "tcp" in rows[1]
    assert 'action="/monitors/web/pause"' in rows[0]


async def test_a_monitor_shows_its_chart_and_recent_failures(
    watched: Context, client: httpx.AsyncClient, clock: Clock
) -> None:
    """A day of checks with three failures draws an SVG with a line, axis labels, three red
    markers in time order and a summary naming them; the failures are listed newest first
    with their reasons and latency."""
    failing = {300: "status 503, expected 2xx", 900: "timeout", 1200: 'keyword "ok" missing'}
    await seed(watched, day_of_checks(clock, failing))
    await sign_in(client, "alice")
    page = await client.get("/monitors/web")
    assert page.status_code == 200
    svg = page.text.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg
    assert '<path class="chart-line" d="M' in svg
    xs = [float(x) for x in MARKER_RE.findall(svg)]
    assert len(xs) == 3
    assert xs == sorted(xs)
    assert "3 failed checks of 1,440" in svg.split("</title>", 1)[0]
    assert "median 1" in svg.split("</title>", 1)[0]
    assert " ms</text>" in svg
    assert "00:00</text>" in svg or "03:00</text>" in svg
    assert "timeout</title>" in svg
    table = page.text.split('class="failures"', 1)[1].split("</table>", 1)[0]
    reasons = [table.index(r) for r in ("keyword &#34;ok&#34; missing", "timeout", "status 503")]
    assert reasons == sorted(reasons)  # newest first
    assert "no answer" in table
    assert "<script" not in page.text


async def test_no_checks_shows_an_empty_chart_message(client: httpx.AsyncClient) -> None:
    """A monitor never checked has no SVG but a message saying so, and no failures."""
    await sign_in(client, "alice")
    page = await client.get("/monitors/db")
    assert page.status_code == 200
    assert "<svg" not in page.text
    assert "No checks in the last 24 hours." in page.text
    assert "No failed checks in the last week." in page.text


async def test_thirty_days_draws_hourly_averages_with_a_band(
    watched: Context, client: httpx.AsyncClient, clock: Clock
) -> None:
    """Checks ten days old, folded into hourly aggregates by retention, and today's checks both
    appear on the 30 d chart: an average line, a min-max band and the failed hour marked."""
    old = clock.now - timedelta(days=10)
    await seed(watched, [CheckResult("web", old + timedelta(minutes=k), k != 5, 50 + k)
                         for k in range(30)])  # fmt: skip
    await seed(watched, day_of_checks(clock, {100: "timeout"})[:200])
    async with watched.uow() as uow:
        assert await apply_retention(uow, clock.now) == 30
        await uow.commit()
    await sign_in(client, "alice")
    page = await client.get("/monitors/web?range=30d")
    svg = page.text.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert '<path class="chart-band" d="M' in svg
    assert svg.count(" Z") == 2  # the old hour and today's hours are two separate runs
    assert "2 failed checks of 230" in svg
    assert "hourly averages" in svg
    assert len(MARKER_RE.findall(svg)) == 2
    assert 'aria-current="page">30 days<' in page.text


async def test_a_bad_range_is_a_400_naming_it(client: httpx.AsyncClient) -> None:
    """``?range=`` other than 24h, 7d or 30d answers 400 with a page naming the parameter; an
    unknown monitor is the dashboard's 404 page."""
    await sign_in(client, "alice")
    bad = await client.get("/monitors/web?range=1y")
    assert bad.status_code == 400
    assert "The range must be one of 24h, 7d, 30d, not &#39;1y&#39;." in bad.text
    week = await client.get("/monitors/web?range=7d")
    assert week.status_code == 200
    missing = await client.get("/monitors/nope")
    assert missing.status_code == 404
    assert "There is no monitor &#39;nope&#39;" in missing.text


async def test_pause_and_resume_through_the_forms(
    watched: Context, client: httpx.AsyncClient
) -> None:
    """Pause from the list and resume from the monitor's page change the stored state, each
    with a flash message, and land back where the button was."""
    await sign_in(client, "alice")
    token = await csrf_of(client, "/monitors")
    paused = await client.post("/monitors/web/pause", data={"csrf": token, "next": "/monitors"})
    assert (paused.status_code, paused.headers["location"]) == (303, "/monitors")
    async with watched.uow(read_only=True) as uow:
        assert (await uow.monitors.state("web")).status is MonitorStatus.PAUSED  # type: ignore[union-attr]
    page = (await client.get("/monitors")).text
    assert "Monitor &#34;web&#34; is paused." in page
    assert 'action="/monitors/web/resume"' in page
    detail = await client.get("/monitors/web")
    token = re.search(r'name="csrf" value="([^"]+)"', detail.text)[1]  # type: ignore[index]
    assert 'name="next" value="/monitors/web"' in detail.text
    resumed = await client.post(
        "/monitors/web/resume", data={"csrf": token, "next": "/monitors/web"}
    )
    assert resumed.headers["location"] == "/monitors/web"
    async with watched.uow(read_only=True) as uow:
        assert (await uow.monitors.state("web")).status is MonitorStatus.PENDING  # type: ignore[union-attr]
    assert "is resumed" in (await client.get("/monitors/web")).text


async def test_forms_without_csrf_or_for_unknown_monitors_change_nothing(
    watched: Context, client: httpx.AsyncClient
) -> None:
    """Pause without the session's token is refused (403) and the monitor stays as it was;
    pausing a monitor the policy does not define is a 404 page; an outside ``next`` is not
    followed."""
    await sign_in(client, "alice")
    assert (await client.post("/monitors/web/pause", data={})).status_code == 403
    forged = await client.post("/monitors/web/pause", data={"csrf": "forged"})
    assert forged.status_code == 403
    async with watched.uow(read_only=True) as uow:
        assert await uow.monitors.state("web") is None
    token = await csrf_of(client, "/monitors")
    missing = await client.post("/monitors/nope/pause", data={"csrf": token})
    assert missing.status_code == 404
    assert "There is no monitor" in missing.text
    away = await client.post(
        "/monitors/web/pause", data={"csrf": token, "next": "https://evil.example/"}
    )
    assert away.headers["location"] == "/"
