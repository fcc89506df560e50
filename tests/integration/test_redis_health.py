"""/health reports the optional Redis as a soft check."""

from __future__ import annotations

import httpx

from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import build_runtime
from tocsin.config import load_settings
from tocsin.observability.metrics import create_metrics
from tocsin.services.context import Context


async def _health(ctx: Context, redis_url: str) -> httpx.Response:
    settings = load_settings({"TOCSIN_REDIS_URL": redis_url}, env_file=None)
    runtime = build_runtime(settings)
    app = create_app(ctx, create_metrics(process=False), runtime)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/health")
    finally:
        await runtime.close()


async def test_redis_up_is_reported_ok(ctx: Context, redis_url: str) -> None:
    """With TOCSIN_REDIS_URL pointing at a live Redis, /health lists `redis: ok` and is 200."""
    response = await _health(ctx, redis_url)
    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == "ok"


async def test_redis_down_degrades_but_stays_healthy(ctx: Context, redis_url: str) -> None:
    """Redis is optional: when it does not answer, /health says `degraded` for it but stays 200,
    because the database holds every durable fact."""
    del redis_url  # requires the Redis suite to be on, like its sibling
    response = await _health(ctx, "redis://127.0.0.1:1/0")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "healthy"
    assert body["checks"]["redis"]["status"] == "degraded"
    assert body["checks"]["redis"]["error"]
