"""The alert routes of the REST API: integrations for admins only, alert groups for readers,
acknowledge, silence and declare for writers; errors as problem details."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest

from fakes.alerts_kit import generic, runner
from fakes.web_app import bearer
from integration.test_api import assert_problem
from tocsin.adapters.web.alerts import alert_intake_routes
from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.observability.metrics import create_metrics
from tocsin.services.context import Context


@pytest.fixture
async def client(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    routes = [*alert_intake_routes(ctx), *access_routes(ctx, secret="k" * 40, secure_cookies=False)]
    app = create_app(ctx, create_metrics(process=False), Runtime(), routes=routes)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield http


async def test_integrations_are_for_admins(ctx: Context, client: httpx.AsyncClient) -> None:
    """An admin token creates (201, URL shown once), lists (no secrets), rotates and deletes an
    integration; a write token gets 403; a bad kind is 422; an unknown name 404."""
    admin = await bearer(ctx, "admin", "admin")
    writer = await bearer(ctx, "writer", "write")
    made = await client.post(
        "/api/v1/integrations", json={"kind": "webhook", "name": "kuma"}, headers=admin
    )
    assert made.status_code == 201, made.text
    assert made.json()["url"].startswith("/alerts/")  # the test context has no public URL
    listed = (await client.get("/api/v1/integrations", headers=admin)).json()["items"]
    assert [(i["name"], i["kind"]) for i in listed] == [("kuma", "webhook")]
    assert "url" not in listed[0]
    assert_problem(await client.get("/api/v1/integrations", headers=writer), 403)
    bad = await client.post(
        "/api/v1/integrations", json={"kind": "nagios", "name": "x"}, headers=admin
    )
    assert_problem(bad, 422)
    rotated = await client.post("/api/v1/integrations/kuma/rotate", headers=admin)
    assert rotated.json()["url"] != made.json()["url"]
    old = await client.post(urlsplit(made.json()["url"]).path, content=generic("a"))
    assert old.status_code == 401
    assert (await client.delete("/api/v1/integrations/kuma", headers=admin)).status_code == 200
    assert_problem(await client.delete("/api/v1/integrations/kuma", headers=admin), 404)


async def test_alert_groups_list_ack_silence_declare(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """A posted alert becomes a group readers see; a writer acknowledges, silences and declares
    it (the group then names its incident); a read token may not; unknown ids are 404."""
    admin = await bearer(ctx, "admin", "admin")
    reader = await bearer(ctx, "reader", "read")
    writer = await bearer(ctx, "writer", "write")
    made = await client.post(
        "/api/v1/integrations", json={"kind": "webhook", "name": "kuma"}, headers=admin
    )
    path = urlsplit(made.json()["url"]).path
    assert (await client.post(path, content=generic("disk"))).status_code == 202
    await runner(ctx).fire_due()
    [group] = (await client.get("/api/v1/alert-groups", headers=reader)).json()["items"]
    assert (group["status"], group["title"], group["incident"]) == ("firing", "disk is down", None)
    one = f"/api/v1/alert-groups/{group['id']}"
    detail = (await client.get(one, headers=reader)).json()
    assert detail["alert_list"][0]["fingerprint"] == "disk"
    assert_problem(await client.post(f"{one}/ack", headers=reader), 403)
    assert (await client.post(f"{one}/ack", headers=writer)).json()["status"] == "acknowledged"
    silenced = await client.post(f"{one}/silence", json={"minutes": 30}, headers=writer)
    assert silenced.json()["status"] == "silenced"
    declared = await client.post(f"{one}/declare", headers=writer)
    assert declared.json()["incident"] == "INC-1"
    assert_problem(await client.post(f"{one}/declare", headers=writer), 409)
    assert_problem(await client.get("/api/v1/alert-groups/999", headers=reader), 404)
    firing = await client.get("/api/v1/alert-groups?status=resolved", headers=reader)
    assert firing.json()["items"] == []
