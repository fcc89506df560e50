"""Debian's Prometheus, Alertmanager and blackbox_exporter as real processes on 127.0.0.1, for
test_alertmanager_e2e.py, test_prometheus_e2e.py and test_blackbox_e2e.py: where the binaries are
(the test is skipped when one is missing), their command lines, starting and stopping them,
waiting until they answer, an instant PromQL query, a loopback HTTP target they scrape or probe,
and the ``tocsin`` CLI run against a ``tocsin serve`` with ``--json``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.test_serve import Server, free_port, poll

WAIT = 60.0  # seconds any of these processes may take to start, scrape, fire or post
TOCSIN = Path(sys.executable).with_name("tocsin")
PACKAGES = {  # binary: the Debian package that installs it
    "prometheus": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "prometheus-blackbox-exporter": "prometheus-blackbox-exporter",
}


def binary(name: str) -> str:
    return shutil.which(name) or f"/usr/bin/{name}"


def need(*names: str) -> None:
    """Skip the test unless every one of these binaries is installed."""
    for name in names:
        if not Path(binary(name)).is_file():
            pytest.skip(f"{name} not installed: apt-get install {PACKAGES[name]} to run this")


def prometheus_command(config: Path, data: Path, port: int) -> list[str]:
    return [
        binary("prometheus"),
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]


def alertmanager_command(config: Path, data: Path, port: int) -> list[str]:
    return [
        binary("prometheus-alertmanager"),
        f"--config.file={config}",
        f"--storage.path={data}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--log.level=warn",
    ]


def blackbox_command(config: Path, port: int) -> list[str]:
    return [
        binary("prometheus-blackbox-exporter"),
        f"--config.file={config}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]


@contextmanager
def running(*commands: list[str]) -> Iterator[None]:
    """The commands started in order (output discarded), stopped in reverse order at the end
    (terminated, killed after 10 s)."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for command in commands:
            out = subprocess.DEVNULL
            procs.append(subprocess.Popen(command, stdout=out, stderr=out))
        yield
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_ready(port: int, what: str) -> None:
    """Wait until the Prometheus or Alertmanager on ``port`` answers ``/-/ready``."""
    poll(
        lambda: httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=2).is_success,
        WAIT,
        f"{what} ready",
    )


def query(prom_port: int, promql: str) -> list[str]:
    """The values of an instant query (strings, as Prometheus gives them); [] while starting."""
    answer = httpx.get(
        f"http://127.0.0.1:{prom_port}/api/v1/query", params={"query": promql}, timeout=2
    )
    if not answer.is_success:  # still starting
        return []
    return [item["value"][1] for item in answer.json()["data"]["result"]]


class _Target(BaseHTTPRequestHandler):
    """Answers ``server.status`` (200 until a test changes it), with a metric in Prometheus's
    text format on 200."""

    def do_GET(self) -> None:
        status = getattr(self.server, "status", 200)
        body = b"demo_ok 1\n" if status == 200 else b"unavailable\n"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        del format, args  # quiet


@contextmanager
def loopback_target() -> Iterator[ThreadingHTTPServer]:
    """An HTTP target on 127.0.0.1 (set its ``status`` to change the answer; a test may also
    shut it down early), served on a thread until the end."""
    served = ThreadingHTTPServer(("127.0.0.1", free_port()), _Target)
    served.status = 200  # type: ignore[attr-defined]
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.shutdown()
        served.server_close()
        thread.join(timeout=10)


def cli_json(server: Server, *args: str) -> Any:
    """``tocsin <args>`` against ``server``'s database and settings; its JSON output."""
    done = subprocess.run(
        [str(TOCSIN), *args],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
