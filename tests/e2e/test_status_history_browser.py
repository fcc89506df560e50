"""The public incident history in a real browser (Playwright driving Debian's chromium) against a
real server: a resolved public incident with its updates and the commander's public post-mortem
summary renders with no console error, CSP violation or failed load (the browser's own favicon
request aside), and ``docs/images/status-history-summary.png`` is taken from it (written with
``TOCSIN_UPDATE_SCREENSHOTS=1``). Skipped like ``test_dashboard_browser.py``."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn

from conftest import Clock
from e2e.test_dashboard_browser import (
    ARGS,
    CHROMIUM,
    DESKTOP,
    IMAGES,
    PHONE,
    expect,
    playwright_api,
)
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.adapters.web.status import build_cache, page_info
from tocsin.adapters.web.status.history import history_routes
from tocsin.adapters.web.status.routes import public_routes
from tocsin.domain.commands import Command, Mention
from tocsin.domain.model import Actor, Severity, Status
from tocsin.domain.policy import default_policy
from tocsin.observability.metrics import create_metrics
from tocsin.services import public_status_page
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage import migrate
from tocsin.storage.db import Database

pytestmark = pytest.mark.slow

ALICE = Actor("slack", "U0ALICE", "alice")
SUMMARY = (
    "A configuration change to the payment gateway's connection pool went out to every region at "
    "once and exhausted its connections.\nWe now roll such changes out one region at a time, "
    "behind a canary, and alert on pool saturation."
)


async def _seed(ctx: Context, clock: Clock) -> None:
    """Two resolved public incidents in March 2026: a P1 with three updates over 1 h 35 min and
    a public summary, and an older P2 with one update and none."""
    steps: list[tuple[dict[str, float], Command]] = [
        ({}, Command("declare", text="Intermittent API errors", severity=Severity.P2)),
        ({"minutes": 10}, Command("update", incident=1,
                                  text="A bad deploy; rolling back now.")),
        ({"minutes": 15}, Command("resolve", incident=1, text="Rolled back")),
        ({"days": 6}, Command("declare", text="Checkout payments failing", severity=Severity.P1,
                              person=Mention("U0ALICE", "alice"))),
        ({"minutes": 5}, Command("update", incident=2,
                                 text="Card payments fail for most customers; we are on it.")),
        ({"minutes": 30}, Command("status", incident=2, status=Status.IDENTIFIED)),
        ({"minutes": 20}, Command("update", incident=2,
                                  text="Payments are flowing again; we are watching error rates.")),
        ({"minutes": 40}, Command("resolve", incident=2, text="Pool size restored")),
        ({"minutes": 10}, Command("summary", incident=2, text=SUMMARY, verb="set")),
    ]  # fmt: skip
    for delta, command in steps:
        clock.advance(**delta)
        await execute(ctx, ALICE, command)


@pytest.fixture
async def history_url(tmp_path: Path) -> AsyncIterator[str]:
    """The public page and its history on a seeded SQLite database, served by uvicorn on
    127.0.0.1."""
    db = Database(f"sqlite:///{tmp_path / 'history.db'}")
    await migrate.upgrade(db)
    clock = Clock(datetime(2026, 3, 2, 9, 12, tzinfo=UTC))
    ctx = Context(db=db, policy=default_policy(), clock=clock)
    await _seed(ctx, clock)
    metrics, info, key = (
        create_metrics(process=False),
        page_info("https://status.example"),
        b"k" * 32,
    )
    cache = build_cache(ctx, info, key, metrics)
    routes = [*public_routes(cache),
              *history_routes(ctx, info, public_status_page.public_ids(key),
                              generation=lambda: cache.generation)]  # fmt: skip
    app = create_app(ctx, metrics, Runtime(), routes=routes)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None,
                            access_log=False, timeout_graceful_shutdown=1)  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/status/history"
    finally:
        server.should_exit = True
        await task
        await db.dispose()


async def test_history_with_a_public_summary_and_the_screenshot(
    history_url: str, tmp_path: Path
) -> None:
    """/status/history shows both incidents under March 2026, the P1 with its updates, its
    duration and its Summary (line break kept), with no console error or CSP violation, on a
    desktop and a phone; the desktop shot is docs/images/status-history-summary.png."""
    out = IMAGES if os.environ.get("TOCSIN_UPDATE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []

    def console(message: object) -> None:
        if message.type == "error" and "404" not in message.text:  # type: ignore[attr-defined]
            problems.append(message.text)  # type: ignore[attr-defined]

    def response(answer: object) -> None:
        url, status = answer.url, answer.status  # type: ignore[attr-defined]
        if status >= 400 and not url.endswith("/favicon.ico"):
            problems.append(f"{status} {url}")

    async with playwright_api.async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                page = await chromium.new_page(viewport=viewport)
                page.on("console", console)
                page.on("response", response)
                page.on("pageerror", lambda error: problems.append(str(error)))
                await page.goto(history_url)
                main = page.locator("body")
                await expect(main).to_contain_text("March 2026")
                await expect(main).to_contain_text("Checkout payments failing")
                await expect(main).to_contain_text("Intermittent API errors")
                await expect(main).to_contain_text("Payments are flowing again")
                await expect(main).to_contain_text("1 h 35 min")
                summary = page.locator(".summary-text")
                await expect(summary).to_have_count(1)
                await expect(summary).to_contain_text("one region at a time")
                text = await summary.inner_text()
                assert "exhausted its connections.\nWe now roll" in text
                assert problems == []
                if label == "desktop":
                    target = out / "status-history-summary.png"
                    await page.screenshot(path=str(target), full_page=True)
                    assert target.read_bytes().startswith(b"\x89PNG")
                await page.close()
        finally:
            await chromium.close()
