"""Prometheus in the loop: Debian's ``prometheus`` scrapes a tiny HTTP server on loopback, the
test stops that server, the rule ``up == 0`` fires, Prometheus hands the alert to a real
Alertmanager (the stack of test_alertmanager_e2e.py), which posts it to ``tocsin serve``, and
tocsin stores it as a firing group (routed by the default route: proposed at P3)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from e2e.prom_stack import WAIT, loopback_target, need, prometheus_command, query, running
from e2e.test_alertmanager_e2e import _groups, _outbox_kinds, stack
from e2e.test_serve import Server, free_port, poll

__all__ = ["stack"]  # the fixture, shared with test_alertmanager_e2e.py

pytestmark = pytest.mark.slow

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


@pytest.fixture
def target() -> Iterator[ThreadingHTTPServer]:
    """A scrape target on loopback that the test stops (skipped first without Prometheus)."""
    need("prometheus")
    with loopback_target() as served:
        yield served


def _up(prom_port: int) -> list[str]:
    return query(prom_port, 'up{job="demo"}')


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
        with running(prometheus_command(config, Path(tmp) / "data", prom_port)):
            poll(lambda: _up(prom_port) == ["1"], WAIT, "prometheus scraping the target")
            target.shutdown()
            target.server_close()
            poll(lambda: _up(prom_port) == ["0"], WAIT, "prometheus seeing the target down")
            group = poll(lambda: _groups(server).get(TITLE), WAIT, "the group in tocsin")
    assert group["status"] == "firing"
    assert group["labels"]["alertname"] == "DemoTargetDown"
    assert group["labels"]["job"] == "demo"
    assert "propose_alert" in _outbox_kinds(server)
