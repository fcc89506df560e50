"""The status page and Statuspage sync end to end: ``tocsin serve`` as a real process with a fake
Statuspage on loopback, incidents run from the ``tocsin`` CLI (another process, so the page learns
of them through the database marker, not a hook), a hostile title, a downgrade and a resolve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes.statuspage_api import API_KEY, PAGE_ID, FakeStatuspage

pytestmark = pytest.mark.slow

TOCSIN = Path(sys.executable).with_name("tocsin")
HOSTILE = "<script>alert(1)</script> checkout"


def wait_for(check: Callable[[], Any], within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while True:
        try:
            found = check()
        except httpx.TransportError:
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within}s waiting for {what}")
        time.sleep(0.1)


class Tocsin:
    """``tocsin`` commands and one ``tocsin serve`` on a scratch SQLite database."""

    def __init__(self, workdir: Path, statuspage: FakeStatuspage) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
        self.env.update(
            TOCSIN_DATABASE_URL=f"sqlite:///{workdir / 'tocsin.db'}",
            TOCSIN_DATA_DIR=str(workdir / "data"),
            TOCSIN_PORT=str(self.port),
            TOCSIN_PUBLIC_URL="https://status.example.test",
            TOCSIN_SHUTDOWN_TIMEOUT="3",
            TOCSIN_STATUSPAGE_API_KEY=API_KEY,
            TOCSIN_STATUSPAGE_PAGE_ID=PAGE_ID,
            TOCSIN_STATUSPAGE_API_URL=statuspage.url,
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [str(TOCSIN), *args], cwd=self.workdir, env=self.env, capture_output=True,
            text=True, timeout=30, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"tocsin {' '.join(args)}: {result.stderr}"
        return result.stdout

    def serve(self) -> None:
        with (self.workdir / "serve.log").open("wb") as log:
            self.proc = subprocess.Popen(
                [str(TOCSIN), "serve"], cwd=self.workdir, env=self.env, stdout=log, stderr=log
            )
        wait_for(lambda: self.get("/ready").status_code == 200, 20, "tocsin serve to be ready")

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", timeout=5, **kw)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def statuspage() -> Iterator[FakeStatuspage]:
    with FakeStatuspage() as fake:
        fake.strict_rate(1.0)  # tocsin must pace itself: a second request within 1 s gets 420
        yield fake


@pytest.fixture
def tocsin(tmp_path: Path, statuspage: FakeStatuspage) -> Iterator[Tocsin]:
    assert TOCSIN.exists(), f"console script not installed at {TOCSIN}"
    app = Tocsin(tmp_path, statuspage)
    app.run("db", "upgrade")
    app.serve()
    yield app
    app.stop()


def test_cli_incident_reaches_the_page_and_statuspage(
    tocsin: Tocsin, statuspage: FakeStatuspage
) -> None:
    """A P1 declared from the CLI with a hostile title shows (escaped) on /status and in
    summary.json, is created on Statuspage once, keeps syncing after a downgrade to P3 and ends
    resolved there; notes never leave tocsin; the real server answers 304 to its own ETag."""
    tocsin.run("incident", "declare", HOSTILE, "P1")
    tocsin.run("incident", "update", "INC-1", "Card payments fail; rolling back")
    tocsin.run("incident", "note", "INC-1", "internal: db password in vault item 42")

    def listed() -> dict[str, Any] | None:
        body = tocsin.get("/status/api/v2/summary.json")
        data = json.loads(body.content)
        return data if data["incidents"] and data["incidents"][0]["incident_updates"][0][
            "body"
        ].startswith("Card payments") else None  # fmt: skip

    summary = wait_for(listed, 10, "the incident on the status page")
    assert summary["incidents"][0]["name"] == HOSTILE
    assert summary["status"]["indicator"] == "critical"
    raw = tocsin.get("/status/api/v2/summary.json")
    assert b"<script>" not in raw.content
    page = tocsin.get("/status")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; checkout" in page.text
    assert "<script>" not in page.text
    assert "vault item 42" not in page.text
    assert tocsin.get("/status", headers={"If-None-Match": page.headers["etag"]}).status_code == 304

    tocsin.run("incident", "severity", "INC-1", "P3")
    tocsin.run("incident", "resolve", "INC-1", "Rolled back deploy 4711")

    def resolved_there() -> bool:
        return any(i["status"] == "resolved" for i in statuspage.incidents.values())

    wait_for(resolved_there, 30, "the Statuspage incident to be resolved")
    (mirrored,) = statuspage.incidents.values()
    assert mirrored["name"] == HOSTILE
    assert mirrored["impact"] == "minor"
    bodies = [u["body"] for u in mirrored["incident_updates"]]
    assert "Card payments fail; rolling back" in bodies
    assert not any("vault" in b or "4711" in b for b in bodies)
    assert statuspage.violations == []
    assert len(statuspage.calls_to("POST", "/pages/{page_id}/incidents")) == 1
    health = tocsin.get("/health").json()
    assert health["checks"]["statuspage_sync"] == "ok"
