"""Start-up errors of the real ``tocsin`` console script: a bad setting or policy file stops
``serve``, ``worker`` and the other subcommands, an unreachable database or a schema behind this
version stops the other subcommands (serve and worker wait for them, /ready says why), each with
one line on stderr (a JSON log object for ``serve``/``worker`` in the json log format,
``tocsin: ...`` otherwise), a non-zero exit (2 for bad configuration) and never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tocsin.storage import migrate

pytestmark = pytest.mark.slow

TOCSIN = Path(sys.executable).with_name("tocsin")
BOGUS = (
    "policy.toml: bogus: unknown key (expected admins, severity, permissions, schedule, "
    "escalation, component, default_severity, alert_route, monitor or person)"
)
P7 = "policy.toml: severity.P7: unknown severity (expected P1, P2, P3 or P4)"
PORT = "TOCSIN_PORT: must be an integer from 1 to 65535 (got 'eighty')"


def run(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``tocsin args`` in ``workdir`` with only ``env`` among the TOCSIN_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    clean["TOCSIN_DATABASE_URL"] = f"sqlite:///{workdir / 'tocsin.db'}"
    clean["TOCSIN_DATA_DIR"] = str(workdir / "data")
    clean.update(env)
    return subprocess.run(
        [str(TOCSIN), *args],
        cwd=workdir,
        env=clean,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The exit status is ``code``, stderr is exactly one line, no traceback anywhere."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def logged_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The one stderr line is a JSON log object at level error; returns its ``error``."""
    line = json.loads(error_line(result, code))
    assert line["level"] == "error"
    assert line["exit_code"] == code
    assert set(line) >= {"timestamp", "logger", "event"}
    return str(line["error"])


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "policy.toml").write_text("[bogus]\nx = 1\n", encoding="utf-8")
    (tmp_path / "p7").mkdir()
    (tmp_path / "p7" / "policy.toml").write_text("[severity.P7]\nannounce = true\n")
    return tmp_path


Case = tuple[tuple[str, ...], dict[str, str]]


def run_all(workdir: Path, runs: dict[str, Case]) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run the cases side by side (each start-up costs most of a second)."""
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = {
            name: pool.submit(run, workdir, *args, **env) for name, (args, env) in runs.items()
        }
        return {name: future.result() for name, future in futures.items()}


def test_a_bad_policy_file_is_one_line_on_every_command(workdir: Path) -> None:
    """An unknown key or severity in the policy file: serve and worker log one JSON error line
    (json format) or print the console line, other commands print the documented line; all
    exit 2."""
    p7 = str(workdir / "p7" / "policy.toml")
    results = run_all(
        workdir,
        {
            "serve json": (("serve",), {"TOCSIN_POLICY_FILE": "policy.toml"}),
            "serve console": (
                ("serve",),
                {"TOCSIN_POLICY_FILE": "policy.toml", "TOCSIN_LOG_FORMAT": "console"},
            ),
            "worker json": (("worker",), {"TOCSIN_POLICY_FILE": p7}),
            "incident list": (("incident", "list"), {"TOCSIN_POLICY_FILE": "policy.toml"}),
        },
    )
    assert logged_error(results["serve json"], 2) == BOGUS
    assert error_line(results["serve console"], 2) == f"tocsin: {BOGUS}"
    assert logged_error(results["worker json"], 2) == P7.replace("policy.toml", p7)
    assert error_line(results["incident list"], 2) == f"tocsin: {BOGUS}"


def test_a_bad_setting_is_one_line_in_the_log_format_in_use(workdir: Path) -> None:
    """A bad TOCSIN_PORT stops serve (JSON line, or console line with TOCSIN_LOG_FORMAT=console)
    and the CLI with exit 2; a bad TOCSIN_LOG_FORMAT itself falls back to a JSON line."""
    results = run_all(
        workdir,
        {
            "serve json": (("serve",), {"TOCSIN_PORT": "eighty"}),
            "serve console": (
                ("serve",),
                {"TOCSIN_PORT": "eighty", "TOCSIN_LOG_FORMAT": "console"},
            ),
            "worker bad format": (("worker",), {"TOCSIN_LOG_FORMAT": "loud"}),
            "deliveries list": (("deliveries", "list"), {"TOCSIN_PORT": "eighty"}),
        },
    )
    assert logged_error(results["serve json"], 2) == PORT
    assert error_line(results["serve console"], 2) == f"tocsin: {PORT}"
    assert logged_error(results["worker bad format"], 2) == (
        "TOCSIN_LOG_FORMAT: must be one of json or console (got 'loud')"
    )
    assert error_line(results["deliveries list"], 2) == f"tocsin: {PORT}"


def test_an_unreachable_database_is_one_line_exit_1(workdir: Path) -> None:
    """A CLI command against a PostgreSQL nobody listens on says it cannot reach the database,
    in one line, exit 1."""
    result = run(
        workdir, "incident", "list", TOCSIN_DATABASE_URL="postgresql://tocsin@127.0.0.1:1/tocsin"
    )
    line = error_line(result, 1)
    assert line.startswith("tocsin: cannot reach the database: ")
    assert "127.0.0.1" in line


def test_a_schema_behind_head_is_one_line_naming_both_revisions(workdir: Path) -> None:
    """A database one migration behind: a CLI command refuses at once with one line naming
    the schema's revision and the one it needs, exit 1, instead of failing in some query."""
    assert run(workdir, "db", "upgrade").returncode == 0
    assert run(workdir, "db", "downgrade").returncode == 0
    current = run(workdir, "db", "current").stdout.split()[0]
    head = migrate.head_revision()
    assert current != head
    line = error_line(run(workdir, "incident", "list"), 1)
    assert line == (
        f"tocsin: the database schema is at revision {current}, this tocsin needs {head} "
        "(run `tocsin db upgrade`)"
    )
