"""Prometheus in the loop: Debian's ``prometheus`` scrapes a tiny HTTP server on loopback, the
test stops that server, the rule ``up == 0`` fires, Prometheus hands the alert to a real
Alertmanager (the stack of test_alertmanager_e2e.py), which posts it to ``tocsin serve``, and
tocsin stores it as a firing group (routed by the default route: proposed at P3)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from e2e.test_alertmanager_e2e import WAIT, _groups, _outbox_kinds, stack
from e2e.test_serve import Server, free_port, poll

__all__ = ["stack"]  # the fixture, shared with test_alertmanager_e2e.py

pytestmark = pytest.mark.slow

BINARY = shutil.which("prometheus") or "/usr/bin/prometheus"
HOW = "prometheus not installed: apt-get install prometheus to run this"
TITLE = "The demo target is down"

CONFIG = """\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [{rules}]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:{am_port}"]
scrape_configs:
  - job_name: demo
    static_configs:
      - targets: ["127.0.0.1:{target_port}"]
"""

RULES = """\
groups:
  - name: demo
    rules:
      - alert: DemoTargetDown
        expr: up{job="demo"} == 0
        labels:
          severity: warning
        annotations:
          summary: "The demo target is down"
"""


class _Metrics(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"demo_ok 1\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        del format, args  # quiet


@pytest.fixture
def target() -> Iterator[ThreadingHTTPServer]:
    """A scrape target on loopback that the test stops (skipped first without Prometheus)."""
    if not Path(BINARY).is_file():
        pytest.skip(HOW)
    served = ThreadingHTTPServer(("127.0.0.1", free_port()), _Metrics)
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.shutdown()
        served.server_close()
        thread.join(timeout=10)


def _up(prom_port: int) -> list[str]:
    answer = httpx.get(
        f"http://127.0.0.1:{prom_port}/api/v1/query", params={"query": 'up{job="demo"}'}, timeout=2
    )
    if not answer.is_success:  # still starting
        return []
    return [item["value"][1] for item in answer.json()["data"]["result"]]


def test_a_target_going_down_reaches_tocsin_as_a_group(
    target: ThreadingHTTPServer, stack: tuple[Server, int]
) -> None:
    """Prometheus sees the target up, then down once it stops; the rule fires, Alertmanager
    posts it, and tocsin stores a firing group titled by the rule's summary and proposes it."""
    server, am_port = stack
    prom_port = free_port()
    with tempfile.TemporaryDirectory(prefix="tocsin-prom-") as tmp:
        rules = Path(tmp) / "rules.yml"
        rules.write_text(RULES)
        config = Path(tmp) / "prometheus.yml"
        target_port = target.server_address[1]
        config.write_text(CONFIG.format(rules=rules, am_port=am_port, target_port=target_port))
        command = [
            BINARY,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp}/data",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            "--log.level=warn",
        ]
        prom = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            poll(lambda: _up(prom_port) == ["1"], WAIT, "prometheus scraping the target")
            target.shutdown()
            target.server_close()
            poll(lambda: _up(prom_port) == ["0"], WAIT, "prometheus seeing the target down")
            group = poll(lambda: _groups(server).get(TITLE), WAIT, "the group in tocsin")
        finally:
            prom.terminate()
            prom.wait(timeout=10)
    assert group["status"] == "firing"
    assert group["labels"]["alertname"] == "DemoTargetDown"
    assert group["labels"]["job"] == "demo"
    assert "propose_alert" in _outbox_kinds(server)
