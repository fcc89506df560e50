"""``tocsin serve`` as a process: /health, /ready, /metrics (docs/operations.md), JSON logs with a
request id, one line per disabled platform, graceful SIGTERM, an unreachable database, a separate
metrics port, a bad setting, oversized bodies and unknown routes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tocsin.storage import migrate
from tocsin.storage.db import Database

pytestmark = pytest.mark.slow

TOCSIN = Path(sys.executable).with_name("tocsin")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
MIB = 1024 * 1024
PLATFORM_VARIABLES = {
    "slack": "TOCSIN_SLACK_SIGNING_SECRET",
    "discord": "TOCSIN_DISCORD_PUBLIC_KEY",
    "statuspage": "TOCSIN_STATUSPAGE_API_KEY",
    "pagerduty": "TOCSIN_PAGERDUTY_ROUTING_KEY",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def poll(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Call ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except httpx.TransportError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class Server:
    """One ``tocsin serve`` process in a scratch directory, logs captured to a file."""

    def __init__(self, workdir: Path, database_url: str, **env: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "stdout.log"
        self.err_path = workdir / "stderr.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
        self.env.update(
            PYTHONUNBUFFERED="1",
            TOCSIN_DATABASE_URL=database_url,
            TOCSIN_PORT=str(self.port),
            TOCSIN_DATA_DIR=str(workdir / "data"),
            TOCSIN_SHUTDOWN_TIMEOUT="5",
            **env,
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        with self.log_path.open("wb") as out, self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [str(TOCSIN), "serve"], cwd=self.workdir, env=self.env, stdout=out, stderr=err
            )
        poll(self._answers, START_TIMEOUT, f"tocsin serve on {self.base}")
        return self

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"tocsin serve exited {self.proc.returncode}: {self.stderr()}")
        httpx.get(f"{self.base}/health", timeout=2)
        return True

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", timeout=5, **kwargs)

    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def log_lines(self) -> list[dict[str, Any]]:
        text = self.log_path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def stop(self) -> int:
        """SIGTERM, then wait; killed (and failed) only if it does not stop in time."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"tocsin serve did not stop within {STOP_TIMEOUT}s of SIGTERM")


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


def migrated_sqlite(directory: Path) -> str:
    url = f"sqlite:///{directory / 'tocsin.db'}"
    asyncio.run(_migrate(url))
    return url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server shared by the read-only checks: migrated SQLite, no chat credentials."""
    workdir = tmp_path_factory.mktemp("serve")
    running = Server(workdir, migrated_sqlite(workdir)).start()
    try:
        yield running
    finally:
        running.stop()


def test_health_answers_with_the_documented_json_shape(server: Server) -> None:
    """GET /health: 200 with status healthy, the version, database connected and the checks."""
    response = server.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["database"] == "connected"
    assert isinstance(body["version"], str)
    assert body["version"]
    assert body["checks"]["database"] == "ok"


def test_ready_once_migrations_are_at_head(server: Server) -> None:
    """GET /ready turns 200 once the (already migrated) schema is seen at head."""
    poll(lambda: server.get("/ready").status_code == 200, START_TIMEOUT, "/ready 200")
    assert server.get("/ready").json()["status"] == "ready"


def test_metrics_are_prometheus_text(server: Server) -> None:
    """GET /metrics answers the Prometheus text format, counting the requests served."""
    server.get("/health")
    response = server.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE http_requests_total counter" in response.text
    assert 'http_requests_total{method="GET",route="/health",status="200"}' in response.text


def test_logs_are_json_lines_carrying_the_request_id(server: Server) -> None:
    """Every stdout line is one JSON object (timestamp, level, event); a request sent with
    X-Request-ID echoes it and the lines logged while serving it carry it."""
    request_id = f"e2e-{uuid.uuid4().hex}"
    response = server.get("/no-such-page", headers={"X-Request-ID": request_id})
    assert response.headers["x-request-id"] == request_id

    def tagged() -> list[dict[str, Any]]:
        return [line for line in server.log_lines() if line.get("request_id") == request_id]

    lines = poll(tagged, 5, "a log line with the request id")
    assert any(line["event"] == "request" and line["status"] == 404 for line in lines)
    for line in server.log_lines():
        assert {"timestamp", "level", "event"} <= line.keys()
        if line.get("logger") == "tocsin.access":
            assert line.get("request_id"), line


def test_each_disabled_platform_is_logged_once_naming_its_variable(server: Server) -> None:
    """With no chat or paging credentials, one log line per disabled platform names the
    variable that enables it."""
    lines = server.log_lines()
    for platform, variable in PLATFORM_VARIABLES.items():
        about = [
            line
            for line in lines
            if line.get("platform") == platform and line.get("enabled") is False
        ]
        assert len(about) == 1, (platform, about)
        assert variable in about[0]["event"]


def test_a_body_over_one_mib_gets_413(server: Server) -> None:
    """A body over 1 MiB (by Content-Length) is refused with 413 and a JSON error before it is
    read; a body of exactly 1 MiB is not."""
    declared = httpx.post(f"{server.base}/health", content=b"x" * (MIB + 1), timeout=10)
    assert declared.status_code == 413
    assert "error" in declared.json()
    exact = httpx.post(f"{server.base}/health", content=b"z" * MIB, timeout=10)
    assert exact.status_code == 405  # the size is fine; /health simply takes no POST


def test_unknown_routes_and_methods_are_client_errors_never_tracebacks(server: Server) -> None:
    """An unknown route is 404, a wrong method 405, a malformed request line a 4xx; no answer
    is a 500 or shows a traceback."""
    for method, path, expected in (
        ("GET", "/no/such/route", 404),
        ("GET", "/health/../../etc/passwd", 404),
        ("POST", "/ready", 405),
        ("DELETE", "/metrics", 405),
    ):
        response = httpx.request(method, f"{server.base}{path}", timeout=5)
        assert response.status_code == expected, (method, path)
        assert "Traceback" not in response.text
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n")
        answer = sock.recv(4096).decode("latin-1")
    status = int(answer.split(" ", 2)[1])
    assert 400 <= status < 500
    assert "Traceback" not in answer


def test_sigterm_turns_ready_503_while_draining_then_stops(tmp_path: Path) -> None:
    """On SIGTERM /ready turns 503 (draining) while /health still answers; then the process
    stops by itself within the shutdown timeout, without a traceback."""
    running = Server(tmp_path, migrated_sqlite(tmp_path), TOCSIN_DRAIN_SECONDS="1.5").start()
    try:
        poll(lambda: running.get("/ready").status_code == 200, START_TIMEOUT, "/ready 200")
        assert running.proc is not None
        running.proc.send_signal(signal.SIGTERM)
        draining = poll(
            lambda: (r := running.get("/ready")).status_code == 503 and r, 5, "/ready 503"
        )
        assert draining.json()["reason"] == "draining"
        assert running.get("/health").status_code == 200
        running.proc.wait(timeout=STOP_TIMEOUT)
    finally:
        running.stop()
    assert "Traceback" not in running.stderr()
    events = [line["event"] for line in running.log_lines()]
    assert "draining" in events
    assert "tocsin stopped" in events


def test_sigterm_exits_zero(tmp_path: Path) -> None:
    """After a graceful shutdown on SIGTERM the process exits with status 0."""
    running = Server(tmp_path, migrated_sqlite(tmp_path)).start()
    assert running.stop() == 0


def test_health_is_503_naming_the_database_when_it_is_unreachable(tmp_path: Path) -> None:
    """With PostgreSQL unreachable, the server still starts; /health is 503 unhealthy with the
    database check failing and the reason given; /ready is 503."""
    running = Server(tmp_path, "postgresql://tocsin@127.0.0.1:1/tocsin").start()
    try:
        response = running.get("/health")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unhealthy"
        assert body["database"] == "disconnected"
        assert body["checks"]["database"]["status"] == "failing"
        assert body["checks"]["database"]["error"]
        assert running.get("/ready").status_code == 503
    finally:
        running.stop()


def test_metrics_port_serves_metrics_only_there(tmp_path: Path) -> None:
    """With TOCSIN_METRICS_PORT set, /metrics is served on that port and is 404 on the main
    port, which still serves /health."""
    metrics_port = free_port()
    running = Server(
        tmp_path, migrated_sqlite(tmp_path), TOCSIN_METRICS_PORT=str(metrics_port)
    ).start()
    try:
        scrape = poll(
            lambda: httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2),
            START_TIMEOUT,
            "the metrics port",
        )
        assert scrape.status_code == 200
        assert "# TYPE" in scrape.text
        assert running.get("/metrics").status_code == 404
        assert running.get("/health").status_code == 200
    finally:
        running.stop()


BAD_SETTINGS = {"TOCSIN_LOG_LEVEL": "loud", "TOCSIN_DATABASE_URL": "mysql://x"}


def test_a_bad_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    """A bad value stops ``tocsin serve`` before it listens: exit 2, one stderr line naming
    the variable."""

    def start(variable: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
        env[variable] = BAD_SETTINGS[variable]
        return subprocess.run(
            [str(TOCSIN), "serve"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    with ThreadPoolExecutor(max_workers=len(BAD_SETTINGS)) as pool:
        results = dict(zip(BAD_SETTINGS, pool.map(start, BAD_SETTINGS), strict=True))
    for variable, result in results.items():
        assert result.returncode == 2, (variable, result.stderr)
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert variable in lines[0]
        assert "Traceback" not in result.stderr
