"""The public status page against the real app and database (SQLite and PostgreSQL): what is
public, escaping of hostile text, Atlassian's JSON shapes, caching with ETag/304 and invalidation,
the REST calls for visibility and components, and the cache counters in /metrics."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from xml.etree import ElementTree as ET

import httpx
import pytest

from fakes.web_app import bearer
from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.api.ratelimit import MemoryLimiter
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.adapters.web.status import StatusSurface, build_cache, manage, page_info
from tocsin.adapters.web.status.cache import StatusCache
from tocsin.adapters.web.status.routes import public_routes
from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Severity
from tocsin.observability.metrics import Metrics, create_metrics
from tocsin.services.context import Context
from tocsin.services.dispatch import execute

HOSTILE = "<script>alert(1)</script>"
ALICE = Actor("slack", "U0ALICE", "alice")
BOB = Actor("slack", "U0BOB", "bob")


@dataclass
class Site:
    http: httpx.AsyncClient
    cache: StatusCache
    metrics: Metrics


@pytest.fixture
async def site(ctx: Context) -> AsyncIterator[Site]:
    metrics = create_metrics(process=False)
    cache = build_cache(ctx, page_info("https://example.test"), b"k" * 32, metrics)
    routes = [
        *public_routes(cache),
        *manage.routes(ctx, MemoryLimiter(), cache),
        *access_routes(ctx, secret="k" * 40, secure_cookies=False),
    ]
    app = create_app(ctx, metrics, Runtime(), routes=routes)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield Site(http, cache, metrics)


async def run(ctx: Context, actor: Actor, name: str, **kw: object) -> None:
    await execute(ctx, actor, Command(name, **kw))  # type: ignore[arg-type]


async def declare(ctx: Context, title: str, severity: Severity) -> None:
    await run(ctx, ALICE, "declare", text=title, severity=severity)


async def test_page_shows_public_incidents_with_hostile_text_escaped(
    ctx: Context, site: Site
) -> None:
    """/status needs no login, escapes a hostile title and update, shows update texts but never
    notes, has a CSP without scripts, and leaves a P3 (not public by policy) off the page."""
    await declare(ctx, HOSTILE, Severity.P1)
    await run(ctx, ALICE, "update", incident=1, text=f"Failing over {HOSTILE}")
    await run(ctx, ALICE, "note", incident=1, text="internal: db-7 password rotated")
    await declare(ctx, "Quiet internal thing", Severity.P3)
    response = await site.http.get("/status")
    assert response.status_code == 200
    page = response.text
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Failing over" in page
    assert "password rotated" not in page
    assert "Quiet internal thing" not in page
    assert "INC-1" not in page
    csp = response.headers["content-security-policy"]
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_summary_json_has_atlassians_shape_and_escapes(ctx: Context, site: Site) -> None:
    """summary.json has page, components, incidents with incident_updates, scheduled
    maintenances and status; the raw bytes never contain "<script>" yet parse back to it."""
    await declare(ctx, HOSTILE, Severity.P2)
    await run(ctx, ALICE, "update", incident=1, text="Payments slow")
    response = await site.http.get("/status/api/v2/summary.json")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert b"<script>" not in response.content
    body = response.json()
    assert set(body) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert set(body["page"]) == {"id", "name", "url", "time_zone", "updated_at"}
    assert body["page"]["url"] == "https://example.test/status"
    assert body["status"] == {"indicator": "major", "description": "Partial System Outage"}
    (incident,) = body["incidents"]
    assert incident["name"] == HOSTILE
    assert incident["impact"] == "major"
    assert incident["status"] == "investigating"
    bodies = [u["body"] for u in incident["incident_updates"]]
    assert bodies == ["Payments slow", "We are investigating this issue."]
    assert {"id", "status", "body", "created_at", "display_at"} <= set(
        incident["incident_updates"][0]
    )


async def test_other_documents_and_the_atom_feed(ctx: Context, site: Site) -> None:
    """status, components, incidents and unresolved JSON; the Atom feed parses and escapes."""
    await declare(ctx, f"Old {HOSTILE}", Severity.P1)
    await run(ctx, ALICE, "resolve", incident=1, text="")
    await declare(ctx, "Checkout errors", Severity.P1)
    status = (await site.http.get("/status/api/v2/status.json")).json()
    assert status["status"]["indicator"] == "critical"
    assert set(status) == {"page", "status"}
    assert (await site.http.get("/status/api/v2/components.json")).json()["components"] == []
    everything = (await site.http.get("/status/api/v2/incidents.json")).json()["incidents"]
    assert [i["status"] for i in everything] == ["investigating", "resolved"]
    unresolved = await site.http.get("/status/api/v2/incidents/unresolved.json")
    assert [i["name"] for i in unresolved.json()["incidents"]] == ["Checkout errors"]
    feed = await site.http.get("/status/history.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert b"<script>" not in feed.content
    root = ET.fromstring(feed.content)  # noqa: S314 - tocsin's own feed
    titles = [e.text for e in root.iter("{http://www.w3.org/2005/Atom}title")]
    assert f"Old {HOSTILE}" in titles


async def test_etag_304_and_invalidation_on_commit(ctx: Context, site: Site) -> None:
    """A repeated GET with If-None-Match gets 304; a commit in this process changes the page at
    once (a new ETag), without waiting for any expiry."""
    await declare(ctx, "API errors", Severity.P1)
    first = await site.http.get("/status/api/v2/summary.json")
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert first.headers["last-modified"]
    again = await site.http.get("/status/api/v2/summary.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    await run(ctx, ALICE, "update", incident=1, text="Rolled back")
    after = await site.http.get("/status/api/v2/summary.json", headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert "Rolled back" in after.text
    head = await site.http.head("/status")
    assert head.status_code == 200
    assert head.content == b""


async def test_cache_counters_in_metrics(ctx: Context, site: Site) -> None:
    """Repeated requests are hits; the first build and render are misses; /metrics shows both."""
    for _ in range(5):
        assert (await site.http.get("/status/api/v2/status.json")).status_code == 200
    text = (await site.http.get("/metrics")).text
    hits = _sample(text, 'status_cache_total{result="hit"}')
    misses = _sample(text, 'status_cache_total{result="miss"}')
    assert misses >= 1
    assert hits >= 4
    assert site.cache.builds == 1


def _sample(text: str, name: str) -> float:
    return next(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


async def test_downgraded_incident_stays_public_until_resolved(ctx: Context, site: Site) -> None:
    """A P1 lowered to P3 stays on the page (impact minor) and shows its resolution."""
    await declare(ctx, "Search down", Severity.P1)
    await run(ctx, ALICE, "severity", incident=1, severity=Severity.P3)
    unresolved = (await site.http.get("/status/api/v2/incidents/unresolved.json")).json()
    assert [i["impact"] for i in unresolved["incidents"]] == ["minor"]
    await run(ctx, ALICE, "update", incident=1, text="Still slow for some")
    await run(ctx, ALICE, "resolve", incident=1, text="")
    incidents = (await site.http.get("/status/api/v2/incidents.json")).json()["incidents"]
    assert incidents[0]["status"] == "resolved"
    assert incidents[0]["incident_updates"][0]["body"] == "This incident has been resolved."


async def test_visibility_through_the_rest_call(ctx: Context, site: Site) -> None:
    """The commander makes a P3 public and a P1 private through the REST call; someone else is
    refused (403) and the page follows each change."""
    commander = await bearer(ctx, "ic-bot", "write")
    other = await bearer(ctx, "someone", "write")
    created = await site.http.post(
        "/api/v1/incidents", json={"title": "Slow search", "severity": "P3"}, headers=commander
    )
    assert created.status_code == 201
    url = "/api/v1/incidents/INC-1/visibility"
    refused = await site.http.put(url, json={"public": True}, headers=other)
    assert refused.status_code == 403
    assert "commander" in refused.json()["detail"]
    made = await site.http.put(url, json={"public": True}, headers=commander)
    assert made.status_code == 200, made.text
    assert "is on the public status page" in made.json()["message"]
    shown = (await site.http.get("/status/api/v2/incidents.json")).json()["incidents"]
    assert [i["name"] for i in shown] == ["Slow search"]
    hidden = await site.http.put(url, json={"public": False}, headers=commander)
    assert hidden.status_code == 200
    assert (await site.http.get("/status/api/v2/incidents.json")).json()["incidents"] == []
    again = await site.http.put(url, json={"public": False}, headers=commander)
    assert again.status_code == 409


async def test_components_through_the_rest_calls(ctx: Context, site: Site) -> None:
    """An admin adds components and puts one under maintenance; a write token may not; an
    incident names the components it affects, which take the severity's status."""
    admin = await bearer(ctx, "ops", "admin")
    writer = await bearer(ctx, "ic-bot", "write")
    base = "/api/v1/status/components"
    assert (await site.http.put(f"{base}/API", json={}, headers=writer)).status_code == 403
    for name in ("API", "Web <b>app</b>"):
        answer = await site.http.put(f"{base}/{name}", json={"description": "x"}, headers=admin)
        assert answer.status_code == 200, answer.text
    maint = await site.http.put(f"{base}/API", json={"status": "under_maintenance"}, headers=admin)
    assert maint.json()["status"] == "under_maintenance"
    status = (await site.http.get("/status/api/v2/status.json")).json()["status"]
    assert status == {"indicator": "maintenance", "description": "Service Under Maintenance"}
    await site.http.post(
        "/api/v1/incidents", json={"title": "Web broken", "severity": "P2"}, headers=writer
    )
    named = await site.http.put(
        "/api/v1/incidents/1/components", json={"components": ["web <B>APP</b>"]}, headers=writer
    )
    assert named.status_code == 200, named.text
    listed = (await site.http.get(base, headers=writer)).json()["items"]
    effective = {item["name"]: item["effective_status"] for item in listed}
    assert effective == {"API": "under_maintenance", "Web <b>app</b>": "partial_outage"}
    page = (await site.http.get("/status")).text
    assert "Web &lt;b&gt;app&lt;/b&gt;" in page
    unknown = await site.http.put(
        "/api/v1/incidents/1/components", json={"components": ["Nope"]}, headers=writer
    )
    assert unknown.status_code == 404
    removed = await site.http.delete(f"{base}/API", headers=admin)
    assert removed.status_code == 200
    names = [
        c["name"] for c in json.loads((await site.http.get(base, headers=admin)).text)["items"]
    ]
    assert names == ["Web <b>app</b>"]


async def test_fast_path_answers_ahead_of_the_middleware(ctx: Context) -> None:
    """Installed on the app (as ``tocsin serve`` does), the status paths skip the request-id
    layer but are still counted per route in http_requests_total; other methods and paths go
    through the app as before."""
    metrics = create_metrics(process=False)
    cache = build_cache(ctx, page_info("https://example.test"), b"k" * 32, metrics)
    app = create_app(ctx, metrics, Runtime(), routes=public_routes(cache))
    StatusSurface(public_routes(cache), [], cache, metrics).install(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        fast = await http.get("/status/api/v2/status.json")
        assert fast.status_code == 200
        assert "x-request-id" not in fast.headers
        assert (await http.get("/status/status.css")).headers["content-type"].startswith("text/css")
        refused = await http.post("/status")
        assert refused.status_code == 405
        assert "x-request-id" in refused.headers
        text = (await http.get("/metrics")).text
    line = 'http_requests_total{method="GET",route="/status/api/v2/status.json",status="200"}'
    assert _sample(text, line) == 1.0


async def test_database_outage_serves_the_last_page(ctx: Context, site: Site) -> None:
    """When the database cannot be read, the last page built is still served (stale) instead
    of an error; with nothing built yet the answer is a plain 503 with Retry-After."""
    await declare(ctx, "Checkout down", Severity.P1)
    assert "Checkout down" in (await site.http.get("/status")).text

    async def broken() -> object:
        raise ConnectionError("database is down")

    site.cache.load = broken  # type: ignore[assignment]
    site.cache.marker = broken
    site.cache.invalidate()
    stale = await site.http.get("/status")
    assert stale.status_code == 200
    assert "Checkout down" in stale.text
    cold = build_cache(ctx, page_info("https://example.test"), b"k" * 32)
    cold.load = broken  # type: ignore[assignment]
    app = create_app(ctx, create_metrics(process=False), Runtime(), routes=public_routes(cold))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        down = await http.get("/status/api/v2/summary.json")
    assert down.status_code == 503
    assert down.headers["retry-after"] == "5"
    assert "temporarily unavailable" in down.json()["error"]
