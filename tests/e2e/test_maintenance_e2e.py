"""Scheduled maintenance end to end: ``tocsin serve`` as a real process, maintenance created
with the ``tocsin`` CLI (another process, so the page learns of it through the database): an
upcoming window shows on /status and in upcoming.json, one starting now is started by the
server's own durable timer and puts its component under maintenance, and a cancel takes it
off again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_status_page_e2e import TOCSIN, Tocsin, wait_for

from fakes.statuspage_api import FakeStatuspage

pytestmark = pytest.mark.slow
POLICY = '[[component]]\nname = "API"\n\n[[component]]\nname = "Payments"\n'


@pytest.fixture
def tocsin(tmp_path: Path) -> Iterator[Tocsin]:
    assert TOCSIN.exists(), f"console script not installed at {TOCSIN}"
    with FakeStatuspage() as statuspage:
        app = Tocsin(tmp_path, statuspage)
        (tmp_path / "policy.toml").write_text(POLICY)
        app.env["TOCSIN_POLICY_FILE"] = str(tmp_path / "policy.toml")
        app.run("db", "upgrade")
        app.serve()
        yield app
        app.stop()


def summary(tocsin: Tocsin) -> dict[str, Any]:
    return dict(json.loads(tocsin.get("/status/api/v2/summary.json").content))


def test_cli_maintenance_shows_on_the_running_page(tocsin: Tocsin) -> None:
    """Upcoming: listed on the page and in upcoming.json; current: in progress (the server's
    timer fired), API under maintenance in the JSON and on the page; cancelled: gone."""
    later = json.loads(
        tocsin.run("maintenance", "create", "Search reindex", "--start", "+1d", "--end", "+25h",
                   "--component", "Payments", "--json")
    )  # fmt: skip
    now = json.loads(
        tocsin.run("maintenance", "create", "Database upgrade", "--start", "now", "--end", "+2h",
                   "--component", "API", "--description", "Primary fails over", "--json")
    )  # fmt: skip

    def started() -> dict[str, Any] | None:
        found = summary(tocsin)
        states = {c["name"]: c["status"] for c in found["components"]}
        return found if states.get("API") == "under_maintenance" else None

    found = wait_for(started, 15, "the maintenance to start on the page")
    assert {m["name"]: m["status"] for m in found["scheduled_maintenances"]} == {
        "Search reindex": "scheduled", "Database upgrade": "in_progress",
    }  # fmt: skip
    assert found["status"]["indicator"] == "maintenance"
    upcoming = json.loads(tocsin.get("/status/api/v2/scheduled-maintenances/upcoming.json").content)
    assert [m["name"] for m in upcoming["scheduled_maintenances"]] == ["Search reindex"]
    page = tocsin.get("/status").text
    assert "Maintenance in progress" in page
    assert "Scheduled maintenance" in page
    assert "Primary fails over" in page
    listed = tocsin.run("maintenance", "list")
    assert f"#{now['id']}  in_progress" in listed

    tocsin.run("maintenance", "cancel", str(later["id"]))
    tocsin.run("maintenance", "cancel", str(now["id"]))

    def cleared() -> bool:
        found = summary(tocsin)
        return not found["scheduled_maintenances"] and all(
            c["status"] == "operational" for c in found["components"]
        )

    wait_for(cleared, 15, "the cancelled maintenances to leave the page")
