"""The real ``tocsin`` console script against a SQLite file: migrations, the whole incident
lifecycle to a post-mortem file, JSON output, one-line errors, and ``audit verify`` catching an
audit row edited or deleted behind tocsin's back."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tocsin.domain.commands import parse
from tocsin.domain.model import Actor
from tocsin.domain.policy import default_policy
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage import migrate
from tocsin.storage.db import Database

pytestmark = pytest.mark.slow

TOCSIN = Path(sys.executable).with_name("tocsin")
TIMEOUT = 30


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any TOCSIN_* setting of the developer's, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update(extra)
    return env


class Cli:
    """Runs ``tocsin`` in a scratch directory (so no ``.env`` is picked up) on one database."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.db_path = workdir / "tocsin.db"
        self.url = f"sqlite:///{self.db_path}"

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(TOCSIN), *args],
            cwd=self.workdir,
            env=clean_env(
                TOCSIN_DATABASE_URL=self.url, TOCSIN_DATA_DIR=str(self.workdir / "data"), **env
            ),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 0, f"tocsin {' '.join(args)}: {result.stderr}"
        return result.stdout

    def ok_all(self, *commands: tuple[str, ...]) -> list[str]:
        """Run independent commands at the same time (each start-up costs most of a second)."""
        with ThreadPoolExecutor(max_workers=len(commands)) as pool:
            return list(pool.map(lambda args: self.ok(*args), commands))


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    assert TOCSIN.exists(), f"console script not installed at {TOCSIN}"
    return Cli(tmp_path)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The error: non-zero exit, exactly one line on stderr, no traceback, nothing on stdout."""
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return lines[0]


def test_db_upgrade_current_and_downgrade(cli: Cli) -> None:
    """``db upgrade`` migrates a new file to head, ``db current`` says so, ``db downgrade
    base`` empties the schema and ``db current`` then says base, behind head."""
    head = migrate.head_revision()
    assert cli.ok("db", "upgrade").strip() == f"database at revision {head}"
    assert cli.ok("db", "current").strip() == f"{head} (head)"
    assert cli.ok("db", "downgrade", "base").strip() == "database at revision base"
    assert cli.ok("db", "current").strip() == f"base (behind head {head})"


def test_the_whole_lifecycle_from_declare_to_post_mortem(cli: Cli) -> None:
    """declare → update → note → severity → status → action → resolve through the CLI, then
    ``postmortem -o`` writes Markdown with every section and the facts of the incident;
    ``list --json`` and ``show --json`` (with the timeline) are JSON; the audit verifies."""
    asyncio.run(_migrate(cli.url))  # `db upgrade` itself is pinned above
    assert "INC-1" in cli.ok("incident", "declare", "Checkout is down", "P1")
    cli.ok("incident", "update", "INC-1", "Card payments fail; rolling back")
    cli.ok("incident", "note", "INC-1", "Deploy 4711 went out at 08:55")
    cli.ok("incident", "severity", "INC-1", "P2")
    cli.ok("incident", "status", "INC-1", "identified")
    cli.ok("incident", "action", "INC-1", "Alert on queue depth", "@slack:U0DAN")
    cli.ok("incident", "resolve", "INC-1", "Rolled back deploy 4711")
    out = cli.workdir / "postmortem.md"
    listed_json, shown_json, verified, _ = cli.ok_all(
        ("incident", "list", "--json", "all"),
        ("incident", "show", "INC-1", "--json"),
        ("audit", "verify"),
        ("postmortem", "INC-1", "-o", str(out)),
    )

    text = out.read_text(encoding="utf-8")
    assert text.startswith("# INC-1: Checkout is down\n")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    for section in ("Summary", "Impact", "Key times", "Roles", "Timeline", "Action items"):
        assert f"## {section}" in headings
    assert "Rolled back deploy 4711" in text
    assert "Card payments fail; rolling back" in text
    assert "Deploy 4711 went out at 08:55" in text
    assert "Alert on queue depth" in text
    assert "P1 (critical)" in text  # the severity history keeps the highest level
    for milestone in ("Acknowledged", "Identified", "Resolved"):
        assert milestone in text

    listed = json.loads(listed_json)
    assert [(i["id"], i["status"], i["severity"]) for i in listed] == [("INC-1", "resolved", "P2")]
    shown = json.loads(shown_json)
    assert shown["id"] == "INC-1"
    assert shown["summary"] == "Rolled back deploy 4711"
    assert shown["action_items"][0]["owner"]["platform"] == "slack"
    assert [e["kind"] for e in shown["timeline"]] == [
        "declared", "update", "note", "severity", "status", "action", "resolved",
    ]  # fmt: skip
    assert verified.strip() == "audit chain intact: 7 entries"


def test_errors_are_one_line_on_stderr(cli: Cli) -> None:
    """Unknown incident, unknown subcommand, a bad setting (exit 2) and a database that was
    never migrated (hint: run db upgrade) each print one line on stderr and exit non-zero."""
    fresh = Cli(cli.workdir / "fresh")
    fresh.workdir.mkdir()
    asyncio.run(_migrate(cli.url))
    runs = {
        "unknown incident": lambda: cli("incident", "show", "INC-9"),
        "bad command": lambda: cli("incident", "frobnicate", "INC-1"),
        "bad port": lambda: cli("incident", "list", TOCSIN_PORT="eighty"),
        "unmigrated": lambda: fresh("incident", "list"),
        "bad reference": lambda: cli("postmortem", "yesterday"),
    }
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = {name: pool.submit(run) for name, run in runs.items()}
        results = {name: future.result() for name, future in futures.items()}

    unknown = one_error_line(results["unknown incident"])
    assert "There is no INC-9" in unknown
    assert "list all" in unknown
    assert '"frobnicate" is not a command' in one_error_line(results["bad command"])
    port = results["bad port"]
    assert port.returncode == 2
    assert one_error_line(port).startswith("tocsin: TOCSIN_PORT: ")
    assert "tocsin db upgrade" in one_error_line(results["unmigrated"])
    assert "INC-12" in one_error_line(results["bad reference"])


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


async def _populate(url: str) -> None:
    """Five audited commands, written in-process (faster than five CLI runs)."""
    db = Database(url)
    ctx = Context(db=db, policy=default_policy())
    actor = Actor("slack", "U0ALICE", "alice")
    try:
        await migrate.upgrade(db)
        for text in ("declare Disk full P2", "note INC-1 a", "note INC-1 b", "note INC-1 c"):
            await execute(ctx, actor, parse(text))
        await execute(ctx, actor, parse("resolve INC-1 cleaned up"))
    finally:
        await db.dispose()


def _tamper(path: Path, sql: str) -> None:
    with sqlite3.connect(path) as conn:
        assert conn.execute(sql).rowcount == 1
    conn.close()


def test_audit_verify_detects_an_edited_row(cli: Cli) -> None:
    """``audit verify`` passes on an intact log; after one audit row's text is edited with
    sqlite3, it exits 1 with one line naming that entry."""
    asyncio.run(_populate(cli.url))
    assert cli.ok("audit", "verify").strip() == "audit chain intact: 5 entries"
    _tamper(cli.db_path, "UPDATE audit_log SET detail = 'nothing to see' WHERE seq = 3")
    result = cli("audit", "verify")
    assert result.returncode == 1
    line = one_error_line(result)
    assert "entry 3" in line
    assert "edited" in line


def test_audit_verify_detects_a_deleted_last_row(cli: Cli) -> None:
    """Deleting the newest audit row (which the chain alone cannot show) is caught through
    the recorded head: exit 1, one line saying entries were removed from the end."""
    asyncio.run(_populate(cli.url))
    _tamper(cli.db_path, "DELETE FROM audit_log WHERE seq = 5")
    result = cli("audit", "verify")
    assert result.returncode == 1
    line = one_error_line(result)
    assert "entry 5" in line
    assert "removed" in line
