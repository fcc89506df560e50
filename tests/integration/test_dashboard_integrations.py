"""The dashboard's Integrations page against the real database and app: admins create, rotate
and delete alert integrations through CSRF-checked forms, the full URL is shown once and works
at the intake; anyone else is refused and forged or bad forms change nothing."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from fakes.alerts_kit import intake_client
from integration.test_api_dashboard import client, csrf_of, quick_hashes, sign_in, users
from tocsin.services.alerts import integrations as service
from tocsin.services.context import Context

__all__ = ["client", "quick_hashes", "users"]  # the dashboard tests' fixtures, used here too
URL_RE = re.compile(r'id="url" class="secret-url" readonly value="([^"]+)"')


def _shown_url(page: str) -> str:
    match = URL_RE.search(page)
    assert match is not None, page
    return urlsplit(match[1]).path


async def _post_alert(ctx: Context, path: str, body: bytes) -> int:
    async with intake_client(ctx) as intake:
        return (await intake.post(path, content=body)).status_code


async def test_an_admin_creates_rotates_and_deletes_an_integration(
    ctx: Context, client: httpx.AsyncClient, fixtures_dir: Path
) -> None:
    """Creating shows the full URL once (the list shows it without its secret) and that URL takes
    an Alertmanager body (202); rotating shows a new URL, the old one answers 401 and the new one
    202; deleting removes it from the list and its URL answers 404."""
    body = (fixtures_dir / "alertmanager" / "firing.json").read_bytes()
    await sign_in(client, "root")
    token = await csrf_of(client, "/integrations")
    made = await client.post(
        "/integrations", data={"csrf": token, "kind": "alertmanager", "name": "prometheus"}
    )
    assert made.status_code == 200, made.text
    first = _shown_url(made.text)
    secret = first.rsplit("/", 1)[1]
    listing = (await client.get("/integrations")).text
    assert "prometheus" in listing
    assert "alertmanager" in listing
    assert secret not in listing
    assert await _post_alert(ctx, first, body) == 202

    rotated = await client.post("/integrations/prometheus/rotate", data={"csrf": token})
    assert rotated.status_code == 200, rotated.text
    second = _shown_url(rotated.text)
    assert second != first
    assert await _post_alert(ctx, first, body) == 401
    assert await _post_alert(ctx, second, body) == 202

    deleted = await client.post("/integrations/prometheus/delete", data={"csrf": token})
    assert (deleted.status_code, deleted.headers["location"]) == (303, "/integrations")
    page = (await client.get("/integrations")).text
    assert "Integration &#34;prometheus&#34; is deleted" in page
    assert await service.list_integrations(ctx) == []
    assert await _post_alert(ctx, second, body) == 404


async def test_a_grafana_integration_shows_its_signing_secret_once(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """A Grafana integration's result page shows its HMAC signing secret; the list never does."""
    await sign_in(client, "root")
    token = await csrf_of(client, "/integrations")
    made = await client.post(
        "/integrations", data={"csrf": token, "kind": "grafana", "name": "grafana"}
    )
    [row] = await service.list_integrations(ctx)
    assert row.signing_secret
    assert row.signing_secret in made.text
    assert row.signing_secret not in (await client.get("/integrations")).text


async def test_a_heartbeat_takes_its_period_and_grace(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """A heartbeat is created with the period and grace from the form, in seconds."""
    await sign_in(client, "root")
    token = await csrf_of(client, "/integrations")
    form = {"csrf": token, "kind": "heartbeat", "name": "cron", "period": "300", "grace": "60"}
    assert (await client.post("/integrations", data=form)).status_code == 200
    [row] = await service.list_integrations(ctx)
    assert (row.kind, row.period_seconds, row.grace_seconds) == ("heartbeat", 300, 60)


async def test_others_are_refused_and_forged_forms_change_nothing(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """A non-admin gets 403 on the page and on every form; an admin's form without the CSRF
    token is 403 too; nothing is created, rotated or deleted."""
    made = await service.create_integration(ctx, "webhook", "hook", "cli:root")
    await sign_in(client, "alice")
    assert (await client.get("/integrations")).status_code == 403
    token = await csrf_of(client, "/")
    create = {"csrf": token, "kind": "webhook", "name": "other"}
    assert (await client.post("/integrations", data=create)).status_code == 403
    for action in ("rotate", "delete"):
        refused = await client.post(f"/integrations/hook/{action}", data={"csrf": token})
        assert refused.status_code == 403
    await client.post("/logout", data={"csrf": token})
    await sign_in(client, "root")
    forged = {"kind": "webhook", "name": "other"}
    assert (await client.post("/integrations", data=forged)).status_code == 403
    for action in ("rotate", "delete"):
        assert (await client.post(f"/integrations/hook/{action}", data={})).status_code == 403
    [row] = await service.list_integrations(ctx)
    assert (row.name, row.secret_hash) == ("hook", made.row.secret_hash)


async def test_a_bad_kind_or_name_shows_the_error_naming_the_field(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """An unknown kind, a bad name or a heartbeat without a period is refused with a message
    naming the field, and nothing is created."""
    await sign_in(client, "root")
    token = await csrf_of(client, "/integrations")
    cases = [
        ({"kind": "pagerduty", "name": "x"}, "unknown integration kind"),
        ({"kind": "webhook", "name": "no spaces"}, "an integration name is"),
        ({"kind": "heartbeat", "name": "cron"}, "a heartbeat needs a period"),
        ({"kind": "heartbeat", "name": "cron", "period": "soon"}, "The period is"),
    ]
    for fields, message in cases:
        answer = await client.post("/integrations", data={"csrf": token, **fields})
        assert answer.status_code == 400
        assert message in answer.text.replace("&#39;", "'")
    assert await service.list_integrations(ctx) == []
