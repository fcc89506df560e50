"""``/health``, ``/ready`` and ``/metrics``."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tocsin import __version__
from tocsin.adapters.web.runtime import Runtime
from tocsin.observability.metrics import Metrics, render
from tocsin.responses import JSONResponse

CHECK_TIMEOUT = 2.0


async def _run(check_name: str, runtime: Runtime, soft: bool) -> tuple[str, str | None]:
    check = (runtime.soft_checks if soft else runtime.checks)[check_name]
    try:
        return check_name, await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except TimeoutError:
        return check_name, f"no answer within {CHECK_TIMEOUT:.0f}s"
    except Exception as exc:  # noqa: BLE001 - a failing check is reported, not raised
        return check_name, str(exc).splitlines()[0] if str(exc) else type(exc).__name__


async def health(request: Request) -> Response:
    """200 when every hard check passes; 503 naming the failing check otherwise."""
    runtime: Runtime = request.app.state.runtime
    hard = await asyncio.gather(*(_run(n, runtime, False) for n in runtime.checks))
    soft = await asyncio.gather(*(_run(n, runtime, True) for n in runtime.soft_checks))
    checks: dict[str, object] = {}
    failing = []
    for name, problem in hard:
        checks[name] = "ok" if problem is None else {"status": "failing", "error": problem}
        if problem is not None:
            failing.append(name)
    for name, problem in soft:
        checks[name] = "ok" if problem is None else {"status": "degraded", "error": problem}
    body: dict[str, object] = {
        "status": "unhealthy" if failing else "healthy",
        "version": __version__,
        "database": "disconnected" if "database" in failing else "connected",
        "checks": checks,
    }
    if failing:
        body["failing"] = failing
    return JSONResponse(body, status_code=503 if failing else 200)


async def ready(request: Request) -> Response:
    """200 once migrations are at head and workers run; 503 while starting or draining."""
    runtime: Runtime = request.app.state.runtime
    if runtime.ready:
        return JSONResponse({"status": "ready"})
    return JSONResponse(
        {"status": "not ready", "reason": runtime.not_ready_reason()}, status_code=503
    )


async def metrics(request: Request) -> Response:
    registry: Metrics = request.app.state.metrics
    body, content_type = render(registry)
    return Response(body, media_type=content_type)


def health_routes(*, with_metrics: bool) -> list[Route]:
    routes = [Route("/health", health), Route("/ready", ready)]
    if with_metrics:
        routes.append(Route("/metrics", metrics))
    return routes


def metrics_routes() -> list[Route]:
    return [Route("/metrics", metrics)]
