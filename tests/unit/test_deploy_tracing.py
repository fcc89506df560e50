"""Optional OpenTelemetry tracing: off (and import-free) unless asked for; when on, one trace
runs from the HTTP request through nested spans to a later delivery."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tocsin.observability import tracing

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def exported() -> Iterator[Any]:
    """Tracing switched on with an in-memory exporter; switched off again afterwards."""
    memory = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")
    exporter = memory.InMemorySpanExporter()
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
    assert tracing.configure_tracing(env, exporter=exporter, service_version="1.2.3")
    try:
        yield exporter
    finally:
        tracing.shutdown_tracing()


def _app() -> Starlette:
    @tracing.traced("load incident")
    async def load(number: int) -> int:
        return number

    async def item(request: Request) -> Response:
        number = int(request.path_params["number"])
        with tracing.span("uow", incident=number, skipped=None):
            await load(number)
            carrier = tracing.current_trace_context()
        return JSONResponse(carrier)

    async def boom(request: Request) -> Response:
        return Response("no", status_code=503)

    return Starlette(routes=[Route("/items/{number}", item), Route("/boom", boom)])


async def _get(app: Any, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path, headers=headers or {})


def test_off_unless_the_otel_variables_ask_for_it() -> None:
    """No OTEL_* variable, OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true: tracing stays
    off and the helpers are no-ops; an endpoint or an exporter name asks for it."""
    assert not tracing.wanted({})
    assert not tracing.wanted({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "x"})
    assert not tracing.wanted({"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "otlp"})
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318"})
    assert tracing.wanted({"OTEL_TRACES_EXPORTER": "console"})
    assert tracing.configure_tracing({}) is False
    assert not tracing.is_active()
    with tracing.span("anything", incident=1) as current:
        assert current is None
    assert tracing.current_trace_context() == {}
    assert tracing.inject_headers({"a": "b"}) == {"a": "b"}


async def test_middleware_passes_requests_through_when_off() -> None:
    """With tracing off the middleware changes nothing about the answer."""
    response = await _get(tracing.TracingMiddleware(_app()), "/items/7")
    assert response.status_code == 200
    assert response.json() == {}


def test_importing_the_module_imports_no_opentelemetry() -> None:
    """Importing tocsin.observability.tracing loads nothing from opentelemetry; with it
    unimportable, configure_tracing() answers False even when OTEL_* variables are set."""
    code = (
        "import sys\n"
        "import tocsin.observability.tracing as t\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')], 'imported'\n"
        "sys.modules['opentelemetry'] = None\n"
        "assert not t.available()\n"
        "assert t.configure_tracing({'OTEL_EXPORTER_OTLP_ENDPOINT': 'http://x:4318'}) is False\n"
        "app = object()\n"
        "assert t.instrument(app) is app\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_bad_exporter_setting_names_the_variable() -> None:
    """An exporter tocsin cannot build is refused with the variable's name in the message."""
    pytest.importorskip("opentelemetry.sdk.trace")
    with pytest.raises(ValueError, match=r"^OTEL_TRACES_EXPORTER: "):
        tracing.configure_tracing({"OTEL_TRACES_EXPORTER": "zipkin"})
    with pytest.raises(ValueError, match=r"^OTEL_EXPORTER_OTLP_PROTOCOL: "):
        tracing.configure_tracing(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_EXPORTER_OTLP_PROTOCOL": "carrier"}
        )
    assert not tracing.is_active()


async def test_request_unit_of_work_and_delivery_share_one_trace(exported: Any) -> None:
    """The server span continues the caller's traceparent and is named after the route
    template; the unit-of-work and decorated spans are its children; a delivery span opened
    later from the stored carrier joins the same trace."""
    app = tracing.instrument(_app())
    response = await _get(app, "/items/12", {"traceparent": TRACEPARENT})
    assert response.status_code == 200
    carrier = response.json()
    assert carrier["traceparent"].startswith(f"00-{TRACE_ID}-")
    with tracing.span("deliver", parent=carrier, destination="slack"):
        headers = tracing.inject_headers({})
    assert headers["traceparent"].startswith(f"00-{TRACE_ID}-")

    spans = {s.name: s for s in exported.get_finished_spans()}
    assert set(spans) == {"GET /items/{number}", "uow", "load incident", "deliver"}
    server, uow = spans["GET /items/{number}"], spans["uow"]
    assert {format(s.context.trace_id, "032x") for s in spans.values()} == {TRACE_ID}
    assert uow.parent.span_id == server.context.span_id
    assert spans["load incident"].parent.span_id == uow.context.span_id
    assert spans["deliver"].parent.span_id == uow.context.span_id
    assert dict(uow.attributes) == {"incident": 12}
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["http.route"] == "/items/{number}"
    assert server.resource.attributes["service.name"] == "tocsin"
    assert server.resource.attributes["service.version"] == "1.2.3"


async def test_server_errors_mark_the_span_as_failed(exported: Any) -> None:
    """A 5xx answer sets the server span's status to ERROR."""
    response = await _get(tracing.TracingMiddleware(_app()), "/boom")
    assert response.status_code == 503
    (server,) = exported.get_finished_spans()
    assert server.name == "GET /boom"
    assert server.status.status_code.name == "ERROR"
