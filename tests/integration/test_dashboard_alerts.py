"""The dashboard's Alerts page over HTTP against the real app and database: signed-in users see
the firing alert groups (escaped), and ``/alert-groups/events`` streams them again whenever one
changes, like the incident page's live timeline."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from fakes.alerts_kit import generic, groups, intake_client, integration, path_of, runner
from integration.test_api_dashboard import make_client, quick_hashes, sign_in, users
from tocsin.adapters.web.api.ratelimit import MemoryLimiter
from tocsin.adapters.web.dashboard.session import Deps
from tocsin.domain.model import Actor
from tocsin.services.alerts.groups import ack_group
from tocsin.services.context import Context

__all__ = ["quick_hashes", "users"]  # the fixtures, shared with test_api_dashboard.py
BOB = Actor("slack", "U0BOB", "bob")


async def _fire(ctx: Context, *bodies: bytes) -> None:
    made = await integration(ctx)
    async with intake_client(ctx) as http:
        for body in bodies:
            assert (await http.post(path_of(made), content=body)).status_code == 202
    await runner(ctx).fire_due()


@pytest.fixture
async def client(ctx: Context, users: None) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(ctx) as http:
        yield http


async def test_the_alerts_page_lists_firing_groups(ctx: Context, client: httpx.AsyncClient) -> None:
    """Signed out: to the login page (and 401 on the stream). Signed in: each firing group with
    its id, status and title, escaped; a resolved group is left out; the nav links the page."""
    assert (await client.get("/alert-groups")).status_code == 303
    assert (await client.get("/alert-groups/events")).status_code == 401
    await _fire(
        ctx,
        generic("disk", title="<b>Disk</b> full"),
        generic("cpu", title="CPU hot"),
        generic("cpu", "resolved"),
    )
    await sign_in(client, "alice")
    page = await client.get("/alert-groups")
    assert page.status_code == 200
    assert "&lt;b&gt;Disk&lt;/b&gt; full" in page.text
    assert "<b>Disk</b>" not in page.text
    assert "CPU hot" not in page.text
    assert "1 firing" in page.text
    assert 'href="/alert-groups"' in page.text
    assert '<script src="/assets/alerts.js" defer></script>' in page.text
    script = await client.get("/assets/alerts.js")
    assert "textContent" in script.text
    assert "innerHTML" not in script.text


async def test_the_alert_stream_sends_changes(ctx: Context, users: None) -> None:
    """The stream sends the firing groups at once, then again when someone acknowledges one
    elsewhere; it ends (as on a server drain) once it has looked again after the change."""
    looks_after_change: list[int] = []

    def stopping() -> bool:  # asked before each look at the database
        if looks_after_change:
            looks_after_change[0] += 1
        return bool(looks_after_change) and looks_after_change[0] > 1

    await _fire(ctx, generic("disk", title="Disk full"))
    [kept] = await groups(ctx)
    deps = Deps(ctx, MemoryLimiter(), poll_seconds=0.05, stream_seconds=30.0, stopping=stopping)
    async with make_client(ctx, deps=deps) as client:
        await sign_in(client, "alice")

        async def later() -> None:
            await ack_group(ctx, BOB, kept.id)
            looks_after_change.append(0)

        stream, _ = await asyncio.gather(client.get("/alert-groups/events"), later())
    assert stream.headers["content-type"].startswith("text/event-stream")
    sent = [
        json.loads(data)
        for data in re.findall(r"^event: groups\ndata: (.*)$", stream.text, re.MULTILINE)
    ]
    assert sent[-1] == [
        {
            "id": kept.id,
            "status": "acknowledged",
            "title": "Disk full",
            "firing": 1,
            "alerts": 1,
            "incident": None,
        }
    ]
    assert len(sent) <= 2  # sent again only when something changed
