"""``tocsin page test PERSON``, the real console script against local fakes: one line per
contact method with its URL masked and ``ok`` or the error, exit 1 when one failed, 0 when all
worked, 2 for someone the policy file does not know."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.http_fake import FakeServer, Reply

pytestmark = pytest.mark.slow

TOCSIN = Path(sys.executable).with_name("tocsin")
TOKEN = "tk_9f8e7d6c5b4a"


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


def page_test(
    tmp_path: Path, fake: FakeServer, person: str, broken: bool
) -> subprocess.CompletedProcess[str]:
    port = fake.url.rstrip("/").rsplit(":", 1)[1]
    hook = "/broken" if broken else "/hook"
    (tmp_path / "policy.toml").write_text(
        f"""
[[person]]
id = "slack:U0ALICE"
name = "alice"
[person.contacts]
phone = "ntfy://127.0.0.1:{port}/alice?token={TOKEN}"
hook = "json://127.0.0.1:{port}{hook}"
mail = "mailto:alice@example.com"
"""
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env["TOCSIN_POLICY_FILE"] = str(tmp_path / "policy.toml")
    env["TOCSIN_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [str(TOCSIN), "page", "test", person, "--timeout", "20"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_page_test_reports_each_method_and_fails_when_one_does(
    tmp_path: Path, fake: FakeServer
) -> None:
    """ntfy answers, the webhook answers 500: a line per method (Slack DM and mail listed, not
    sent), the ntfy token masked, the failure with its reason, exit status 1; both fakes were
    really called."""
    fake.route("POST", "/broken", Reply(500, body="down for maintenance"))
    done = page_test(tmp_path, fake, "slack:U0ALICE", broken=True)
    lines = done.stdout.splitlines()
    port = fake.url.rstrip("/").rsplit(":", 1)[1]
    assert done.returncode == 1, done.stderr
    assert lines[0] == "slack: slack direct message: not tested here"
    assert lines[1] == f"phone: ntfy://127.0.0.1:{port}/alice?token=****: ok"
    assert lines[2].startswith(f"hook: json://127.0.0.1:{port}/broken: FAILED: Apprise could not")
    assert lines[3].startswith("mail: mailto:alice@example.com: not tested here")
    assert TOKEN not in done.stdout + done.stderr
    assert len(fake.requests_to("/")) == 1
    assert len(fake.requests_to("/broken")) == 1


def test_page_test_exits_zero_when_every_method_works(tmp_path: Path, fake: FakeServer) -> None:
    """Found by name; every method answered: exit 0, every sent line says ok."""
    done = page_test(tmp_path, fake, "alice", broken=False)
    assert done.returncode == 0, done.stderr
    assert [line.rsplit(": ", 1)[1] for line in done.stdout.splitlines()[1:3]] == ["ok", "ok"]


def test_page_test_of_an_unknown_person_is_a_clear_error(tmp_path: Path, fake: FakeServer) -> None:
    """Someone not in the policy file: one line on stderr, exit 2, nothing sent."""
    done = page_test(tmp_path, fake, "slack:U0NOBODY", broken=False)
    assert done.returncode == 2
    assert "no [[person]] 'slack:U0NOBODY'" in done.stderr
    assert fake.requests == []
