"""The dashboard in a real browser (Playwright driving Debian's chromium) against a real server.

Skipped, with the reason, when /usr/bin/chromium or Playwright is missing (``apt-get install -y
chromium``; ``pip install playwright``: the browser download ``playwright install`` is not used).
With ``TOCSIN_UPDATE_SCREENSHOTS=1`` the screenshot test also writes ``docs/images/*.png``.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher

from fakes.alerts_kit import generic, intake_client, integration, path_of, runner
from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.api.ratelimit import MemoryLimiter
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.dashboard.session import Deps
from tocsin.adapters.web.runtime import Runtime
from tocsin.domain.commands import Command, Mention
from tocsin.domain.model import Actor, Role, Severity, Status
from tocsin.domain.policy import Component, Policy, default_policy
from tocsin.observability.metrics import create_metrics
from tocsin.services import maintenance
from tocsin.services.access import users as users_module
from tocsin.services.access.users import create_user
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage import migrate
from tocsin.storage.db import Database

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
PASSWORD = "a long enough secret"
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}

pytestmark = pytest.mark.slow

if not CHROMIUM.exists():
    pytest.skip(
        "browser tests skipped: /usr/bin/chromium is missing (apt-get install -y chromium)",
        allow_module_level=True,
    )
playwright_api = pytest.importorskip(
    "playwright.async_api", reason="browser tests skipped: Playwright is not installed"
)
expect = playwright_api.expect


@dataclass
class Site:
    url: str
    ctx: Context


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(tmp_path: Path, policy: Policy) -> AsyncIterator[Site]:
    """A migrated SQLite database, three users, and the app served by uvicorn on 127.0.0.1."""
    db = Database(f"sqlite:///{tmp_path / 'browser.db'}")
    await migrate.upgrade(db)
    ctx = Context(db=db, policy=policy)
    operator = Actor("cli", "root", "root")
    for name, admin in (("alice", False), ("bob", False), ("root", True)):
        await create_user(ctx, operator, name, PASSWORD, admin=admin)
    deps = Deps(ctx, MemoryLimiter(), poll_seconds=0.2, stream_seconds=30)
    routes = access_routes(ctx, secret="k" * 40, secure_cookies=False, deps=deps)
    app = create_app(ctx, create_metrics(process=False), Runtime(), routes=routes)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None,
                            access_log=False, timeout_graceful_shutdown=1)  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.02)
    try:
        yield Site(f"http://127.0.0.1:{port}", ctx)
    finally:
        server.should_exit = True
        await task
        await db.dispose()


@pytest.fixture
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with small parameters: the same code path, a fraction of the CPU time."""
    monkeypatch.setattr(users_module, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
async def site(tmp_path: Path, quick_hashes: None) -> AsyncIterator[Site]:
    """The app with the default policy (see :func:`serve`)."""
    async with serve(tmp_path, default_policy()) as served:
        yield served


@pytest.fixture
async def browser(site: Site) -> AsyncIterator[object]:
    """Chromium, closed before the server stops (so no live stream outlives it)."""
    del site
    async with playwright_api.async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def signed_in(browser: object, site: Site, name: str, viewport: dict[str, int] = DESKTOP):
    """A page signed in as ``name`` (through the login form)."""
    context = await browser.new_context(viewport=viewport)  # type: ignore[attr-defined]
    page = await context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"unexpected dialog: {dialog.message}"))
    await page.goto(site.url + "/")
    await expect(page).to_have_url(site.url + "/login?next=%2F")
    await page.get_by_label("Username").fill(name)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Incidents")).to_be_visible()
    return page


async def test_declare_watch_the_timeline_grow_and_resolve(browser: object, site: Site) -> None:
    """Alice declares from the form, finds the incident on the list, watches a note added from
    Slack and a status change appear live without reloading, and resolves as commander."""
    page = await signed_in(browser, site, "alice")
    await page.get_by_role("link", name="Declare", exact=True).click()
    await page.get_by_label("What is wrong?").fill("Checkout is failing")
    await page.get_by_text("critical").click()
    await page.get_by_role("button", name="Declare").click()
    await expect(page.get_by_role("heading", name="Checkout is failing")).to_be_visible()
    await page.get_by_role("link", name="Incidents").click()
    row = page.locator(".incident-row", has_text="Checkout is failing")
    await expect(row).to_contain_text("P1")
    await row.get_by_role("link").click()
    await expect(page.locator("#live-state")).to_be_visible()
    timeline = page.locator("#timeline li")
    await expect(timeline).to_have_count(1)
    slack_bob = Actor("slack", "U0BOB", "bob")
    await execute(site.ctx, slack_bob, Command("note", incident=1, text="Seen from Slack"))
    await expect(timeline).to_have_count(2)
    await expect(timeline.nth(1)).to_contain_text("Seen from Slack")
    alice = Actor("web", "alice", "alice")
    await execute(site.ctx, alice, Command("status", incident=1, status=Status.IDENTIFIED))
    await expect(page.locator("#incident-status")).to_have_text("identified")
    await page.get_by_label("Resolution summary").fill("Failed over")
    await page.get_by_role("button", name="Resolve").click()
    await expect(page.get_by_role("status")).to_contain_text("alice resolved INC-1: Failed over")
    await expect(page.locator("#incident-status")).to_have_text("resolved")


async def test_someone_else_is_refused(browser: object, site: Site) -> None:
    """Bob sees no commander actions on Alice's incident; a resolve he forces through anyway is
    refused with the reason, and his note lands on the timeline."""
    alice = Actor("web", "alice", "alice")
    await execute(site.ctx, alice, Command("declare", text="Search is slow"))
    page = await signed_in(browser, site, "bob")
    await page.goto(site.url + "/incidents/1")
    await expect(page.get_by_role("heading", name="Commander actions")).to_have_count(0)
    await page.get_by_label("Timeline note").fill("Looking at the index")
    await page.get_by_role("button", name="Add note").click()
    await expect(page.locator("#timeline")).to_contain_text("Looking at the index")
    token = await page.locator("input[name=csrf]").first.input_value()
    forced = await page.request.post(
        site.url + "/incidents/1/resolve", form={"csrf": token, "text": "x"}, max_redirects=0
    )
    assert forced.status == 303
    await page.reload()
    await expect(page.get_by_role("alert")).to_contain_text("Only the commander of INC-1 (alice)")
    await expect(page.locator("#incident-status")).to_have_text("investigating")


async def test_titles_render_as_text(browser: object, site: Site) -> None:
    """An incident titled <script>alert(1)</script> shows that text and runs nothing (a dialog
    would fail the test)."""
    title = "<script>alert(1)</script>"
    await execute(site.ctx, Actor("web", "alice", "alice"), Command("declare", text=title))
    page = await signed_in(browser, site, "alice")
    await expect(page.locator(".incident-row .title")).to_have_text(title)
    await page.goto(site.url + "/incidents/1")
    await expect(page.locator("#incident-title")).to_have_text(title)


async def _seed(ctx: Context) -> None:
    """A believable morning: three open incidents and a resolved one, notes from Slack."""
    alice, bob = Actor("web", "alice", "alice"), Actor("slack", "U0BOB", "bob")
    carol = Actor("discord", "7000001", "carol")
    script = [
        (alice, Command("declare", text="Checkout is failing for EU customers",
                        severity=Severity.P1)),
        (bob, Command("note", incident=1, text="Payments provider returns 502 since 08:52")),
        (alice, Command("status", incident=1, status=Status.IDENTIFIED)),
        (alice, Command("role", incident=1, role=Role.SCRIBE,
                        person=Mention("slack:U0BOB", "bob"))),
        (alice, Command("update", incident=1,
                        text="Failing over to the secondary provider; next update in 15 min.")),
        (carol, Command("ack", incident=1)),
        (bob, Command("declare", text="Search results are slow", severity=Severity.P2)),
        (carol, Command("declare", text="Nightly export delayed", severity=Severity.P3)),
        (alice, Command("declare", text="Typo on the pricing page", severity=Severity.P4)),
        (alice, Command("resolve", incident=4, text="Fixed in release 2026.3")),
    ]  # fmt: skip
    for actor, command in script:
        await execute(ctx, actor, command)


async def test_screenshots_of_the_main_pages(browser: object, site: Site, tmp_path: Path) -> None:
    """The list, an incident, declare and sign-in render on a desktop and a phone-sized screen
    (written to docs/images with TOCSIN_UPDATE_SCREENSHOTS=1)."""
    await _seed(site.ctx)
    out = IMAGES if os.environ.get("TOCSIN_UPDATE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = await signed_in(browser, site, "alice", viewport)
        for name, path in (("list", "/?status=all"), ("incident", "/incidents/1"),
                           ("declare", "/declare")):  # fmt: skip
            await page.goto(site.url + path)
            if name == "incident":
                await expect(page.locator("#live-state")).to_be_visible()
            target = out / f"{name}-{label}.png"
            await page.screenshot(path=str(target), full_page=label == "desktop")
            assert target.read_bytes().startswith(b"\x89PNG")
        await page.context.clear_cookies()
        await page.goto(site.url + "/login")
        await page.screenshot(path=str(out / f"login-{label}.png"))
        await page.context.close()
    assert len(list(out.glob("*.png"))) == 8


async def _seed_alerts_and_maintenance(ctx: Context) -> None:
    """Three firing alert groups through the real intake and worker; one maintenance window
    that has begun and one two days ahead."""
    made = await integration(ctx, name="prometheus")
    async with intake_client(ctx) as http:
        for key, title in (("db", "Primary database replication lag"),
                           ("disk", "Disk almost full on worker-3"),
                           ("tls", "TLS certificate expires in 5 days")):  # fmt: skip
            body = generic(key, title=title)
            assert (await http.post(path_of(made), content=body)).status_code == 202
    await runner(ctx).fire_due()
    now, root = ctx.clock(), Actor("cli", "root", "root")
    parts = tuple(Component(name) for name in ("API", "Database", "Network"))
    ctx = ctx.with_policy(replace(ctx.policy, components=parts))
    windows = [
        ("Database upgrade to 16", timedelta(minutes=-20), timedelta(hours=1), ["Database", "API"],
         "Writes pause for a few seconds at failover."),
        ("Network switch replacement", timedelta(days=2), timedelta(days=2, hours=2), ["Network"],
         ""),
    ]  # fmt: skip
    for title, start, end, components, description in windows:
        await maintenance.create(ctx, root, title, (now + start).isoformat(),
                                 (now + end).isoformat(), components, description)  # fmt: skip


async def test_screenshots_of_alert_groups_and_maintenance(
    browser: object, site: Site, tmp_path: Path
) -> None:
    """The Alerts page shows the firing groups and the Maintenance page the running and the
    upcoming window, on a desktop and a phone-sized screen (written to docs/images with
    TOCSIN_UPDATE_SCREENSHOTS=1)."""
    await _seed_alerts_and_maintenance(site.ctx)
    out = IMAGES if os.environ.get("TOCSIN_UPDATE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = await signed_in(browser, site, "alice", viewport)
        await page.goto(site.url + "/alert-groups")
        await expect(page.locator("main")).to_contain_text("Primary database replication lag")
        await expect(page.locator("main")).to_contain_text("3 firing")
        await page.screenshot(path=str(out / f"alerts-{label}.png"), full_page=label == "desktop")
        await page.goto(site.url + "/maintenance")
        running = page.locator("tr", has_text="Database upgrade to 16")
        await expect(running.locator(".badge")).to_have_text("in progress")
        await expect(running).to_contain_text("Database, API")
        upcoming = page.locator("tr", has_text="Network switch replacement")
        await expect(upcoming.locator(".badge")).to_have_text("scheduled")
        target = out / f"maintenance-{label}.png"
        await page.screenshot(path=str(target), full_page=label == "desktop")
        assert target.read_bytes().startswith(b"\x89PNG")
        await page.context.close()
