"""``/api/openapi.json`` and ``/api/docs`` describe every ``/api/v1`` route the server really
serves: the main table, the on-call routes and the status page's calls. The route walk below
reads the app itself, so a route added without a description fails here."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route

from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.api.ratelimit import MemoryLimiter
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.adapters.web.status import build_cache, manage, page_info
from tocsin.adapters.web.status.routes import public_routes
from tocsin.observability.metrics import create_metrics
from tocsin.services.context import Context

_PARAM = re.compile(r"\{[^}]*\}")


def shape(path: str) -> str:
    """``/overrides/{override_id}`` and ``/overrides/{id}`` alike: parameter names aside."""
    return _PARAM.sub("{}", path)


def served(routes: list[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    """Every (method, path) under ``routes``, mounts included; HEAD (implied by GET) left out."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Mount):
            found |= served(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((method, shape(prefix + route.path)))
    return found


@pytest.fixture
async def app(ctx: Context) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    metrics = create_metrics(process=False)
    cache = build_cache(ctx, page_info("https://example.test"), b"k" * 32, metrics)
    routes = [
        *public_routes(cache),
        *manage.routes(ctx, MemoryLimiter(), cache),
        *access_routes(ctx, secret="k" * 40, secure_cookies=False),
    ]
    asgi = create_app(ctx, metrics, Runtime(), routes=routes)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield asgi, http


async def test_every_served_api_route_is_in_the_openapi_document(
    app: tuple[Any, httpx.AsyncClient],
) -> None:
    """Each (method, path) the app serves under /api/v1 is an operation in /api/openapi.json,
    and the document describes no route that is not served."""
    asgi, http = app
    real = {(m, p) for m, p in served(list(asgi.routes)) if p.startswith("/api/v1/")}
    document = (await http.get("/api/openapi.json")).json()
    described = {
        (method.upper(), shape(path))
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert ("GET", "/api/v1/oncall") in real  # the walk sees the on-call and status routes
    assert ("PUT", "/api/v1/incidents/{}/visibility") in real
    assert real - described == set()
    assert described - real == set()


async def test_oncall_and_status_operations_carry_scope_body_and_responses(
    app: tuple[Any, httpx.AsyncClient],
) -> None:
    """The on-call and status operations say their scope, request body and responses like the
    rest: POST /overrides takes OverrideBody ("from"/"to") and answers 201 with an Override;
    the calendar feed answers text/calendar; PUT visibility takes VisibilityBody."""
    _, http = app
    document = (await http.get("/api/openapi.json")).json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    add = paths["/api/v1/overrides"]["post"]
    assert add["x-tocsin-scope"] == "write"
    assert add["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/OverrideBody"
    )
    assert {"person", "from", "to"} <= set(schemas["OverrideBody"]["required"])
    assert add["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Override"
    )
    assert {"403", "422"} <= set(add["responses"])
    feed = paths["/api/v1/schedules/{name}.ics"]["get"]
    assert "text/calendar" in feed["responses"]["200"]["content"]
    assert {p["name"] for p in feed["parameters"]} == {"name", "weeks", "person"}
    who = paths["/api/v1/oncall"]["get"]
    assert who["x-tocsin-scope"] == "read"
    assert who["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/OnCall"
    )
    visibility = paths["/api/v1/incidents/{number}/visibility"]["put"]
    assert visibility["requestBody"]["required"] is True
    assert "VisibilityBody" in schemas
    assert paths["/api/v1/status/components/{name}"]["put"]["requestBody"]["required"] is False
    assert all(ref in schemas for ref in ("Shift", "OnCall", "Override", "Component"))


async def test_docs_page_lists_the_oncall_and_status_routes(
    app: tuple[Any, httpx.AsyncClient],
) -> None:
    """/api/docs, the page for people, lists the on-call and status routes too."""
    _, http = app
    page = (await http.get("/api/docs")).text
    for path in ("/api/v1/oncall", "/api/v1/overrides/{id}", "/api/v1/status/components"):
        assert f"<code>{path}</code>" in page
