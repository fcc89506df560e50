"""`tocsin worker` as a real process with TOCSIN_WORKER_METRICS_PORT: its listener on
127.0.0.1 answers /metrics with the delivery and monitor series of what that worker did (a
webhook delivered, a policy monitor checked against a loopback target) and /healthz, and
SIGTERM stops it cleanly, closing the port."""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from e2e.test_delivery_processes import migrated, reap, stopped, worker
from fakes.delivery_kit import HOOK, burst, enqueue, eventually
from fakes.http_fake import FakeServer, Reply

pytestmark = pytest.mark.slow
MONITOR = "probe-3"  # its first check is due 0.15 s after the worker starts (timer.jitter)


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


async def test_a_worker_serves_its_metrics_and_health_and_stops_cleanly(
    tmp_path: Path, sqlite_url: str, fake: FakeServer
) -> None:
    """Scraped while it runs, the worker's /metrics counts the webhook it delivered
    (deliveries_total) and the check its monitor made (monitor_checks_total, monitor_up);
    /healthz is 200; after SIGTERM it exits 0 and the port no longer answers."""
    fake.route("POST", HOOK, Reply(200))
    fake.route("GET", "/health", Reply(200))
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'[[monitor]]\nname = "{MONITOR}"\nkind = "http"\nurl = "{fake.url}/health"\n'
        "interval_seconds = 10\n"
    )
    db = await migrated(sqlite_url)
    port = free_port()
    process = None
    try:
        await enqueue(db, burst(incidents=1, per_incident=1))
        process = worker(
            sqlite_url,
            fake,
            tmp_path,
            TOCSIN_POLICY_FILE=str(policy),
            TOCSIN_WORKER_METRICS_PORT=str(port),
        )
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            text = ""

            async def scraped() -> bool:
                nonlocal text
                try:
                    text = (await http.get("/metrics")).text
                except httpx.TransportError:  # not listening yet
                    return False
                return f'monitor_checks_total{{monitor="{MONITOR}",result="ok"}} 1.0' in text and (
                    'deliveries_total{destination="webhook",outcome="delivered"} 1.0' in text
                )

            await eventually(scraped, within=20)
            assert f'monitor_up{{monitor="{MONITOR}"}} 1.0' in text
            assert "# TYPE delivery_duration_seconds histogram" in text
            health = await http.get("/healthz")
            assert (health.status_code, health.json()["status"]) == (200, "ok")
            process.send_signal(signal.SIGTERM)
            assert await stopped(process) == 0
            with pytest.raises(httpx.ConnectError):
                await http.get("/healthz")
    finally:
        await db.dispose()
        reap([process] if process is not None else [])
