"""Optional OpenTelemetry tracing: ``pip install 'tocsin[otel]'`` and the standard OTEL_* variables.

Tracing is on only when both hold:

- the OpenTelemetry SDK is installed (the ``otel`` extra), and
- the environment asks for traces: ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
  ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set, or ``OTEL_TRACES_EXPORTER`` names an exporter
  (``otlp``, ``console``); ``OTEL_TRACES_EXPORTER=none`` or ``OTEL_SDK_DISABLED=true`` keep it off.

Everything else is read by OpenTelemetry itself from the standard variables
(``OTEL_SERVICE_NAME``, default ``tocsin``; ``OTEL_RESOURCE_ATTRIBUTES``;
``OTEL_EXPORTER_OTLP_PROTOCOL``, ``http/protobuf`` by default or ``grpc``; headers, timeouts,
``OTEL_TRACES_SAMPLER``...). Nothing from ``opentelemetry`` is imported when this module is
imported, and when tracing is off every helper here is a cheap no-op.

How spans connect, request → unit of work → delivery:

- :class:`TracingMiddleware` (pure ASGI) opens a server span per HTTP request, continuing a
  W3C ``traceparent`` sent by the caller, named ``GET /api/v1/incidents/{number}``.
- :func:`span` / :func:`traced` open child spans (``with span("uow.commit", incident=12):``).
- :func:`current_trace_context` returns the ``traceparent`` carrier of the current span, to
  store with an outbox row; the delivery worker later opens ``span("deliver", parent=carrier)``
  so the delivery joins the request's trace, and :func:`inject_headers` propagates it onward.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import inspect
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin import __version__
from tocsin.observability.middleware import route_template

P = ParamSpec("P")
R = TypeVar("R")

_EXPORTER_MODULES = {
    "http/protobuf": "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "http/json": "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "grpc": "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
}


@dataclass
class _State:
    tracer: Any = None
    provider: Any = None


_state = _State()


def wanted(env: Mapping[str, str]) -> bool:
    """Whether the OTEL_* variables in ``env`` ask for traces (installed or not)."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    endpoints = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return bool(exporter) or any(env.get(name, "").strip() for name in endpoints)


def available() -> bool:
    """Whether the OpenTelemetry SDK can be imported (the ``otel`` extra is installed)."""
    try:
        return importlib.util.find_spec("opentelemetry.sdk.trace") is not None
    except (ImportError, ValueError):  # a parent package missing, or blocked in sys.modules
        return False


def _exporter(env: Mapping[str, str]) -> Any:
    """The span exporter OTEL_TRACES_EXPORTER and OTEL_EXPORTER_OTLP_*PROTOCOL name."""
    name = env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name != "otlp":
        raise ValueError(
            f"OTEL_TRACES_EXPORTER: tocsin supports otlp, console or none (got {name!r})"
        )
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    module_name = _EXPORTER_MODULES.get(protocol)
    if module_name is None:
        raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL: unsupported protocol {protocol!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        package = module_name.rsplit(".", 1)[0].replace(".", "-")
        raise ValueError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol} needs the {package} package "
            "(pip install 'tocsin[otel]')"
        ) from None
    return module.OTLPSpanExporter()


def configure_tracing(
    env: Mapping[str, str] | None = None,
    *,
    exporter: Any = None,
    service_version: str = __version__,
) -> bool:
    """Turn tracing on if the SDK is installed and ``env`` (default ``os.environ``) asks for it.

    Returns whether tracing is now on. ``exporter`` replaces the one the variables name and
    exports each span as it ends (tests pass an in-memory exporter). A bad OTEL value raises
    ``ValueError`` whose message names the variable.
    """
    env = os.environ if env is None else env
    if not wanted(env) or not available():
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SimpleSpanProcessor,
    )

    attributes = {"service.version": service_version}
    if not env.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = "tocsin"
    provider = TracerProvider(resource=Resource.create(attributes))
    if exporter is None:
        provider.add_span_processor(BatchSpanProcessor(_exporter(env)))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    shutdown_tracing()
    _state.provider = provider
    _state.tracer = provider.get_tracer("tocsin", service_version)
    return True


def shutdown_tracing() -> None:
    """Flush and stop the exporter; tracing is off afterwards."""
    provider, _state.provider, _state.tracer = _state.provider, None, None
    if provider is not None:
        provider.shutdown()


def is_active() -> bool:
    return _state.tracer is not None


def _attributes(values: Mapping[str, object]) -> dict[str, Any]:
    """Span attributes: None dropped, anything but str/bool/int/float turned into text."""
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        clean[key] = value if isinstance(value, str | bool | int | float) else str(value)
    return clean


def span(
    name: str, *, parent: Mapping[str, str] | None = None, **attributes: object
) -> contextlib.AbstractContextManager[Any]:
    """A span around a block: ``with span("uow.commit", incident=12): ...``.

    ``parent`` is a carrier from :func:`current_trace_context` (stored with an outbox row, say)
    to continue a trace that began elsewhere. A no-op context when tracing is off.
    """
    tracer = _state.tracer
    if tracer is None:
        return contextlib.nullcontext()
    context = None
    if parent:
        from opentelemetry import propagate

        context = propagate.extract(dict(parent))
    return cast(
        contextlib.AbstractContextManager[Any],
        tracer.start_as_current_span(name, context=context, attributes=_attributes(attributes)),
    )


def traced(name: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function (sync or async) so each call runs in a span named ``name``."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        label = name or function.__qualname__
        if inspect.iscoroutinefunction(function):
            call_async = cast(Callable[P, Awaitable[Any]], function)

            @functools.wraps(function)
            async def run_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                with span(label):
                    return await call_async(*args, **kwargs)

            return cast(Callable[P, R], run_async)

        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with span(label):
                return function(*args, **kwargs)

        return run

    return decorate


def current_trace_context() -> dict[str, str]:
    """The W3C ``traceparent`` (and ``tracestate``) of the current span; ``{}`` when off."""
    if _state.tracer is None:
        return {}
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    """Add the current trace context to outgoing HTTP ``headers`` (in place; also returned)."""
    headers.update(current_trace_context())
    return headers


class TracingMiddleware:
    """A server span per HTTP request, continuing the caller's ``traceparent``.

    Pure ASGI. It checks at each request whether tracing is on, so it can be added to the app
    unconditionally: when tracing is off it only passes the call through.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tracer = _state.tracer
        if tracer is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from opentelemetry import propagate, trace

        carrier = {
            bytes(k).decode("latin-1"): bytes(v).decode("latin-1")
            for k, v in scope.get("headers", ())
        }
        method = str(scope.get("method", "GET")).upper()
        base_root_path = str(scope.get("root_path", ""))
        attributes = {
            "http.request.method": method,
            "url.path": str(scope.get("path", "")),
            "url.scheme": str(scope.get("scheme", "http")),
        }
        with tracer.start_as_current_span(
            method,
            context=propagate.extract(carrier),
            kind=trace.SpanKind.SERVER,
            attributes=attributes,
        ) as current:

            async def send_traced(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    current.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        current.set_status(trace.Status(trace.StatusCode.ERROR))
                await send(message)

            try:
                await self.app(scope, receive, send_traced)
            finally:
                route = route_template(scope, base_root_path)
                current.set_attribute("http.route", route)
                current.update_name(f"{method} {route}")


def instrument(app: ASGIApp) -> ASGIApp:
    """``app`` wrapped in :class:`TracingMiddleware` when the SDK is installed, else ``app``."""
    return TracingMiddleware(app) if available() else app
