"""The Monitors pages in a real browser (Playwright driving Debian's chromium) against a real
server: a monitor with a day of checks draws its chart with no console error or CSP violation,
Pause works from the list, and ``docs/images/dashboard-monitor.png`` (and ``-phone.png``) is
taken from it (written with ``TOCSIN_UPDATE_SCREENSHOTS=1``). Skipped like
``test_dashboard_browser.py``."""

from __future__ import annotations

import math
import os
import random
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from e2e.test_dashboard_browser import (
    DESKTOP,
    IMAGES,
    PHONE,
    Site,
    browser,
    expect,
    quick_hashes,
    serve,
    signed_in,
)
from tocsin.domain.monitors import MonitorState, MonitorStatus
from tocsin.domain.policy_file import parse_policy
from tocsin.services.context import Context
from tocsin.storage.monitors import CheckResult

__all__ = ["browser", "quick_hashes"]  # fixtures of the dashboard's browser tests, used here too
pytestmark = pytest.mark.slow

MONITORS = [
    {"name": "checkout-api", "kind": "http", "url": "https://shop.example/api/health",
     "interval_seconds": 30, "expect_status": [200], "keyword": "ok", "max_response_ms": 2000},
    {"name": "payments-db", "kind": "tcp", "target": "db-1.internal:5432"},
    {"name": "search", "kind": "http", "url": "https://search.example/ping"},
    {"name": "cdn", "kind": "http", "url": "https://cdn.example/pixel.gif"},
]  # fmt: skip


@pytest.fixture
async def site(tmp_path: Path, quick_hashes: None) -> AsyncIterator[Site]:
    """The app with four monitors in the policy (overrides the default-policy site)."""
    async with serve(tmp_path, parse_policy({"monitor": MONITORS})) as served:
        yield served


async def _seed(ctx: Context) -> None:
    """A believable day for checkout-api: one check every 30 s, a daily rhythm with noise, a
    slow spell in the afternoon, a few timeouts and 503s; the other monitors down, paused and
    never checked."""
    now, rng = ctx.clock(), random.Random(7)
    results = []
    for k in range(2880):
        at = now - timedelta(seconds=30 * (2880 - k) - 15)  # all inside the 24 h shown
        wave = 40 * math.sin(2 * math.pi * (at.hour * 60 + at.minute) / 1440)
        latency = int(120 + wave + rng.gauss(0, 12) + (260 if 1700 < k < 1760 else 0))
        ok, reason = True, None
        if k in (410, 1720, 1731, 2650):
            ok, reason = False, "status 503, expected 200"
        elif k in (1742, 1743):
            ok, reason, latency = False, "timeout after 10 s", None  # type: ignore[assignment]
        results.append(CheckResult("checkout-api", at, ok, latency, reason))
    states = {
        "checkout-api": MonitorState(MonitorStatus.UP, since=now - timedelta(hours=2),
                                     last_checked=results[-1].checked_at, latency_ms=118),
        "payments-db": MonitorState(MonitorStatus.DOWN, failures=3,
                                    reasons=("connection refused",) * 3,
                                    since=now - timedelta(minutes=4),
                                    last_checked=now - timedelta(seconds=20)),
        "search": MonitorState(MonitorStatus.PAUSED, since=now - timedelta(days=1)),
    }  # fmt: skip
    async with ctx.uow() as uow:
        for result in results:
            await uow.monitors.add_result(result)
        for name, state in states.items():
            await uow.monitors.save_state(name, state)
        await uow.commit()


async def test_monitor_chart_renders_cleanly_and_the_screenshot(
    browser: object, site: Site, tmp_path: Path
) -> None:
    """The list shows the four statuses and pauses one through its form; checkout-api's page
    draws the chart with its failures marked and lists them, with no console error (a CSP
    violation would be one) and no uncaught script error."""
    await _seed(site.ctx)
    out = IMAGES if os.environ.get("TOCSIN_UPDATE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    page = await signed_in(browser, site, "alice", DESKTOP)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.get_by_role("link", name="Monitors").click()
    await expect(page.get_by_role("heading", name="Monitors")).to_be_visible()
    for name, status in (("checkout-api", "up"), ("payments-db", "down"), ("search", "paused"),
                         ("cdn", "pending")):  # fmt: skip
        await expect(page.locator("tr", has_text=name).locator(".badge")).to_have_text(status)
    await page.get_by_role("button", name="Pause cdn").click()
    await expect(page.get_by_role("status")).to_contain_text('Monitor "cdn" is paused.')
    await expect(page.locator("tr", has_text="cdn").locator(".badge")).to_have_text("paused")
    await page.get_by_role("link", name="checkout-api").click()
    chart = page.get_by_role("img", name="Response time of checkout-api")
    await expect(chart).to_be_visible()
    await expect(chart).to_have_attribute("aria-label", re.compile("6 failed checks of 2,880"))
    markers = await page.locator("#chart .chart-fail").count()
    assert 5 <= markers <= 6  # the two timeouts 30 s apart share a marker unless split by a bucket
    await expect(page.locator("table.failures tbody tr")).to_have_count(6)
    box = await chart.bounding_box()
    assert box is not None
    assert box["width"] > 600
    target = out / "dashboard-monitor.png"
    await page.screenshot(path=str(target), full_page=True)
    assert target.read_bytes().startswith(b"\x89PNG")
    await page.set_viewport_size(PHONE)
    card = page.locator("section", has=page.locator("#chart"))
    await card.screenshot(path=str(out / "dashboard-monitor-phone.png"))
    assert problems == []
    await page.context.close()


async def test_the_add_form_shows_a_refused_field_beside_it(
    browser: object, site: Site, tmp_path: Path
) -> None:
    """Filled in the browser, the Add a monitor form comes back with the refused field's message
    beside it, the field marked invalid and the typed values kept, with no console error; the
    summary's link moves focus to the field. ``docs/images/dashboard-monitor-add.png`` is taken
    from it."""
    out = IMAGES if os.environ.get("TOCSIN_UPDATE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    page = await signed_in(browser, site, "alice", DESKTOP)
    problems: list[str] = []
    refused = "the server responded with a status of 400"  # the refused form's page itself
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and refused not in m.text else None)  # fmt: skip
    await page.goto(f"{site.url}/monitors")
    await page.get_by_label("Name").fill("replica-db")
    await page.get_by_label("Kind").select_option("tcp")
    await page.get_by_label("Target").fill("db-2.internal")
    await page.get_by_label("Interval in seconds").fill("30")
    await page.get_by_role("button", name="Add monitor").click()
    target = page.get_by_label("Target")
    await expect(target).to_have_attribute("aria-invalid", "true")
    await expect(target).to_have_value("db-2.internal")
    await expect(page.locator("#m-target-error")).to_have_text(
        'target: expected host:port with a port from 1 to 65535, got "db-2.internal"'
    )
    await expect(page.get_by_label("Kind")).to_have_value("tcp")
    await page.get_by_role("link", name="target").click()
    await expect(target).to_be_focused()
    card = page.locator("section", has=page.locator("#add-monitor"))
    await card.screenshot(path=str(out / "dashboard-monitor-add.png"))
    assert problems == []
    await page.context.close()
