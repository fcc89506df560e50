"""The dashboard's Maintenance page against the real database and app: behind sign-in, listing,
scheduling, editing and cancelling through forms that carry the session's CSRF token; a bad
field or a window that can no longer change is explained and saves nothing; a forged form
changes nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx

from conftest import Clock
from integration.test_api_dashboard import client, csrf_of, quick_hashes, sign_in, users
from tocsin.delivery.timers import TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.domain.model import Actor
from tocsin.services import maintenance as service
from tocsin.services.context import Context
from tocsin.services.public_status_page import ComponentChange, save_component

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


async def test_edit_a_window_through_its_form(
    ctx: Context, client: httpx.AsyncClient, clock: Clock
) -> None:
    """Each open window has an Edit form filled with its fields (times to the minute); saving
    it runs the edit use case (new title, end and components) and says so, and the start it
    showed unchanged stays exactly as it was (seconds included); a cancelled window has no
    form."""
    await save_component(ctx, ROOT, "API", ComponentChange(description="The API"))
    start = clock.now + timedelta(hours=1, seconds=7, microseconds=5)
    end = clock.now + timedelta(hours=2)
    made = await service.create(ctx, ROOT, "Disk swap", start.isoformat(), end.isoformat())
    gone = await service.create(ctx, ROOT, "Old", start.isoformat(), end.isoformat())
    await service.cancel(ctx, ROOT, gone.id)
    await sign_in(client, "alice")
    page = (await client.get("/maintenance")).text
    assert f'action="/maintenance/{made.id}/edit"' in page
    assert f'action="/maintenance/{gone.id}/edit"' not in page
    shown = start.strftime("%Y-%m-%dT%H:%MZ")
    assert f'name="start" required maxlength="64" value="{shown}"' in page
    token = await csrf_of(client, "/maintenance")
    later = end + timedelta(hours=2)
    form = {"csrf": token, "title": "Disk <swap> v2", "start": shown, "start_was": shown,
            "end": later.isoformat(), "end_was": end.strftime("%Y-%m-%dT%H:%MZ"),
            "components": "api", "description": "Longer"}  # fmt: skip
    saved = await client.post(f"/maintenance/{made.id}/edit", data=form)
    assert (saved.status_code, saved.headers["location"]) == (303, "/maintenance")
    m = await service.get(ctx, made.id)
    assert (m.title, m.starts_at, m.ends_at, m.components, m.description) == (
        "Disk <swap> v2", start, later, ("API",), "Longer",
    )  # fmt: skip
    page = (await client.get("/maintenance")).text
    assert f"Maintenance #{made.id} is saved." in page
    assert 'value="Disk &lt;swap&gt; v2"' in page


async def test_a_refused_edit_is_explained_and_changes_nothing(
    ctx: Context, client: httpx.AsyncClient, clock: Clock
) -> None:
    """An end before the start, a moved start once in progress, an edit of a cancelled window
    (the API's 409) and a form without the CSRF token change nothing; the first three come back
    as a message naming the problem, the last is 403."""
    start, end = clock.now + timedelta(hours=1), clock.now + timedelta(hours=2)
    made = await service.create(ctx, ROOT, "Upgrade", start.isoformat(), end.isoformat())
    running = await service.create(ctx, ROOT, "Now", clock.now.isoformat(), end.isoformat())
    handlers = service.maintenance_timer_handlers(TimerHandlers())
    assert await TimerRunner(ctx.db, handlers, Wakeup(), worker_id="t1", clock=clock).fire_due()
    assert (await service.get(ctx, running.id)).status == "in_progress"
    await sign_in(client, "alice")
    page = (await client.get("/maintenance")).text
    assert f'id="start-{running.id}" name="start" required maxlength="64" value="' in page
    assert f'aria-describedby="started-{running.id}"' in page  # shown read-only
    base = {"title": "Upgrade", "start": start.isoformat(), "end": end.isoformat()}
    early = (start - timedelta(minutes=30)).isoformat()
    cases = [
        (made.id, {"end": early}, "end: the window must end after it starts"),
        (made.id, {"title": ""}, "title"),
        (running.id, {"title": "Now"}, "start: the maintenance has started"),
    ]
    for number, extra, named in cases:
        token = await csrf_of(client, "/maintenance")
        answer = await client.post(f"/maintenance/{number}/edit",
                                   data={"csrf": token, **base, **extra})  # fmt: skip
        assert answer.status_code == 303
        page = (await client.get("/maintenance")).text
        message = page.split("flash-error", 1)[1].split("</div>", 1)[0]
        assert named in message
    await service.cancel(ctx, ROOT, made.id)
    token = await csrf_of(client, "/maintenance")
    await client.post(f"/maintenance/{made.id}/edit", data={"csrf": token, **base, "title": "X"})
    page = (await client.get("/maintenance")).text
    assert "can no longer be edited" in page.split("flash-error", 1)[1].split("</div>", 1)[0]
    forged = {**base, "title": "Forged", "end": (end + timedelta(hours=1)).isoformat()}
    assert (await client.post(f"/maintenance/{running.id}/edit", data=forged)).status_code == 403
    assert (await service.get(ctx, made.id)).title == "Upgrade"
    assert (await service.get(ctx, running.id)).title == "Now"
    assert (await service.get(ctx, running.id)).ends_at == end
