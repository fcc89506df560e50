"""The dashboard's Maintenance page against the real database and app: behind sign-in, listing,
scheduling and cancelling through forms that carry the session's CSRF token; a bad field is
explained and saves nothing; a forged form changes nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx

from conftest import Clock
from integration.test_api_dashboard import client, csrf_of, quick_hashes, sign_in, users
from tocsin.domain.model import Actor
from tocsin.services import maintenance as service
from tocsin.services.context import Context

__all__ = ["client", "quick_hashes", "users"]  # the dashboard tests' fixtures, used here too
ROOT = Actor("cli", "root", "root")


async def test_the_page_needs_a_login(client: httpx.AsyncClient) -> None:
    """Signed out, the page and its forms redirect to the sign-in page."""
    for answer in (await client.get("/maintenance"), await client.post("/maintenance")):
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")


async def test_schedule_list_and_cancel(
    ctx: Context, client: httpx.AsyncClient, clock: Clock
) -> None:
    """A signed-in user schedules a window (timers armed, audited by the use case), sees it listed
    as scheduled, and cancels it; the page then shows it cancelled without a Cancel button."""
    await sign_in(client, "alice")
    token = await csrf_of(client, "/maintenance")
    start, end = clock.now + timedelta(hours=1), clock.now + timedelta(hours=3)
    form = {"csrf": token, "title": "Disk <swap>", "start": start.isoformat(),
            "end": end.isoformat(), "description": "Brief pause"}  # fmt: skip
    made = await client.post("/maintenance", data=form)
    assert (made.status_code, made.headers["location"]) == (303, "/maintenance")
    [m] = await service.upcoming_and_current(ctx)
    assert (m.title, m.created_by) == ("Disk <swap>", "web:alice")
    page = (await client.get("/maintenance")).text
    assert "Maintenance #1 is scheduled." in page
    assert "Disk &lt;swap&gt;" in page
    assert 'action="/maintenance/1/cancel"' in page
    token = await csrf_of(client, "/maintenance")
    cancelled = await client.post("/maintenance/1/cancel", data={"csrf": token})
    assert cancelled.status_code == 303
    assert await service.upcoming_and_current(ctx) == []
    page = (await client.get("/maintenance")).text
    assert "cancelled" in page
    assert 'action="/maintenance/1/cancel"' not in page


async def test_a_bad_field_is_explained_and_saves_nothing(
    ctx: Context, client: httpx.AsyncClient, clock: Clock
) -> None:
    """An end before the start and an unknown component come back as a message naming the
    problem; nothing is scheduled."""
    await sign_in(client, "alice")
    start = clock.now + timedelta(hours=2)
    cases = [
        ({"end": (start - timedelta(hours=1)).isoformat()}, "end"),
        ({"end": (start + timedelta(hours=1)).isoformat(), "components": "Nope"}, "Nope"),
    ]
    for extra, named in cases:
        token = await csrf_of(client, "/maintenance")
        form = {"csrf": token, "title": "Upgrade", "start": start.isoformat(), **extra}
        assert (await client.post("/maintenance", data=form)).status_code == 303
        page = (await client.get("/maintenance")).text
        assert "flash-error" in page
        message = page.split("flash-error", 1)[1].split("</div>", 1)[0]
        assert named in message
    assert await service.upcoming_and_current(ctx) == []


async def test_a_form_without_the_csrf_token_changes_nothing(
    ctx: Context, client: httpx.AsyncClient, clock: Clock
) -> None:
    """Scheduling or cancelling without the session's token is refused (403)."""
    await sign_in(client, "alice")
    start, end = clock.now + timedelta(hours=1), clock.now + timedelta(hours=2)
    form = {"title": "Forged", "start": start.isoformat(), "end": end.isoformat()}
    assert (await client.post("/maintenance", data=form)).status_code == 403
    assert await service.upcoming_and_current(ctx) == []
    await service.create(ctx, ROOT, "Real", start.isoformat(), end.isoformat())
    assert (await client.post("/maintenance/1/cancel", data={})).status_code == 403
    assert [m.status for m in await service.upcoming_and_current(ctx)] == ["scheduled"]
