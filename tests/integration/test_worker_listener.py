"""The metrics listener of ``tocsin worker`` (``tocsin.observability.listener``, wired by
``app.worker_listener``) on a real socket on 127.0.0.1: ``/metrics`` is the registry's
Prometheus text, ``/healthz`` 200 while running and 503 once stopping, the port is closed after
stop, and a port already taken is one configuration error naming the setting."""

from __future__ import annotations

import socket

import httpx
import pytest

from tocsin.app import worker_listener
from tocsin.config import ConfigError, load_settings
from tocsin.observability.listener import MetricsListener, bind
from tocsin.observability.metrics import create_metrics


async def test_the_listener_serves_metrics_and_health_then_closes() -> None:
    """On port 0 the listener gets a free port; /metrics has the delivery and monitor metrics
    (a sample counted before the scrape included), /healthz answers ok, then stopping (503)
    once the worker stops, and after stop() nothing listens on the port."""
    metrics = create_metrics(process=False)
    metrics.monitor_checks_total.labels("web", "ok").inc()
    listener = MetricsListener(metrics, bind("127.0.0.1", 0))
    port = listener.port
    assert port > 0
    listener.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            scraped = await http.get("/metrics")
            assert scraped.status_code == 200
            assert scraped.headers["content-type"].startswith("text/plain")
            text = scraped.text
            for name in ("deliveries_total", "outbox_pending", "monitor_up"):
                assert f"# TYPE {name} " in text
            assert 'monitor_checks_total{monitor="web",result="ok"} 1.0' in text
            health = await http.get("/healthz")
            assert (health.status_code, health.json()["status"]) == (200, "ok")
            listener.stopping = True
            health = await http.get("/healthz")
            assert (health.status_code, health.json()["status"]) == (503, "stopping")
    finally:
        await listener.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as http:
            await http.get(f"http://127.0.0.1:{port}/healthz")


def test_no_port_no_listener_and_a_taken_port_is_a_config_error() -> None:
    """Without TOCSIN_WORKER_METRICS_PORT there is no listener; with a port another socket
    holds, the error names the variable and the address."""
    metrics = create_metrics(process=False)
    assert worker_listener(load_settings({}, env_file=None), metrics) is None
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = {"TOCSIN_WORKER_METRICS_PORT": str(port)}
        with pytest.raises(ConfigError) as refused:
            worker_listener(load_settings(env, env_file=None), metrics)
    assert str(refused.value).startswith(
        f"TOCSIN_WORKER_METRICS_PORT: cannot listen on 127.0.0.1:{port} ("
    )
