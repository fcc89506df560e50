"""``/status/api/v2/components/{id}/uptime.json`` on the real app over real HTTP (uvicorn on
127.0.0.1) and the real database (SQLite and PostgreSQL): a monitored component's percentage is
the one the page shows, an unmonitored one's comes from incident outage time with its related
incidents, dates are validated naming the field, unknown ids are 404, the headers are those of
the other JSON documents, and the answer validates against Atlassian's ``ComponentUptime``."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from conftest import Clock
from fakes.slack_harness import served
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.adapters.web.status import build_cache, page_info
from tocsin.adapters.web.status.routes import public_routes
from tocsin.domain.commands import Command
from tocsin.domain.model import Actor, Severity
from tocsin.domain.policy_file import parse_policy
from tocsin.observability.metrics import create_metrics
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.services.visibility import set_components
from tocsin.storage.db import Database
from tocsin.storage.monitors import CheckResult

ALICE = Actor("slack", "U0ALICE", "alice")
HOSTILE = "<script>alert(1)</script>"
POLICY = {
    "component": [{"name": "Checkout"}, {"name": "Search"}],
    "monitor": [{"name": "web", "kind": "http", "url": "https://shop.example/health",
                 "component": "Checkout"}],
}  # fmt: skip
BASE = "/status/api/v2/components"


@pytest.fixture
def watched(db: Database, clock: Clock) -> Context:
    return Context(db, parse_policy(POLICY), clock=clock)


@pytest.fixture
async def http(watched: Context) -> AsyncIterator[httpx.AsyncClient]:
    metrics = create_metrics(process=False)
    cache = build_cache(watched, page_info("https://example.test"), b"k" * 32, metrics)
    app = create_app(watched, metrics, Runtime(), routes=public_routes(cache))
    async with served(app) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


@pytest.fixture
def schema(fixtures_dir: Path) -> dict[str, Any]:
    """Atlassian's ``ComponentUptime`` schema from the vendored OpenAPI document."""
    document = json.loads((fixtures_dir / "statuspage" / "statuspage_openapi3.json").read_text())
    return dict(document["components"]["schemas"]["ComponentUptime"])


async def ids(http: httpx.AsyncClient) -> dict[str, str]:
    components = (await http.get("/status/api/v2/components.json")).json()["components"]
    return {c["name"]: c["id"] for c in components}


async def seed_checks(ctx: Context, clock: Clock) -> None:
    """Four days of checks every 15 minutes for "web": one day with a quarter failed."""
    async with ctx.uow() as uow:
        for k in range(4 * 96):
            at = clock.now - timedelta(minutes=15 * (4 * 96 - k))
            await uow.monitors.add_result(CheckResult("web", at, not (96 <= k < 120), 120))
        await uow.commit()


def shown(html: str, day: str | None = None) -> str:
    """The page's uptime figure for Checkout: overall, or the bar of ``day``."""
    block = html.split('<span class="name">Checkout</span>', 1)[1].split('class="component"')[0]
    if day is None:
        return re.search(r"([\d.]+)% uptime</span>", block).group(1)  # type: ignore[union-attr]
    return re.search(rf'title="{day}: ([\d.]+)%', block).group(1)  # type: ignore[union-attr]


async def test_a_monitored_components_percentage_is_the_pages(
    watched: Context, clock: Clock, http: httpx.AsyncClient, schema: dict[str, Any]
) -> None:
    """With checks stored for Checkout's monitor, uptime.json over the default 90 days gives the
    percentage the page shows, over one day that day's bar, and the failed checks' share of
    that day as major outage; the answer validates against Atlassian's schema."""
    clock.advance(days=5)
    await seed_checks(watched, clock)
    checkout = (await ids(http))["Checkout"]
    page = (await http.get("/status")).text
    answer = await http.get(f"{BASE}/{checkout}/uptime.json")
    assert answer.status_code == 200
    document = answer.json()
    jsonschema.validate(document, schema)
    assert document["name"] == "Checkout"
    assert f"{document['uptime_percentage']:.2f}" == shown(page) == "93.75"
    today = clock.now.date()
    assert document["range_end"] == today.isoformat()
    assert document["range_start"] == (today - timedelta(days=89)).isoformat()
    assert document["warnings"] == ""
    failing = (clock.now - timedelta(days=3)).date().isoformat()  # checks 96..119
    day = (await http.get(f"{BASE}/{checkout}/uptime.json?start={failing}&end={failing}")).json()
    assert f"{day['uptime_percentage']:.2f}" == shown(page, failing)
    assert (day["major_outage"], day["partial_outage"]) == (21600, 0)  # 24 of 96 checks


async def test_an_unmonitored_component_counts_incident_outage_and_lists_it(
    watched: Context, clock: Clock, http: httpx.AsyncClient, schema: dict[str, Any]
) -> None:
    """A public P1 naming Search, resolved after 90 minutes, is 5400 s of major outage; it is
    the related event (its id as in incidents.json, its hostile title escaped); a range that
    reaches past today is clamped to today with Atlassian's warning."""
    await execute(watched, ALICE, Command("declare", text=HOSTILE, severity=Severity.P1))
    await set_components(watched, ALICE, 1, ["Search"])
    clock.advance(minutes=90)
    await execute(watched, ALICE, Command("resolve", incident=1, text="fixed"))
    clock.advance(hours=2)
    search = (await ids(http))["Search"]
    [incident] = (await http.get("/status/api/v2/incidents.json")).json()["incidents"]
    today = clock.now.date().isoformat()
    answer = await http.get(f"{BASE}/{search}/uptime.json?start={today}&end=2026-12-31")
    assert answer.status_code == 200
    assert b"\\u003cscript\\u003e" in answer.content
    assert b"<script>" not in answer.content
    document = answer.json()
    jsonschema.validate(document, schema)
    assert (document["major_outage"], document["partial_outage"]) == (5400, 0)
    assert document["range_end"] == today
    assert document["warnings"].startswith("End date was adjusted to today.")
    assert document["related_events"]["id"] == incident["id"]
    assert [e["name"] for e in document["related_events"]["incidents"]] == [HOSTILE]
    counted = (clock.now - clock.now.replace(hour=0, minute=0)).total_seconds()
    assert document["uptime_percentage"] == round(100 * (1 - 5400 / counted), 2)
    whole = (await http.get(f"{BASE}/{search}/uptime.json")).json()
    page = (await http.get("/status")).text
    block = page.split('<span class="name">Search</span>', 1)[1]
    assert f"{whole['uptime_percentage']:.2f}% uptime</span>" in block.split('"component"')[0]
    checkout = (await http.get(f"{BASE}/{(await ids(http))['Checkout']}/uptime.json")).json()
    assert checkout["related_events"] == {"incidents": []}


async def test_headers_and_not_modified_are_those_of_the_other_json(
    http: httpx.AsyncClient,
) -> None:
    """Any origin may read it, it carries the page cache's validators and Cache-Control, a
    matching If-None-Match answers 304, and HEAD answers without a body; components.json
    marks every component as showcased."""
    components = (await http.get("/status/api/v2/components.json")).json()["components"]
    assert [c["showcase"] for c in components] == [True, True]
    url = f"{BASE}/{components[0]['id']}/uptime.json"
    answer = await http.get(url)
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "public, max-age=10, stale-while-revalidate=30"
    again = await http.get(url, headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304
    head = await http.head(url)
    assert (head.status_code, head.content) == (200, b"")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=March", "start"),
        ("start=2026-02-30", "start"),
        ("end=2026-03-01T10:00", "end"),
        ("start=2026-03-01&end=2026-02-27", "end"),
        ("start=2027-01-01", "start"),
    ],
)
async def test_bad_dates_are_400_naming_the_field(
    http: httpx.AsyncClient, query: str, field: str
) -> None:
    """A date that is not one, an end before the start or a start after today is a 400 JSON
    error naming ``start`` or ``end``, readable from any origin."""
    checkout = (await ids(http))["Checkout"]
    answer = await http.get(f"{BASE}/{checkout}/uptime.json?{query}")
    assert answer.status_code == 400
    assert answer.headers["access-control-allow-origin"] == "*"
    body = answer.json()
    assert body["field"] == field
    assert body["error"].startswith(f"{field}: ")


async def test_an_unknown_component_is_404(http: httpx.AsyncClient) -> None:
    """An id that no component has is a 404 JSON error, not an empty document."""
    answer = await http.get(f"{BASE}/nosuchcomponent/uptime.json")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"
    assert "nosuchcomponent" in answer.json()["error"]
