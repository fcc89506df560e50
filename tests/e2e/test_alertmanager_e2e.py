"""A real Alertmanager (Debian's ``prometheus-alertmanager``) posting to a real ``tocsin serve``
on loopback: a firing alert becomes a stored group and is routed (``declare``: an incident;
``propose``: an outbox row for the Slack announce channel); its resolve resolves the group (and,
with ``auto_resolve``, the incident)."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.prom_stack import WAIT, alertmanager_command, cli_json, need, running, wait_ready
from e2e.test_serve import Server, free_port, migrated_sqlite, poll

pytestmark = pytest.mark.slow

POLICY = """\
[[alert_route]]
match = { alertname = "CheckoutErrorRate" }
severity = "P2"
action = "declare"
auto_resolve = true

[[alert_route]]
match = { alertname = "DiskFilling" }
action = "propose"
"""

AM_CONFIG = """\
route:
  receiver: tocsin
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: tocsin
    webhook_configs:
      - url: {url}
        send_resolved: true
"""


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Server, int]]:
    """tocsin serve (SQLite, Slack switched on against a closed port) and Alertmanager posting
    to an alertmanager integration's URL."""
    need("prometheus-alertmanager")
    (tmp_path / "policy.toml").write_text(POLICY)
    url = migrated_sqlite(tmp_path)
    server = Server(
        tmp_path,
        url,
        TOCSIN_POLICY_FILE=str(tmp_path / "policy.toml"),
        TOCSIN_SLACK_SIGNING_SECRET="s" * 32,
        TOCSIN_SLACK_BOT_TOKEN="xoxb-test",
        TOCSIN_SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",
    )
    server.env["TOCSIN_PUBLIC_URL"] = server.base
    server.start()
    made = cli_json(server, "integration", "create", "alertmanager", "prom", "--json")
    am_port = free_port()
    with tempfile.TemporaryDirectory(prefix="tocsin-am-") as tmp:
        config = Path(tmp) / "alertmanager.yml"
        config.write_text(AM_CONFIG.format(url=made["url"]))
        try:
            with running(alertmanager_command(config, Path(tmp) / "data", am_port)):
                wait_ready(am_port, "alertmanager")
                yield server, am_port
        finally:
            server.stop()


def _alert(name: str, *, resolved: bool = False) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    alert: dict[str, Any] = {
        "labels": {"alertname": name, "team": "payments", "instance": "checkout-1:9090"},
        "annotations": {"summary": f"{name} on checkout-1"},
        "startsAt": (now - timedelta(minutes=5)).isoformat(),
    }
    if resolved:
        alert["endsAt"] = (now - timedelta(seconds=1)).isoformat()
    return alert


def _fire(port: int, *alerts: dict[str, Any]) -> None:
    answer = httpx.post(f"http://127.0.0.1:{port}/api/v2/alerts", json=list(alerts), timeout=10)
    assert answer.is_success, answer.text


def _groups(server: Server) -> dict[str, dict[str, Any]]:
    return {group["title"]: group for group in cli_json(server, "alerts", "list", "--json")}


def _outbox_kinds(server: Server) -> list[str]:
    path = server.env["TOCSIN_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return [kind for (kind,) in conn.execute("SELECT kind FROM outbox ORDER BY id")]


def test_alertmanager_fire_and_resolve_through_tocsin(stack: tuple[Server, int]) -> None:
    """Fire two alerts (one declares, one proposes); tocsin stores both groups, declares INC-1
    and queues the Slack proposal; resolving the declared one resolves its group and incident."""
    server, port = stack
    _fire(port, _alert("CheckoutErrorRate"), _alert("DiskFilling"))
    title = "CheckoutErrorRate on checkout-1"

    def declared() -> bool:
        groups = _groups(server)
        return groups.get(title, {}).get("incident") == "INC-1" and len(groups) == 2

    poll(declared, WAIT, "the declared incident")
    assert "propose_alert" in _outbox_kinds(server)
    _fire(port, _alert("CheckoutErrorRate", resolved=True))
    poll(lambda: _groups(server)[title]["status"] == "resolved", WAIT, "the resolved group")
    path = server.env["TOCSIN_DATABASE_URL"].removeprefix("sqlite:///")

    def incident_resolved() -> bool:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT status FROM incidents WHERE number = 1").fetchone() == (
                "resolved",
            )

    poll(incident_resolved, WAIT, "INC-1 resolved")
    assert _groups(server)["DiskFilling on checkout-1"]["status"] == "firing"
