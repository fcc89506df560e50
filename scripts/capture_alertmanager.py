"""Capture the exact webhook bodies a real Alertmanager sends, as test fixtures.

Usage: ``.venv/bin/python scripts/capture_alertmanager.py [--out DIR] [--binary PATH]``
(default ``tests/fixtures/alertmanager`` and ``/usr/bin/prometheus-alertmanager``, Debian's
``prometheus-alertmanager`` package).

Everything stays on loopback: a small HTTP server on 127.0.0.1 records each body byte for byte,
and Alertmanager runs on another free 127.0.0.1 port with clustering off and its storage in a
temporary folder. Alerts are posted to ``POST /api/v2/alerts``: a firing alert, the same alert
with ``endsAt`` in the past (resolved), then three alerts in one group and one of them resolved.
The script stops Alertmanager and itself when done, or after ``DEADLINE_SECONDS`` at most.

Files written: ``firing.json``, ``resolved.json``, ``group_firing.json`` (three alerts in one
group) and ``group_partly_resolved.json`` (the same group with one alert resolved).
"""

from __future__ import annotations

import argparse
import json
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEADLINE_SECONDS = 90.0
WAIT_SECONDS = 30.0

CONFIG = """\
route:
  receiver: tocsin
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: tocsin
    webhook_configs:
      - url: http://127.0.0.1:{port}/alertmanager
        send_resolved: true
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Capture(BaseHTTPRequestHandler):
    """Records each POST body as received and answers 200."""

    bodies: queue.Queue[bytes] = queue.Queue()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.bodies.put(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def _post(port: int, path: str, payload: object) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"alertmanager exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("alertmanager did not become ready")


def _wait_body(bodies: queue.Queue[bytes], wanted: Any) -> bytes:
    """The next body for which ``wanted(parsed)`` holds (earlier ones are skipped)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        try:
            body = bodies.get(timeout=left)
        except queue.Empty:
            break
        if wanted(json.loads(body)):
            return body
    raise SystemExit("no matching webhook body arrived in time")


def _alert(name: str, instance: str, starts: datetime, ends: datetime | None) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "labels": {
            "alertname": name,
            "severity": "critical",
            "team": "payments",
            "service": "checkout",
            "instance": instance,
        },
        "annotations": {
            "summary": f"{name} on {instance}",
            "description": f"{name} has been true on {instance} for 5 minutes.",
            "runbook_url": "https://runbooks.example.com/" + name.lower(),
        },
        "generatorURL": "http://prometheus.example.com/graph?g0.expr=up%3D%3D0",
        "startsAt": starts.isoformat(),
    }
    if ends is not None:
        alert["endsAt"] = ends.isoformat()
    return alert


def _statuses(body: dict[str, Any]) -> list[str]:
    return sorted(alert["status"] for alert in body["alerts"])


def capture(out: Path, binary: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    am_port = _free_port()
    with tempfile.TemporaryDirectory(prefix="tocsin-am-") as tmp:
        config = Path(tmp) / "alertmanager.yml"
        config.write_text(CONFIG.format(port=server.server_address[1]))
        command = [
            binary,
            f"--config.file={config}",
            f"--storage.path={tmp}/data",
            f"--web.listen-address=127.0.0.1:{am_port}",
            f"--web.external-url=http://127.0.0.1:{am_port}/",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        process = subprocess.Popen(command)  # noqa: S603 - our own fixed argument list
        timer = threading.Timer(DEADLINE_SECONDS, process.kill)
        timer.start()
        try:
            _wait_ready(am_port, process)
            _scenarios(am_port, out)
        finally:
            timer.cancel()
            process.terminate()
            process.wait(timeout=10)
            server.shutdown()


def _scenarios(port: int, out: Path) -> None:
    bodies = _Capture.bodies
    now = datetime.now(UTC).replace(microsecond=0)
    started = now - timedelta(minutes=5)
    one = _alert("CheckoutErrorRate", "checkout-1:9090", started, None)
    _post(port, "/api/v2/alerts", [one])
    _save(out / "firing.json", _wait_body(bodies, lambda b: _statuses(b) == ["firing"]))
    gone = _alert("CheckoutErrorRate", "checkout-1:9090", started, now - timedelta(seconds=1))
    _post(port, "/api/v2/alerts", [gone])
    _save(out / "resolved.json", _wait_body(bodies, lambda b: _statuses(b) == ["resolved"]))

    instances = ("db-1:9187", "db-2:9187", "db-3:9187")
    group = [_alert("PostgresReplicationLag", i, started, None) for i in instances]
    _post(port, "/api/v2/alerts", group)
    three = ["firing"] * 3
    _save(out / "group_firing.json", _wait_body(bodies, lambda b: _statuses(b) == three))
    ended = _alert("PostgresReplicationLag", instances[1], started, now - timedelta(seconds=1))
    _post(port, "/api/v2/alerts", [ended])
    mixed = ["firing", "firing", "resolved"]
    body = _wait_body(bodies, lambda b: _statuses(b) == mixed)
    _save(out / "group_partly_resolved.json", body)


def _save(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "alertmanager")
    parser.add_argument("--binary", default="/usr/bin/prometheus-alertmanager")
    args = parser.parse_args(argv)
    if not Path(args.binary).is_file():
        raise SystemExit(f"{args.binary} not found (apt-get install prometheus-alertmanager)")
    capture(args.out, args.binary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
