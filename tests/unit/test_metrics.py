"""Prometheus metrics: one module, a registry per app, and what the middleware records."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from tocsin import __version__
from tocsin.observability import Metrics, RequestContextMiddleware, create_metrics, render

METRIC_NAMES = [
    "http_requests_total",
    "http_request_duration_seconds",
    "commands_total",
    "command_duration_seconds",
    "incidents_declared_total",
    "open_incidents",
    "outbox_pending",
    "outbox_oldest_pending_seconds",
    "deliveries_total",
    "delivery_duration_seconds",
    "circuit_breaker_state",
    "timers_fired_total",
    "time_to_acknowledge_seconds",
    "time_to_resolve_seconds",
    "pages_sent_total",
    "escalations_total",
    "status_cache_total",
    "status_subscribers",
    "build_info",
]


def touch_every_metric(metrics: Metrics) -> None:
    """Give each labelled metric one child so it shows up in the text output."""
    metrics.http_requests_total.labels("/x", "GET", "200").inc()
    metrics.http_request_duration_seconds.labels("/x", "GET").observe(0.01)
    metrics.commands_total.labels("slack", "declare", "allowed").inc()
    metrics.command_duration_seconds.labels("slack").observe(0.02)
    metrics.incidents_declared_total.labels("P1").inc()
    metrics.open_incidents.labels("P1").set(1)
    metrics.outbox_pending.labels("slack").set(3)
    metrics.outbox_oldest_pending_seconds.labels("slack").set(4.5)
    metrics.deliveries_total.labels("slack", "delivered").inc()
    metrics.delivery_duration_seconds.labels("slack").observe(0.2)
    metrics.circuit_breaker_state.labels("slack").set(2)
    metrics.timers_fired_total.labels("reminder").inc()
    metrics.time_to_acknowledge_seconds.labels("P1").observe(120)
    metrics.time_to_resolve_seconds.labels("P1").observe(3600)
    metrics.pages_sent_total.labels("slack").inc()
    metrics.escalations_total.labels("1").inc()
    metrics.status_cache_total.labels("hit").inc()
    metrics.status_subscribers.labels("email", "confirmed").set(2)


def test_render_contains_every_metric_name() -> None:
    """/metrics text names every metric tocsin defines, with the Prometheus content type."""
    metrics = create_metrics(process=False)
    touch_every_metric(metrics)
    body, content_type = render(metrics)
    text = body.decode()
    assert content_type.startswith("text/plain")
    for name in METRIC_NAMES:
        assert f"# HELP {name} " in text, name
    assert 'circuit_breaker_state{destination="slack"} 2.0' in text
    assert f'build_info{{version="{__version__}"}} 1.0' in text


def test_process_collectors_are_optional() -> None:
    """The app gets process metrics (CPU, memory); tests can leave them out."""
    with_process = render(create_metrics())[0].decode()
    without = render(create_metrics(process=False))[0].decode()
    assert "process_cpu_seconds_total" in with_process or "python_info" in with_process
    assert "python_info" not in without


def test_created_series_are_not_exported() -> None:
    """Counters export only their value, not an extra *_created series per label set."""
    metrics = create_metrics(process=False)
    metrics.pages_sent_total.labels("slack").inc()
    assert "_created" not in render(metrics)[0].decode()


def test_registries_do_not_collide() -> None:
    """Two Metrics objects are independent and neither touches the global default registry."""
    first, second = create_metrics(process=False), create_metrics(process=False)
    first.incidents_declared_total.labels("P2").inc()
    labels = {"severity": "P2"}
    assert first.registry.get_sample_value("incidents_declared_total", labels) == 1
    assert second.registry.get_sample_value("incidents_declared_total", labels) is None
    assert REGISTRY.get_sample_value("incidents_declared_total", labels) is None


def test_histogram_buckets_fit_what_they_measure() -> None:
    """Requests are bucketed from 1 ms to 5 s; time to acknowledge from 1 minute to 7 days."""
    metrics = create_metrics(process=False)
    metrics.http_request_duration_seconds.labels("/x", "GET").observe(0.0005)
    metrics.time_to_acknowledge_seconds.labels("P1").observe(30)
    text = render(metrics)[0].decode()
    assert 'http_request_duration_seconds_bucket{le="0.001",method="GET",route="/x"} 1.0' in text
    assert 'le="5.0",method="GET"' in text
    assert 'time_to_acknowledge_seconds_bucket{le="60.0",severity="P1"} 1.0' in text
    assert 'time_to_acknowledge_seconds_bucket{le="604800.0",severity="P1"} 1.0' in text


async def show_incident(request: Request) -> PlainTextResponse:
    """Answers with the incident id from the path."""
    return PlainTextResponse(request.path_params["incident_id"])


async def teapot(request: Request) -> Response:
    """Answers 418 so the status label can be checked."""
    return Response(status_code=418)


def make_app(metrics: Metrics) -> Starlette:
    api = [
        Route("/incidents/{incident_id}", show_incident),
        Route("/teapot", teapot, methods=["GET", "POST"]),
    ]
    return Starlette(
        routes=[Mount("/api/v1", routes=api), Route("/teapot", teapot, methods=["POST"])],
        middleware=[Middleware(RequestContextMiddleware, metrics=metrics)],
    )


async def request(metrics: Metrics, path: str, method: str = "GET") -> httpx.Response:
    transport = httpx.ASGITransport(app=make_app(metrics))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path)


async def test_request_duration_is_recorded_by_route_template() -> None:
    """Requests are counted and timed under the route template, never the raw path."""
    metrics = create_metrics(process=False)
    await request(metrics, "/api/v1/incidents/INC-1")
    await request(metrics, "/api/v1/incidents/INC-2")
    sample = metrics.registry.get_sample_value
    route = "/api/v1/incidents/{incident_id}"
    labels = {"route": route, "method": "GET"}
    assert sample("http_request_duration_seconds_count", labels) == 2
    assert (sample("http_request_duration_seconds_sum", labels) or 0) > 0
    assert sample("http_requests_total", {**labels, "status": "200"}) == 2
    assert "INC-1" not in render(metrics)[0].decode()


async def test_status_and_unmatched_routes_are_labelled() -> None:
    """The status label is the answer's code; a path no route matched is 'unmatched'."""
    metrics = create_metrics(process=False)
    teapot_response = await request(metrics, "/teapot", method="POST")
    missing = await request(metrics, "/nowhere/12345")
    assert (teapot_response.status_code, missing.status_code) == (418, 404)
    sample = metrics.registry.get_sample_value
    assert sample("http_requests_total", {"route": "/teapot", "method": "POST", "status": "418"})
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert sample("http_requests_total", unmatched) == 1


async def test_exceptions_pass_through_and_are_counted_as_500() -> None:
    """The middleware re-raises the app's exception unchanged and records a 500."""
    metrics = create_metrics(process=False)

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise LookupError("boom")

    app = RequestContextMiddleware(broken, metrics)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with pytest.raises(LookupError, match="boom"):
            await client.get("/x")
    labels = {"route": "unmatched", "method": "GET", "status": "500"}
    assert metrics.registry.get_sample_value("http_requests_total", labels) == 1


async def test_unusual_methods_share_one_label() -> None:
    """Made-up HTTP methods are counted as OTHER, so they cannot add time series."""
    metrics = create_metrics(process=False)
    await request(metrics, "/teapot", method="BREW")
    labels = {"route": "/teapot", "method": "OTHER", "status": "405"}
    assert metrics.registry.get_sample_value("http_requests_total", labels) == 1
